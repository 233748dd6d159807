"""Medicines across the systems that send them: reconciling their lists with the person
(decision 0042)."""
