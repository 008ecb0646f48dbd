"""The portal's calendar day: Asia/Shanghai's today, or the demo's (setting DEMO_TODAY).

Deadlines, 逾期 and open periods ask `today()`; a return's lateness asks `local_date()` of its submission. The
demo world is the 2022 campaign (武银〔2022〕45号, its targets, the LPR of those months), so `make run` sets
DEMO_TODAY to a day in January 2023 — the 2022年12月 sheet under review — instead of reading every return of
2022 as long overdue against the real date. Timestamps (submitted, approved, audited) stay real; with a demo
clock a moment after the demo's today reads as that day, so what a visitor does in the demo is on time when it
is before the demo's deadline.
"""

from datetime import date, datetime

from django.conf import settings
from django.utils import timezone


def today() -> date:
    """The local (Asia/Shanghai) calendar day, or DEMO_TODAY when the demo clock is set."""
    demo = getattr(settings, "DEMO_TODAY", None)
    return demo if demo is not None else timezone.localdate()


def local_date(moment: datetime) -> date:
    """The local calendar day of a stored moment; under the demo clock, no later than the demo's today."""
    day = timezone.localdate(moment)
    demo = getattr(settings, "DEMO_TODAY", None)
    return min(day, demo) if demo is not None else day


def is_demo() -> bool:
    return getattr(settings, "DEMO_TODAY", None) is not None
