"""Scores as the evaluation shows them: two decimals rounded half-up, "—" when undefined."""

from decimal import Decimal

from django import template

from evaluation import grading, scoring
from evaluation.models import ItemKind

register = template.Library()


@register.filter
def score(value, places=2):
    """15.155 → "15.16"; None → "—"."""
    return scoring.text(value, int(places))


@register.filter
def item_scores(row, table) -> list[str]:
    """A result row's item scores as 附件1 prints them: 定性 "18", 定量 "15.61" (scoring.item_text)."""
    return [
        scoring.item_text(s, qualitative=item.kind == ItemKind.QUALITATIVE)
        for s, item in zip(row.scores, table.ordered_items, strict=True)
    ]


@register.filter
def item_score(value, item) -> str:
    return scoring.item_text(value, qualitative=item.kind == ItemKind.QUALITATIVE)


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
