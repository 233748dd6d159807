"""`wholecare synth`: synthetic data sets, never real people.

wholecare synth talking-therapies --referrals N --seed S --out DIR [--format csv|parquet]
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from wholecare.synth import talking_therapies

SUBCOMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "talking-therapies": talking_therapies.main,
}


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    if args[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return 0
    if not args or args[0] not in SUBCOMMANDS:
        print(__doc__.strip(), file=sys.stderr)
        if args:
            print(f"wholecare synth: unknown data set {args[0]!r}", file=sys.stderr)
        return 2
    return SUBCOMMANDS[args[0]](args[1:])
