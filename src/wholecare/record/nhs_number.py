"""NHS number validation (NHS Data Dictionary: 10 digits, the tenth a modulus 11 check digit)."""

WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


class InvalidNHSNumber(ValueError):
    pass


def check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or None when the remainder makes the number invalid (10)."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, WEIGHTS, strict=True))
    digit = 11 - total % 11
    if digit == 11:
        return 0
    if digit == 10:
        return None
    return digit


def normalise(value: str) -> str:
    """Strip spaces and hyphens; raise InvalidNHSNumber saying what is wrong."""
    digits = value.replace(" ", "").replace("-", "").strip()
    if not digits:
        raise InvalidNHSNumber("Enter an NHS number")
    if not digits.isdigit():
        raise InvalidNHSNumber("An NHS number must contain only digits")
    if len(digits) != 10:
        raise InvalidNHSNumber(f"An NHS number must be 10 digits long (this one has {len(digits)})")
    expected = check_digit(digits[:9])
    if expected is None or expected != int(digits[9]):
        raise InvalidNHSNumber("This is not a valid NHS number: its check digit does not match")
    return digits


def is_valid(value: str) -> bool:
    try:
        normalise(value)
    except InvalidNHSNumber:
        return False
    return True


def formatted(digits: str) -> str:
    """The 3 3 4 layout that NHS staff read aloud and that the NHS.UK design system shows."""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
