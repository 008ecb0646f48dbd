"""Scores as the evaluation shows them: two decimals rounded half-up, "—" when undefined."""

from decimal import Decimal

from django import template

from evaluation import grading, scoring

register = template.Library()


@register.filter
def score(value, places=2):
    """15.155 → "15.16"; None → "—"."""
    return scoring.text(value, int(places))


@register.filter
def signed(value, places=2):
    """A difference: "+1.25", "-0.50", "0.00"; None → "—"."""
    shown = scoring.half_up(value, int(places))
    if shown is None:
        return "—"
    if shown == 0:
        return f"{Decimal(0):.{int(places)}f}"
    return f"{'+' if shown > 0 else '-'}{abs(shown):.{int(places)}f}"


@register.filter
def grade_label(code):
    return grading.GRADE_LABELS.get(code, "—")


@register.filter
def percent(value, places=1):
    """A share (0.953) as "95.3%"; None → "—"."""
    if value is None:
        return "—"
    return f"{scoring.half_up(Decimal(value) * 100, int(places)):.{int(places)}f}%"


@register.filter
def at(sequence, index):
    try:
        return sequence[int(index)]
    except (IndexError, TypeError, ValueError, KeyError):
        return None


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)
