from django.conf import settings


def session(request):
    """How long an idle session lives, for the page's expiry warning; the demo clock's day, when set."""
    return {
        "session_seconds": settings.SESSION_COOKIE_AGE,
        "demo_today": getattr(settings, "DEMO_TODAY", None),
    }
