"""The bulletin as an A4 PDF, through the portal's PDF machinery (portal/pdf.py: WeasyPrint with the
embedded, per-document subset TrueType CJK font, fetching nothing but that font)."""

from django.utils import timezone

from portal import pdf as machinery

from . import bulletin as composer


def bulletin_pdf(bulletin) -> bytes:
    return machinery.render(
        "indicators/pdf/bulletin.html",
        {
            "b": bulletin,
            "content": bulletin.content or {},
            "charts": composer.charts(bulletin.content or {}),
            "generated_at": timezone.now(),
        },
    )
