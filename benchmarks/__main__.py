import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    available = sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules([str(here)])
        if info.name.startswith("bench_")
    )
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Run Wholecare's benchmarks and print figures."
    )
    parser.add_argument("names", nargs="*", help=f"some of: {', '.join(available)} (default: all)")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(available))
    if unknown:
        parser.error(
            f"no benchmark called {', '.join(unknown)}; choose from {', '.join(available)}"
        )
    for name in args.names or available:
        print(f"\n== {name} ==", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"benchmarks.bench_{name}").run()
        print(f"({name}: {time.perf_counter() - started:.0f} s in all)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
