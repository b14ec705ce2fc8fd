"""Field names and liberal value coercion for VICS records.

Real VICS files give booleans and numbers as strings ("true", "2835"), and the
occasional number where text belongs. These helpers accept what is unambiguous
and raise `RecordProblem` (which rejects one record, not the file) for the rest.
"""

from __future__ import annotations

from typing import Any

# Keys are compared in lower case; only these are built, everything else is skipped.
MEDIA_FIELDS = frozenset(
    {
        "mediaid",
        "category",
        "md5",
        "sha1",
        "sha256",
        "photodna",
        "mediasize",
        "mimetype",
        "relativefilepath",
        "dateupdated",
        "isprecategorized",
        "isdistributed",
        "issuspected",
        "victimidentified",
        "offenderidentified",
        "series",
        "tags",
        "comments",
        "alternativehashes",
        "mediafiles",
    }
)
CASE_FIELDS = frozenset(
    {
        "caseid",
        "casenumber",
        "contactemail",
        "sourceapplicationname",
        "sourceapplicationversion",
        "totalmediafiles",
    }
)
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


class VicsError(ValueError):
    """The file cannot be read further; the message says where and why."""


class RecordProblem(ValueError):
    """Why one record is rejected; the message is shown to the importing analyst."""


def as_int(value: Any, name: str, *, minimum: int | None = None) -> int | None:
    """A whole number from an int, an integral float or a numeric string; "" is None."""
    result: int | None
    if value is None or isinstance(value, bool):
        result = None if value is None else _fail(name, "a whole number", value)
    elif isinstance(value, int):
        result = value
    elif isinstance(value, float) and value.is_integer():
        result = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            result = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                number = float("nan")
            if not number.is_integer():
                _fail(name, "a whole number", value)
            result = int(number)
    else:
        _fail(name, "a whole number", value)
    if result is not None and minimum is not None and result < minimum:
        raise RecordProblem(f"{name} must be at least {minimum}, not {result}")
    return result


def as_bool(value: Any, name: str) -> bool | None:
    """A boolean from true/false, 1/0, or their spellings as strings; "" is None."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    _fail(name, "true or false", value)
    return None  # pragma: no cover - _fail raises


def as_str(value: Any, name: str) -> str | None:
    """Text, stripped; a number given where text belongs becomes its digits."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    _fail(name, "text", value)
    return None  # pragma: no cover - _fail raises


def _fail(name: str, expected: str, value: Any) -> Any:
    shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    raise RecordProblem(f"{name} must be {expected}, not {shown[:40]}")
