"""Numbers as officers read them: thousands separators, the field's decimals, "—" for missing/undefined."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


def _decimal(value):
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def num(value, places=None):
    """1234.5 → "1,234.5"; with places, fixed decimals; missing → "—"."""
    d = _decimal(value)
    if d is None:
        return "—"
    if places is None or places == "":
        places = max(0, -d.normalize().as_tuple().exponent)
    return f"{d:,.{int(places)}f}"


@register.filter
def pct(value, places=1):
    """A share (0.253) as a percentage (25.3%); undefined → "—"."""
    d = _decimal(value)
    return "—" if d is None else f"{d * 100:.{int(places)}f}%"


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key)
