"""Parse the cell values of vendor exports: numbers, dates, flags.

Every parser returns None for a value it cannot read; the caller then leaves
the metric out instead of rejecting the row, because a backlink is still worth
verifying when its Domain Rating is garbled.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

#: Cell values that mean "no value" in some export or other.
PLACEHOLDERS = frozenset({"", "-", "--", "—", "–", "n/a", "na", "null", "none", "nan", "?"})

_TRUE = frozenset({"true", "yes", "y", "t", "1", "+", "x"})
_FALSE = frozenset({"false", "no", "n", "f", "0", "-"})

# Spaces of every kind are thousands separators in French and Swiss exports.
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_PLAIN = re.compile(r"-?\d+(?:\.\d+)?")
_GROUPED_COMMA = re.compile(r"-?[1-9]\d{0,2}(?:,\d{3})+")
_GROUPED_DOT = re.compile(r"-?[1-9]\d{0,2}(?:\.\d{3})+")


def is_blank(value: str) -> bool:
    """True for an empty cell or a placeholder such as '-' or 'n/a'.

    >>> is_blank(" - "), is_blank("0")
    (True, False)
    """
    return value.strip().lower() in PLACEHOLDERS


def parse_number(value: str) -> int | float | None:
    """A number from a US or European export; None when it is not one.

    A single separator followed by exactly three digits is read as a thousands
    separator ("1.234" and "1,234" are 1234): vendor metrics such as traffic
    are counts far more often than they are three-decimal fractions.

    >>> parse_number("1,234"), parse_number("1.234"), parse_number("12,5"), parse_number("45.5")
    (1234, 1234, 12.5, 45.5)
    >>> parse_number("1.234,56"), parse_number("1 234"), parse_number("3%"), parse_number("abc")
    (1234.56, 1234, 3, None)
    >>> parse_number("0.125"), parse_number("nan")
    (0.125, None)
    """
    text = _SPACES.sub("", value.strip()).removesuffix("%")
    if "," in text and "." in text:
        # Whichever separator comes last is the decimal one.
        thousands = "," if text.rfind(",") < text.rfind(".") else "."
        text = text.replace(thousands, "").replace(",", ".")
    elif "," in text:
        text = text.replace(",", "") if _GROUPED_COMMA.fullmatch(text) else text.replace(",", ".")
    elif _GROUPED_DOT.fullmatch(text):
        text = text.replace(".", "")
    if not _PLAIN.fullmatch(text):
        return None
    return float(text) if "." in text else int(text)


def parse_bool(value: str) -> bool | None:
    """A yes/no flag as vendors write it ('TRUE', 'yes', '1', '+'/'-' in Majestic).

    >>> parse_bool("TRUE"), parse_bool("-"), parse_bool("maybe")
    (True, False, None)
    """
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def parse_link_type(value: str) -> bool | None:
    """Whether a 'Link type' cell says nofollow; None when it names something else.

    >>> parse_link_type("Nofollow"), parse_link_type("dofollow"), parse_link_type("image")
    (True, False, None)
    """
    text = _SPACES.sub("", value.strip().lower()).replace("-", "")
    if "nofollow" in text:
        return True
    if "follow" in text:
        return False
    return None


# Month names and abbreviations, keyed by their first three letters; only the
# languages the Search Console aliases cover (best effort, see formats.py).
_MONTHS = {
    **dict.fromkeys(("jan", "ene", "gen"), 1),
    **dict.fromkeys(("feb", "fév", "fev"), 2),
    **dict.fromkeys(("mar", "mär", "mrz", "mrt"), 3),
    **dict.fromkeys(("apr", "abr", "avr"), 4),
    **dict.fromkeys(("may", "mai", "mag", "mei"), 5),
    **dict.fromkeys(("jun", "giu"), 6),
    **dict.fromkeys(("jul", "lug"), 7),
    **dict.fromkeys(("aug", "ago", "aoû", "aou"), 8),
    **dict.fromkeys(("sep", "set"), 9),
    **dict.fromkeys(("oct", "okt", "ott", "out"), 10),
    **dict.fromkeys(("nov",), 11),
    **dict.fromkeys(("dec", "déc", "dez", "dic"), 12),
}

_YMD = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})(?!\d)")
_NUMERIC = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})(?!\d)")
_DAY_MONTH = re.compile(r"(\d{1,2})\.?\s+(?:de\s+)?([^\W\d_]+)\.?,?\s+(?:de\s+)?(\d{4})(?!\d)")
_MONTH_DAY = re.compile(r"([^\W\d_]+)\.?\s+(\d{1,2}),?\s+(\d{4})(?!\d)")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_EPOCH = re.compile(r"\d{9,10}|\d{12,13}")


def _month(name: str) -> int | None:
    name = name.lower()
    if name.startswith("juil"):  # French juin/juillet share their first three letters
        return 7
    return _MONTHS.get(name[:3])


def _iso(year: int, month: int | None, day: int) -> str | None:
    if month is None:
        return None
    if year < 100:
        year += 2000 if year < 70 else 1900
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(value: str, day_first: bool = False) -> str | None:
    """An ISO date (YYYY-MM-DD) from the date formats exports use; a time part is dropped.

    `day_first` decides slash dates such as 05/03/2024 where both readings are
    valid; the header language of a localised export tells which one it is.

    >>> parse_date("2024-03-05 10:11:12"), parse_date("3/5/24"), parse_date("05.03.2024")
    ('2024-03-05', '2024-03-05', '2024-03-05')
    >>> parse_date("5 Mar 2024"), parse_date("Mar 5, 2024"), parse_date("5. März 2024")
    ('2024-03-05', '2024-03-05', '2024-03-05')
    >>> parse_date("05/03/2024", day_first=True), parse_date("25/03/2024"), parse_date("soon")
    ('2024-03-05', '2024-03-25', None)
    """
    text = value.strip()
    if match := _YMD.match(text):
        year, month, day = (int(part) for part in match.groups())
        return _iso(year, month, day)
    if match := _DOTTED.match(text):
        day, month, year = (int(part) for part in match.groups())
        return _iso(year, month, day)
    if match := _NUMERIC.match(text):
        first, second, year = (int(part) for part in match.groups())
        # An impossible month settles the order whatever the hint says.
        if (day_first and second <= 12) or first > 12:
            return _iso(year, second, first)
        return _iso(year, first, second)
    if match := _DAY_MONTH.match(text):
        return _iso(int(match[3]), _month(match[2]), int(match[1]))
    if match := _MONTH_DAY.match(text):
        return _iso(int(match[3]), _month(match[1]), int(match[2]))
    if match := _COMPACT.fullmatch(text):
        return _iso(int(match[1]), int(match[2]), int(match[3]))
    if _EPOCH.fullmatch(text):
        seconds = int(text) / (1000 if len(text) > 10 else 1)
        return datetime.fromtimestamp(seconds, UTC).date().isoformat()
    return None
