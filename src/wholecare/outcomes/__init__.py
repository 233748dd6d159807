"""NHS Talking Therapies outcome metrics: recovery, reliable change and waits, per referral.

Pure Python, no Django. `spec.referral_outcome` is the executable specification for one
referral; `pipeline` expresses the same rules once in Ibis and runs them on DuckDB or Spark;
`cli` is `wholecare outcomes`. See docs/outcomes.md and docs/formats/outcomes.md.
"""
