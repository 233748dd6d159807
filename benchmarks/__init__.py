"""Speed and memory benchmarks: `make bench` (or `python -m benchmarks [name ...]`) prints figures.

Targets live here, not in timed tests. Each `bench_<name>.py` module has a `run() -> None`.
"""
