"""What every export shares: text for a spreadsheet cell that can never run as a formula."""

from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Any) -> str:
    """Text for a cell that must never become a formula (CSV/formula injection, OWASP).

    A leading =, +, -, @, tab or CR gets a single-quote prefix; characters XML cannot hold are dropped.
    """
    text = ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text
