"""Durations as people say them: a delay stored in minutes, written and read in the largest
whole unit (2880 minutes is "2 days"), and a number of seconds in words ("5 minutes")."""

from __future__ import annotations

# Largest first: a delay is shown in the first unit that divides it.
DELAY_UNITS = {"days": 24 * 60, "hours": 60, "minutes": 1}
UNIT_NAMES = {"days": ("day", "days"), "hours": ("hour", "hours"), "minutes": ("minute", "minutes")}


def in_largest_whole_unit(minutes: int) -> tuple[int, str]:
    """(2, "days") for 2880; a delay of 0 stays in minutes."""
    for unit, size in DELAY_UNITS.items():
        if minutes and minutes % size == 0:
            return minutes // size, unit
    return minutes, "minutes"


def delay_in_words(minutes: int) -> str:
    """ "2 days", "1 hour", "90 minutes"."""
    number, unit = in_largest_whole_unit(minutes)
    one, many = UNIT_NAMES[unit]
    return f"{number} {one if number == 1 else many}"


DURATION_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def duration_text(seconds: int) -> str:
    """A number of seconds as a person says it: "5 minutes", "1 hour 30 minutes", "45 seconds"
    (the two largest units, as the settings' own bounds say "one day")."""
    parts = []
    for unit, size in DURATION_UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts[:2]) or "0 seconds"
