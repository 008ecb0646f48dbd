"""Site-wide middleware: the Content-Security-Policy header, and /healthz answered before sessions.

Both sit right after WhiteNoise in settings.MIDDLEWARE (static files never reach them).
"""

from django.conf import settings
from django.urls import reverse

from portal.views import healthz

# Everything the portal serves comes from its own origin: scripts and styles only as files under static/
# (no inline <script>, on…= handlers or style= attributes — tests/portal/test_csp.py greps the templates), images
# also as data: URIs (Swagger UI's icons). frame-ancestors is filled in per response, see below.
POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
)


def content_security_policy(frame_ancestors: str) -> str:
    return "; ".join((*POLICY, f"frame-ancestors {frame_ancestors}"))


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every HTML response (settings.CSP_REPORT_ONLY sends it as report-only).

    frame-ancestors mirrors X-Frame-Options, which XFrameOptionsMiddleware has set by the time this outer
    middleware sees the response: 'none' for DENY, 'self' where a view opted into SAMEORIGIN — a document's
    own preview (reporting.views.document_download, @xframe_options_sameorigin). The preview itself is a PDF
    and gets no policy (the rest does not apply to it, and Chromium's PDF viewer must not meet object-src
    'none'); it keeps X-Frame-Options: SAMEORIGIN and receives `frame-ancestors 'self'` alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        header = (
            "Content-Security-Policy-Report-Only" if settings.CSP_REPORT_ONLY else "Content-Security-Policy"
        )
        if header in response:  # a view that set its own policy knows better
            return response
        framing = response.get("X-Frame-Options", "DENY").upper()
        ancestors = "'self'" if framing == "SAMEORIGIN" else "'none'"
        if response.get("Content-Type", "").startswith("text/html"):
            response[header] = content_security_policy(ancestors)
        elif ancestors == "'self'":
            response[header] = f"frame-ancestors {ancestors}"
        return response


class HealthzBeforeSessionMiddleware:
    """Answers /healthz before the session and auth middleware run.

    With a session cookie on the request, SessionMiddleware saves the session on the way out
    (SESSION_SAVE_EVERY_REQUEST) — a database write, which during an outage raised and turned the health
    check's 503 into a 500. The check needs no session, user, CSRF or messages, so it skips them all.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.path = reverse("healthz")

    def __call__(self, request):
        if request.path_info == self.path:
            return healthz(request)
        return self.get_response(request)
