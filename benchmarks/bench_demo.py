"""`wholecare demo` time and peak memory: 5,000 and 50,000 people, each into a new SQLite file.

Target (issue 2): 50,000 people in under 3 minutes and under 2 GB. The time includes migrating the
empty database, as a first `make run` does. Peak memory is the child's own maximum resident set size
(`os.wait4` reports it for that one process).
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (5_000, 50_000)
TARGET_PEOPLE, TARGET_SECONDS, TARGET_MB = 50_000, 180, 2048


def measure(people: int) -> tuple[float, float]:
    """Wall seconds and peak resident megabytes of one `wholecare demo --people N --seed 1`."""
    with tempfile.TemporaryDirectory(prefix="wholecare-bench-demo-") as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'db.sqlite3'}",
            "WHOLECARE_VAR_DIR": tmp,
        }
        command = [sys.executable, "-m", "wholecare.cli", "demo", "--people", str(people)]
        with open(Path(tmp) / "stderr.txt", "w+b") as stderr:
            started = time.perf_counter()
            child = subprocess.Popen(
                [*command, "--seed", "1"], env=env, stdout=subprocess.DEVNULL, stderr=stderr
            )
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - started
            child.returncode = os.waitstatus_to_exitcode(status)
            if child.returncode != 0:
                stderr.seek(0)
                tail = stderr.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"wholecare demo failed ({child.returncode}):\n{tail}")
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is in kilobytes on Linux


def run() -> None:
    print(f"wholecare demo into a fresh SQLite database ({os.cpu_count()} CPUs):", flush=True)
    for people in SIZES:
        seconds, megabytes = measure(people)
        line = f"  {people:>6,} people: {seconds:6.1f} s wall, {megabytes:6.0f} MB peak RSS"
        if people == TARGET_PEOPLE:
            met = seconds < TARGET_SECONDS and megabytes < TARGET_MB
            line += (
                f" (target < {TARGET_SECONDS} s and < {TARGET_MB:,} MB: "
                f"{'met' if met else 'NOT MET'})"
            )
        print(line, flush=True)
