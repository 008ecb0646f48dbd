"""What the browser tests share beyond the fixtures of tests/browser/conftest.py: a session made without the
login form, and a watch on the page for what the Content-Security-Policy refuses or a script throws."""

from django.conf import settings
from django.test import Client


def sign_in(page, live_server, user) -> None:
    """A session made by Django itself, so this test does not depend on the login form's steps."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


REFUSALS = ("Content Security Policy", "Refused to")

# Chromium logs each refusal to the console; the page's own securitypolicyviolation event is reported too, in
# case a refusal is only an event (both end up in the same list). Playwright injects this past the policy.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("Refused to load or apply (securitypolicyviolation): " + e.violatedDirective + " " + e.blockedURI);
});
"""
OWN_RESOURCES = {"script", "stylesheet", "image", "font", "fetch", "xhr"}


def watch(page) -> list[str]:
    """Start recording the page's problems; returns the (growing) list."""
    problems: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)

    def on_console(message):
        if any(phrase in message.text for phrase in REFUSALS):
            problems.append(f"console {message.type}: {message.text}")

    def on_response(response):
        if response.status >= 400 and response.request.resource_type in OWN_RESOURCES:
            problems.append(f"{response.status} {response.request.resource_type} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("response", on_response)
    return problems


def visit(page, problems: list[str], path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    assert response.headers.get("content-security-policy", "").startswith("default-src 'self'"), path
    page.wait_for_load_state("networkidle")
    assert problems == [], f"{path}: {problems}"
