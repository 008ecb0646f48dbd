"""The audit browser's words for actions and changes (audit/labels.py)."""

from django import template

from audit import labels

register = template.Library()


@register.filter
def action_label(code: str) -> str:
    return labels.action_label(code)


@register.filter
def changes_display(changes) -> list[tuple[str, str]]:
    return labels.changes_display(changes)
