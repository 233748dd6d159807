"""NHS small-number suppression for published figures (NHS England statistical disclosure control):
counts from 1 to 7 are shown as `*`, other counts are rounded to the nearest 5, and a rate is
withheld
whenever its numerator or denominator is suppressed.
"""

SUPPRESSED = "*"
SMALLEST_SHOWN = 8
ROUND_TO = 5


def suppress(count: int) -> int | str:
    """The count as published: 0 stays 0, 1-7 become `*`, others round to the nearest 5."""
    if count < 0:
        raise ValueError(f"a count cannot be negative ({count})")
    if count == 0:
        return 0
    if count < SMALLEST_SHOWN:
        return SUPPRESSED
    return (count + ROUND_TO // 2) // ROUND_TO * ROUND_TO


def suppress_count(count: int) -> str:
    return str(suppress(count))


def suppress_rate(numerator: int, denominator: int) -> str:
    """The rate as a percentage to one decimal place, computed from the unrounded counts."""
    if denominator == 0:
        return ""
    if SUPPRESSED in (suppress_count(numerator), suppress_count(denominator)):
        return SUPPRESSED
    return f"{100 * numerator / denominator:.1f}"
