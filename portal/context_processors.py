from django.conf import settings


def session(request):
    """How long an idle session lives, for the page's expiry warning."""
    return {"session_seconds": settings.SESSION_COOKIE_AGE}
