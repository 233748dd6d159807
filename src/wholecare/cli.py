"""The `wholecare` command.

`wholecare serve` runs the production WSGI server (gunicorn), `wholecare demo` builds the synthetic
demonstration area, and every other word is handed to Django's management commands
(`wholecare migrate`, `wholecare createsuperuser`, ...) or to a Wholecare tool registered in
`TOOLS`.
"""

import argparse
import os
import sys
from collections.abc import Callable, Sequence

TOOLS: dict[str, str] = {
    # word -> "module:function" taking argv (after the word) and returning an exit code
    "serve": "wholecare.server:main",
    "outcomes": "wholecare.outcomes.cli:main",
    "synth": "wholecare.synth:main",
}


def _load(target: str) -> Callable[[Sequence[str]], int]:
    module_name, _, function_name = target.partition(":")
    module = __import__(module_name, fromlist=[function_name])
    function: Callable[[Sequence[str]], int] = getattr(module, function_name)
    return function


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wholecare.settings")
    if not args or args[0] in {"-h", "--help"}:
        parser = argparse.ArgumentParser(prog="wholecare", description=__doc__)
        parser.print_help()
        print("\ncommands: " + ", ".join(sorted([*TOOLS, "demo", "<django management command>"])))
        return 0
    if args[0] in TOOLS:
        return _load(TOOLS[args[0]])(args[1:])
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    try:
        execute_from_command_line(["wholecare", *args])
    except SystemExit as exit_:
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
