"""Wholecare: the shared care record of an integrated care organisation."""
