"""Ids and search values that name a row by its database key."""

_LARGEST_KEY = 2**63 - 1


def record_key(value: str) -> int | None:
    """The key `value` names: ASCII digits within a 64-bit integer, else None.

    `str.isdigit` alone is not enough: it accepts '²' (which `int` refuses) and numbers too large
    for the database's integer column.
    """
    if not (value.isascii() and value.isdigit()):
        return None
    key = int(value)
    return key if key <= _LARGEST_KEY else None
