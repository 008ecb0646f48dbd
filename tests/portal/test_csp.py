"""The Content-Security-Policy (portal/middleware.py): the exact header, the document preview's framing
exemption, the report-only switch, and templates free of what the policy would refuse.

tests/browser/test_csp.py visits the pages in Chromium and fails on any refusal it logs."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from reporting import services
from reporting.models import Form

ROOT = Path(__file__).resolve().parents[2]

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)


def test_a_page_carries_the_exact_policy(client_for):
    response = client_for("officer_in").get(reverse("home"))

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == POLICY
    assert response["X-Frame-Options"] == "DENY"


def test_the_login_page_and_error_pages_carry_it_too(client, settings):
    settings.DEBUG = False
    assert client.get(reverse("login"))["Content-Security-Policy"] == POLICY
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and missing["Content-Security-Policy"] == POLICY


def test_report_only_switch_sends_the_same_policy_without_enforcing_it(client_for, settings):
    settings.CSP_REPORT_ONLY = True

    response = client_for("officer_in").get(reverse("home"))

    assert response["Content-Security-Policy-Report-Only"] == POLICY
    assert "Content-Security-Policy" not in response


def test_json_and_downloads_get_no_page_policy(client_for):
    response = client_for("officer_in").get("/api/v1/me/")
    assert response["Content-Type"].startswith("application/json")
    assert "Content-Security-Policy" not in response


def test_a_documents_preview_may_be_framed_by_its_own_origin_only(campaign, users, master, client_for):
    from reporting.demo import demo_pdf

    services.save_document(
        institution=master["A"],
        period=campaign[Form.WORK_PLAN],
        actor=users["filer_a"],
        data=demo_pdf("work plan"),
        filename="方案.pdf",
    )
    base = f"/reporting/institutions/{master['A'].pk}/periods/{campaign[Form.WORK_PLAN].pk}/"
    client = client_for("filer_a")

    preview = client.get(base + "document/1/")
    assert preview["Content-Type"] == "application/pdf"
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    # the frame-ancestors twin of SAMEORIGIN, and nothing else: object-src 'none' is no business of a PDF's
    assert preview["Content-Security-Policy"] == "frame-ancestors 'self'"

    # the page that frames it may itself be framed by nobody, and may frame only its own origin (default-src)
    page = client.get(base)
    assert page.status_code == 200 and 'class="preview"' in page.content.decode()
    assert page["Content-Security-Policy"] == POLICY


def test_api_docs_load_swagger_ui_from_files_only(client_for):
    client = client_for("filer_a")

    page = client.get(reverse("api-docs"))
    html = page.content.decode()
    assert page.status_code == 200 and page["Content-Security-Policy"] == POLICY
    assert not inline_problems(html), inline_problems(html)
    assert "swagger-ui-bundle.js" in html and "css/swagger.css" in html
    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', html).group(1).replace("&amp;", "&")

    script = client.get(script_url)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


# --- no inline script, handler or style in what the portal renders ------------------------------------------

# What style-src 'self' / script-src 'self' refuse. A <script> with src= or a JSON data block (json_script) is fine.
INLINE = {
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
    "<style> block": re.compile(r"<style\b", re.I),
    "on…= handler": re.compile(r"\son[a-z]+\s*=\s*[\"'{]", re.I),
    "style= attribute": re.compile(r"\sstyle\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}
# Rendered by WeasyPrint into PDFs, never served to a browser.
PDF_ONLY = (ROOT / "templates" / "evaluation" / "pdf", ROOT / "templates" / "indicators" / "pdf")


def inline_problems(text: str) -> list[str]:
    return [name for name, pattern in INLINE.items() if pattern.search(text)]


def browser_templates() -> list[Path]:
    found = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]
    return sorted(p for p in found if not set(PDF_ONLY) & set(p.parents) and ".venv" not in p.parts)


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<form onsubmit="return confirm(1)">',
        '<select onchange="this.form.submit()">',
        '<div class="bar" style="width:3%">',
        "<style>p { color: red }</style>",
        '<a href="javascript:void(0)">',
    ],
)
def test_the_template_check_spots_each_kind_of_inline_code(snippet):
    assert inline_problems(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="/static/js/portal.js"></script>',
        '<script id="trend-data" type="application/json">{"a": 1}</script>',
        '<select name="rank" data-autosubmit>',
        '<rect class="fill" width="40" height="10"/>',
        '<form data-confirm="确定？">',
    ],
)
def test_the_template_check_lets_files_and_data_through(snippet):
    assert not inline_problems(snippet)


def test_no_browser_template_has_inline_script_handlers_or_styles():
    templates = browser_templates()
    assert len(templates) > 40 and ROOT / "templates" / "base.html" in templates
    offenders = {
        str(path.relative_to(ROOT)): problems
        for path in templates
        if (problems := inline_problems(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
