"""The access matrix: every page route (from the URL resolver) and every API operation (from the OpenAPI
schema, i.e. what /api/schema/ serves) × every role × read and write, compared with the explicit table below.

Every URL is filled with objects of 工商银行 (bank A): its monthly sheets in each state, its 工作方案 file,
its evidence and supervision record, the evaluations it takes part in, an import job and a report job. So
湖北银行's filer (bank B) and the officer of 宜昌 (outside the jurisdiction) are always probing another
institution's objects, and must get nothing but a 404.

Outcome classes (one word per cell of the table):

  ok       2xx, or a redirect within the portal, with no error message flashed
  refused  a page form the service turned down: 2xx/3xx with an error message flashed, nothing changed
  login    a redirect to the login page (pages) or 401 (API)
  deny     403: the user may see the object (or no object is named) but their role may not do this
  hide     404: the object belongs to an institution, jurisdiction or user outside the user's reach — the
           portal answers exactly as for an id that does not exist (SECURITY.md: "reveals nothing")
  bad      400 / 409 / 422: the API refused the empty write (validation, state) — only for roles that may
           write; a role that may not gets deny or hide before the body is looked at
  nometh   405: the route does not take the method (GET on a POST-only form)

A page that only reads answers GET and HEAD alone (require_safe: its POST row is nometh once signed in); a
page that changes something takes POST only. A 5xx is a failure in every cell. Writes are empty (a few carry the id of bank A's object in the body where
the route takes it there, see WRITE_DATA). Each cell runs in its own savepoint, rolled back after the
request, so a write in one cell (an approval, a new token) never changes what the next cell sees; the world
itself is built once for the module inside a transaction that is rolled back at the end.
"""

import json
import re
from datetime import date
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.contrib import messages
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client, override_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token

from evaluation import services as evaluation_services
from evaluation.models import ItemKind, ReportJob
from indicators import services as indicator_services
from institutions.models import Institution, PbocOffice, Role
from institutions.services import load_master_data
from reporting import services
from reporting.demo import demo_pdf
from reporting.models import Filing, Form, ImportJob, Period, VersionSource
from tests.factories import make_user, sheet_values
from tests.worlds import CSV

ROLES = ("anonymous", "filer_a", "signer_a", "filer_b", "officer_in", "officer_out", "pboc_admin")
CLASSES = {"ok", "refused", "login", "deny", "hide", "bad", "nometh"}
# Only these pages answer an anonymous visitor with anything but the login page (static files and the
# English catalogue are served outside the URL resolver).
PUBLIC = {"login", "healthz", "set_language", "password_reset_confirm", "password_reset_complete"}

# --- the table ----------------------------------------------------------------------------------------------
# Columns in the order of ROLES:  anonymous  filer_a  signer_a  filer_b  officer_in  officer_out  pboc_admin

# fmt: off
PAGES = {
    # site
    "home":                        {"GET":  "login   ok      ok      ok      ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "healthz":                     {"GET":  "ok      ok      ok      ok      ok      ok      ok",
                                    "POST": "nometh  nometh  nometh  nometh  nometh  nometh  nometh"},
    "set_language":                {"GET":  "ok      ok      ok      ok      ok      ok      ok",
                                    "POST": "ok      ok      ok      ok      ok      ok      ok"},
    "schema":                      {"GET":  "login   ok      ok      ok      ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "api-docs":                    {"GET":  "login   ok      ok      ok      ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    # accounts: signing in goes to the home page; signing out (and a 2FA step with no password step
    # before it) lands on the login page
    "login":                       {"GET":  "ok      ok      ok      ok      ok      ok      ok",
                                    "POST": "ok      ok      ok      ok      ok      ok      ok"},
    "logout":                      {"GET":  "nometh  nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   login   login   login   login   login   login"},
    "login_2fa":                   {"GET":  "login   login   login   login   login   login   login",
                                    "POST": "login   login   login   login   login   login   login"},
    "api_token":                   {"GET":  "login   ok      ok      ok      ok      ok      ok",
                                    "POST": "login   ok      ok      ok      ok      ok      ok"},
    # issued tokens: one's own, and for an admin those of the jurisdiction; the write revokes bank A's
    # filer's token
    "api_tokens":                  {"GET":  "login   ok      ok      ok      ok      ok      ok",
                                    "POST": "login   ok      hide    hide    hide    hide    ok"},
    # one's own password; an admin e-mails a reset link to a user they manage (filer_a has no e-mail: refused);
    # the e-mailed link's pages are public (an unknown link says it is invalid)
    "password_change":             {"GET":  "login   ok      ok      ok      ok      ok      ok",
                                    "POST": "login   ok      ok      ok      ok      ok      ok"},
    "password_change_done":        {"GET":  "login   ok      ok      ok      ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "password_reset_confirm":      {"GET":  "ok      ok      ok      ok      ok      ok      ok",
                                    "POST": "ok      ok      ok      ok      ok      ok      ok"},
    "password_reset_complete":     {"GET":  "ok      ok      ok      ok      ok      ok      ok",
                                    "POST": "nometh  nometh  nometh  nometh  nometh  nometh  nometh"},
    "user_passwords":              {"GET":  "login   deny    deny    deny    deny    deny    ok",
                                    "POST": "login   deny    deny    deny    deny    deny    refused"},
    "keepalive":                   {"GET":  "login   ok      ok      ok      ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "two_factor":                  {"GET":  "login   deny    deny    deny    ok      ok      ok",
                                    "POST": "login   deny    deny    deny    ok      ok      ok"},
    # audit: PBoC admins only
    "audit:log":                   {"GET":  "login   deny    deny    deny    deny    deny    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "audit:export":                {"GET":  "login   deny    deny    deny    deny    deny    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    # reporting: lists scoped to what the user sees; officers' tools
    "reporting:list":              {"GET":  "login   ok      ok      ok      ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "reporting:matrix":            {"GET":  "login   deny    deny    deny    ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "reporting:bulk_approve":      {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    deny    ok      ok      ok"},
    "reporting:bulk_import":       {"GET":  "login   deny    deny    deny    ok      ok      ok",
                                    "POST": "login   deny    deny    deny    refused refused refused"},
    "reporting:contacts_export":   {"GET":  "login   deny    deny    deny    ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "reporting:bulk_template":     {"GET":  "login   deny    deny    deny    ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    # an import job is seen by the officer who started it, no one else
    "reporting:job":               {"GET":  "login   hide    hide    hide    ok      hide    hide",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "reporting:job_status":        {"GET":  "login   hide    hide    hide    ok      hide    hide",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    # the import's creator decides on its preview (the fixture's job is done: a confirmation is refused)
    "reporting:job_confirm":       {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   hide    hide    hide    refused hide    hide"},
    "reporting:job_preview_again": {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   hide    hide    hide    refused hide    hide"},
    # 催报 and the log of every reminder sent: PBoC only, scoped to the jurisdiction (officer_out follows
    # none of the provincial banks: nothing to urge)
    "reporting:urge":              {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    deny    ok      refused ok"},
    "indicators:campaign":          {"GET":  "login   deny    deny    deny    deny    deny    ok",
                                    "POST": "login   deny    deny    deny    deny    deny    ok"},
    "reporting:reminders":         {"GET":  "login   deny    deny    deny    ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    # bank A's returns: its filer and signer prepare, its signer submits, officers following it review
    "reporting:sheet":             {"GET":  "login   ok      ok      hide    ok      hide    ok",
                                    "POST": "login   ok      ok      hide    deny    hide    deny"},
    "reporting:template":          {"GET":  "login   ok      ok      hide    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "reporting:upload":            {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   refused refused hide    deny    hide    deny"},
    "reporting:submit":            {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    refused hide    deny    hide    deny"},
    "reporting:approve":           {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    hide    ok      hide    ok"},
    "reporting:return":            {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    hide    refused hide    refused"},
    "reporting:reopen":            {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    hide    refused hide    refused"},
    "reporting:findings":          {"GET":  "login   ok      ok      hide    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "reporting:history":           {"GET":  "login   ok      ok      hide    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "reporting:document":          {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   refused refused hide    deny    hide    deny"},
    "reporting:document_file":     {"GET":  "login   ok      ok      hide    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    # indicators: a bank sees its own institution's page; officers the jurisdiction
    "indicators:dashboard":        {"GET":  "login   ok      ok      ok      ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "indicators:table":            {"GET":  "login   ok      ok      ok      ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "indicators:institution":      {"GET":  "login   ok      ok      hide    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "indicators:explain":          {"GET":  "login   ok      ok      hide    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "indicators:refresh":          {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    deny    deny    deny    ok"},
    # a refresh recomputes everyone's values: PBoC users follow any run, banks none
    "indicators:refresh_run":      {"GET":  "login   deny    deny    deny    ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "indicators:refresh_status":   {"GET":  "login   deny    deny    deny    ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "indicators:supervision":      {"GET":  "login   deny    deny    deny    ok      ok      ok",
                                    "POST": "login   deny    deny    deny    refused hide    refused"},
    # bank A's own users reach its supervision record, and the service turns them down with a message
    "indicators:follow_up":        {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   refused refused hide    ok      hide    ok"},
    "indicators:export_province":  {"GET":  "login   deny    deny    deny    ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "indicators:export_institutions": {"GET": "login ok      ok      ok      ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    # the month's bulletin drafted by 营业管理部's officer: PBoC only (banks refused before any lookup), seen
    # by its office and the offices above it; generating with no month is turned down with a message
    "indicators:bulletins":        {"GET":  "login   deny    deny    deny    ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "indicators:bulletin_generate": {"GET": "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    deny    refused refused refused"},
    "indicators:bulletin":         {"GET":  "login   deny    deny    deny    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "indicators:bulletin_status":  {"GET":  "login   deny    deny    deny    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "indicators:bulletin_save":    {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    deny    ok      hide    ok"},
    "indicators:bulletin_publish": {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    deny    ok      hide    ok"},
    "indicators:bulletin_pdf":     {"GET":  "login   deny    deny    deny    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "indicators:bulletin_docx":    {"GET":  "login   deny    deny    deny    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    # bank A in the bulletin's 不到位 list: an empty date is turned down with a message
    "indicators:bulletin_supervise": {"GET": "login  nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    deny    refused hide    refused"},
    # evaluation: the 2022 draft run by 武汉分行 (all 24 banks are members, so bank B sees the evaluation
    # itself but not bank A's part of it); officers score the banks they follow; admins manage
    "evaluation:list":             {"GET":  "login   ok      ok      ok      ok      ok      ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "evaluation:create":           {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    deny    deny    deny    ok"},
    "evaluation:detail":           {"GET":  "login   ok      ok      ok      ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "evaluation:scheme":           {"GET":  "login   deny    deny    deny    deny    hide    ok",
                                    "POST": "login   deny    deny    deny    deny    hide    refused"},
    "evaluation:fetch":            {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    deny    deny    hide    ok"},
    "evaluation:publish":          {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    deny    deny    hide    refused"},
    # the what-if draft of the published 2021 evaluation: PBoC only, banks never see one
    "evaluation:what_if":          {"GET":  "login   hide    hide    hide    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "evaluation:copy":             {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    deny    deny    hide    ok"},
    "evaluation:discard":          {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   hide    hide    hide    deny    hide    ok"},
    # bank A files its lists; no one else files for it
    "evaluation:evidence":         {"GET":  "login   ok      ok      ok      deny    hide    deny",
                                    "POST": "login   refused refused refused deny    hide    deny"},
    "evaluation:evidence_file":    {"GET":  "login   ok      ok      hide    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    # the published 2021 evaluation's result table: PBoC only
    "evaluation:results_xlsx":     {"GET":  "login   deny    deny    deny    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "evaluation:results_pdf":      {"GET":  "login   deny    deny    deny    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "evaluation:cards":            {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    deny    deny    hide    ok"},
    # the admin's report-card job: seen by the admin who started it
    "evaluation:job":              {"GET":  "login   hide    hide    hide    hide    hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "evaluation:job_status":       {"GET":  "login   hide    hide    hide    hide    hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "evaluation:job_download":     {"GET":  "login   hide    hide    hide    hide    hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    # bank A inside the draft: the scoring page and its forms are for the officers who follow it (the page
    # refuses every bank before looking at the institution: the same 403 whichever id bank B tries)
    "evaluation:institution":      {"GET":  "login   deny    deny    deny    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
    "evaluation:score":            {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    hide    refused hide    refused"},
    "evaluation:override":         {"GET":  "login   nometh  nometh  nometh  nometh  nometh  nometh",
                                    "POST": "login   deny    deny    hide    refused hide    refused"},
    # bank A's report card of the published 2021 evaluation: its own users and its officers
    "evaluation:card":             {"GET":  "login   ok      ok      hide    ok      hide    ok",
                                    "POST": "login   nometh  nometh  nometh  nometh  nometh  nometh"},
}

API = {
    "v1_me_retrieve":              "login   ok      ok      ok      ok      ok      ok",
    "v1_institutions_list":        "login   ok      ok      ok      ok      ok      ok",
    "periods_list":                "login   ok      ok      ok      ok      ok      ok",
    "period_definition":           "login   ok      ok      ok      ok      ok      ok",
    "filings_list":                "login   ok      ok      ok      ok      ok      ok",
    "filings_bulk_approve":        "login   deny    deny    deny    ok      ok      ok",
    # bank A's filings
    "filing_retrieve":             "login   ok      ok      hide    ok      hide    ok",
    "filing_versions_list":        "login   ok      ok      hide    ok      hide    ok",
    "filing_version_retrieve":     "login   ok      ok      hide    ok      hide    ok",
    "filing_diff":                 "login   ok      ok      hide    ok      hide    ok",
    "filing_transitions_list":     "login   ok      ok      hide    ok      hide    ok",
    "filing_findings_report":      "login   ok      ok      hide    ok      hide    ok",
    "filing_document":             "login   ok      ok      hide    ok      hide    ok",
    "filing_explanations_save":    "login   bad     bad     hide    deny    hide    deny",
    "filing_submit":               "login   deny    bad     hide    deny    hide    deny",
    "filing_approve":              "login   deny    deny    hide    ok      hide    ok",
    "filing_return":               "login   deny    deny    hide    bad     hide    bad",
    "filing_reopen":               "login   deny    deny    hide    bad     hide    bad",
    # bank A × a period
    "filing_values_save":          "login   bad     bad     hide    deny    hide    deny",
    # the dry run saves nothing: whoever follows bank A may check values against its rules
    "filing_values_check":         "login   bad     bad     hide    bad     hide    bad",
    "filing_workbook_upload":      "login   bad     bad     hide    deny    hide    deny",
    "filing_document_upload":      "login   bad     bad     hide    deny    hide    deny",
    "filing_template":             "login   ok      ok      hide    ok      hide    ok",
    # evaluations
    "evaluation_list":             "login   ok      ok      ok      ok      ok      ok",
    "evaluation_results":          "login   ok      ok      ok      ok      hide    ok",
    "evaluation_score":            "login   deny    deny    hide    bad     hide    bad",
    # indicators: every role reads what it may (a bank its own rows, scoped inside the list)
    "indicator_definitions_list":  "login   ok      ok      ok      ok      ok      ok",
    "indicator_values_list":       "login   ok      ok      ok      ok      ok      ok",
}
# fmt: on

# --- which of bank A's objects each route is pointed at ------------------------------------------------------
# Names of World attributes; a route not listed gets DEFAULT_OBJECTS. The sheet forms each take the month in
# the state their action starts from, so that an allowed role reaches the action itself.
DEFAULT_OBJECTS = {
    "institution_id": "bank_a",
    "period_id": "submitted_month",
    "number": "one",
    "job_id": "import_job",
    "run_id": "refresh_run",
    "pk": "draft_evaluation",
    "item_id": "qualitative_item",
    "evidence_id": "evidence",
    "action_id": "supervision",
    "id": "submitted_filing",
    "item_code": "qualitative_code",
    "uidb64": "reset_uid",
    "token": "reset_token",
}
OBJECTS = {
    "reporting:sheet": {"period_id": "draft_month"},
    "reporting:upload": {"period_id": "draft_month"},
    "reporting:submit": {"period_id": "draft_month"},
    "reporting:reopen": {"period_id": "approved_month"},
    "reporting:document": {"period_id": "work_plan"},
    "reporting:document_file": {"period_id": "work_plan"},
    "evaluation:what_if": {"pk": "what_if"},
    "evaluation:copy": {"pk": "published_evaluation"},
    "evaluation:discard": {"pk": "what_if"},
    "evaluation:results_xlsx": {"pk": "published_evaluation"},
    "evaluation:results_pdf": {"pk": "published_evaluation"},
    "evaluation:cards": {"pk": "published_evaluation"},
    "evaluation:job": {"pk": "published_evaluation", "job_id": "report_job"},
    "evaluation:job_status": {"pk": "published_evaluation", "job_id": "report_job"},
    "evaluation:job_download": {"pk": "published_evaluation", "job_id": "report_job"},
    "evaluation:card": {"pk": "published_evaluation"},
    "indicators:bulletin": {"pk": "bulletin"},
    "indicators:bulletin_status": {"pk": "bulletin"},
    "indicators:bulletin_save": {"pk": "bulletin"},
    "indicators:bulletin_publish": {"pk": "bulletin"},
    "indicators:bulletin_pdf": {"pk": "bulletin"},
    "indicators:bulletin_docx": {"pk": "bulletin"},
    "indicators:bulletin_supervise": {"pk": "bulletin"},
    "filing_explanations_save": {"id": "draft_filing"},
    "filing_submit": {"id": "draft_filing"},
    "filing_reopen": {"id": "approved_filing"},
    "filing_document": {"id": "work_plan_filing"},
    "filing_values_save": {"period_id": "draft_month"},
    "filing_values_check": {"period_id": "draft_month"},
    "filing_workbook_upload": {"period_id": "draft_month"},
    "filing_document_upload": {"period_id": "work_plan"},
    "evaluation_results": {"id": "published_evaluation"},
    "evaluation_score": {"id": "draft_evaluation"},
}
# Reads that need a query to mean anything, and writes whose object is named in the body.
QUERY = {
    "indicators:explain": "scope=institution&key={bank_a}&code=loan_growth_ytd&period=2022-10",
    "filing_diff": "a=1&b=2",
}
WRITE_DATA = {
    "api_tokens": {"token": "{filer_a_token}"},
    "user_passwords": {"user": "{filer_a_user}"},
    "reporting:bulk_approve": {"filing": "{submitted_filing}"},
    "indicators:supervision": {"institution": "{bank_a}"},
    "indicators:bulletin_supervise": {"institution": "{bank_a}"},
    "evaluation:create": {"jurisdiction": "{branch}", "year": "2023"},
    "filings_bulk_approve": {"filings": ["{submitted_filing}"]},
}
# Objects that belong to bank A alone (another bank or an outside officer must get a 404 for them).
BANK_A_OBJECTS = {
    "bank_a",
    "draft_filing",
    "submitted_filing",
    "approved_filing",
    "work_plan_filing",
    "evidence",
    "supervision",
}


def parse(row: str) -> dict[str, str]:
    cells = row.split()
    assert len(cells) == len(ROLES) and set(cells) <= CLASSES, f"malformed row {row!r}"
    return dict(zip(ROLES, cells, strict=True))


# --- routes --------------------------------------------------------------------------------------------------


def _walk(patterns, prefix="", namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = ":".join(x for x in (namespace, p.namespace) if x) or None
            yield from _walk(p.url_patterns, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), f"{namespace}:{p.name}" if namespace else p.name


def _skipped(route: str) -> bool:
    """Django admin has its own permissions (test_admin_is_for_staff_only); static and media are files; the
    API is enumerated from its schema (test_every_api_route_is_in_the_schema)."""
    files = (django_settings.STATIC_URL, django_settings.MEDIA_URL)
    prefixes = ("admin/", "api/v1/", *(url.strip("/") + "/" for url in files if url and url.strip("/")))
    return route.startswith(prefixes)


ALL_ROUTES = list(_walk(get_resolver().url_patterns))
PAGE_ROUTES = sorted({name for route, name in ALL_ROUTES if not _skipped(route)})


def _openapi() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


SCHEMA = _openapi()
OPERATIONS = {
    op["operationId"]: SimpleNamespace(method=method.upper(), path=path, spec=op)
    for path, methods in SCHEMA["paths"].items()
    for method, op in methods.items()
}


# --- the world: bank A's objects, built once --------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once inside a transaction that is rolled back after the module (nothing is committed); each
    test's own transaction and each cell's savepoint nest inside it."""
    media = tmp_path_factory.mktemp("matrix-media")
    # The same hasher as conftest's _fast_password_hashing (a function-scoped fixture cannot serve here).
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast):
        with transaction.atomic():
            yield _build()
            transaction.set_rollback(True)


def _build() -> SimpleNamespace:
    load_master_data()
    a, b = Institution.objects.get(code="ICBC"), Institution.objects.get(code="HBB")
    office = {code: PbocOffice.objects.get(code=code) for code in ("WH-YY", "YC", "WH")}
    # the roles of conftest's `users` fixture, with the same names
    users = {
        "filer_a": make_user("filer_a", Role.BANK_FILER, institution=a),
        "signer_a": make_user("signer_a", Role.BANK_SIGNER, institution=a),
        "filer_b": make_user("filer_b", Role.BANK_FILER, institution=b),
        "officer_in": make_user("officer_in", Role.PBOC_OFFICER, office=office["WH-YY"]),
        "officer_out": make_user("officer_out", Role.PBOC_OFFICER, office=office["YC"]),
        "pboc_admin": make_user("pboc_admin", Role.PBOC_ADMIN, office=office["WH"]),
    }
    filer, signer = users["filer_a"], users["signer_a"]
    officer, admin = users["officer_in"], users["pboc_admin"]

    services.ensure_monthly_periods((2022, 9), (2022, 12))
    services.ensure_campaign_periods(2022, due_on=date(2022, 4, 29))
    month = {p.month: p for p in Period.objects.filter(form=Form.MONITORING, year=2022)}

    def save(m: int, explanations=None) -> Filing:
        """A version of month m; saved again with every warning explained, so that the signer may submit."""
        version = services.save_version(
            institution=a,
            period=month[m],
            actor=filer,
            raw=sheet_values(),
            source=VersionSource.WEB,
            explanations=explanations,
        )
        assert not version.error_count, version.findings
        if version.findings and explanations is None:
            return save(m, {f"{f['rule']}:{f.get('field') or '*'}": "已核实" for f in version.findings})
        return version.filing

    save(9)  # the month before: the sheets' neighbour values
    approved = save(10)
    services.submit(filing=approved, actor=signer, confirm=True)
    services.approve(filing=approved, actor=officer)
    draft = save(11)
    save(12)
    submitted = save(12)  # at least two versions, for the diff
    services.submit(filing=submitted, actor=signer, confirm=True)
    work_plan = Period.objects.get(form=Form.WORK_PLAN, year=2022)
    services.save_document(
        institution=a,
        period=work_plan,
        actor=filer,
        data=demo_pdf("ICBC 2022 work plan"),
        filename="方案.pdf",
    )
    refresh_run = indicator_services.refresh_now()  # stored indicators of the approved month, for the exports

    job = ImportJob.objects.create(
        upload_name="批量.xlsx", upload_sha256="0" * 64, created_by=officer, status=ImportJob.Status.DONE
    )
    supervision = indicator_services.record_supervision(
        actor=officer, institution=a, kind="interview", taken_on=date(2022, 11, 20), reason="首贷户比重偏低"
    )
    bulletin = indicator_services.request_bulletin(actor=officer, year=2022, month=10)
    indicator_services.build_bulletin(bulletin_id=bulletin.pk)  # the job, in this process (nothing commits)

    draft_evaluation = evaluation_services.create_evaluation(
        actor=admin, year=2022, jurisdiction=office["WH"]
    )
    item = draft_evaluation.items.filter(kind=ItemKind.QUALITATIVE).order_by("order").first()
    evidence = evaluation_services.add_evidence(
        actor=filer,
        evaluation=draft_evaluation,
        institution=a,
        kind="authorization",
        data=demo_pdf("ICBC authorization list"),
        filename="授权清单.pdf",
    )
    published = evaluation_services.load_reference(path=CSV)
    what_if = evaluation_services.start_what_if(actor=admin, evaluation=published)
    report_job = ReportJob.objects.create(
        evaluation=published, created_by=admin, status=ReportJob.Status.DONE, total=1, processed=1
    )
    report_job.file.save("cards.zip", ContentFile(b"PK\x05\x06" + b"\0" * 18))

    sessions = {}
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        sessions[name] = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    tokens = {name: Token.objects.create(user=u) for name, u in users.items()}
    return SimpleNamespace(
        users=users,
        sessions=sessions,
        tokens={name: token.key for name, token in tokens.items()},
        filer_a_token=tokens["filer_a"].record.pk,  # its issue record (institutions.ApiToken)
        filer_a_token_prefix=tokens["filer_a"].record.key_prefix,
        filer_a_user=users["filer_a"].pk,
        reset_uid="MQ",
        reset_token="not-a-token",
        bank_a=a.pk,
        branch=office["WH"].pk,
        draft_month=month[11].pk,
        submitted_month=month[12].pk,
        approved_month=month[10].pk,
        work_plan=work_plan.pk,
        draft_filing=draft.pk,
        submitted_filing=submitted.pk,
        approved_filing=approved.pk,
        work_plan_filing=Filing.objects.get(institution=a, period=work_plan).pk,
        one=1,
        import_job=job.pk,
        refresh_run=refresh_run.pk,
        supervision=supervision.pk,
        bulletin=bulletin.pk,
        draft_evaluation=draft_evaluation.pk,
        published_evaluation=published.pk,
        what_if=what_if.pk,
        report_job=report_job.pk,
        qualitative_item=item.pk,
        qualitative_code=item.code,
        evidence=evidence.pk,
    )


# --- one cell ------------------------------------------------------------------------------------------------


def _objects(key: str, names) -> dict[str, str]:
    chosen = {**DEFAULT_OBJECTS, **OBJECTS.get(key, {})}
    return {name: chosen[name] for name in names}


def _fill(value, world):
    """ "{submitted_filing}" → that object's id (in a string or the strings of a list)."""
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: str(getattr(world, m.group(1))), value)
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


STATUS_CLASSES = {400: "bad", 401: "login", 403: "deny", 404: "hide", 405: "nometh", 409: "bad", 422: "bad"}


def classify(response) -> str:
    status = response.status_code
    assert status < 500, f"server error {status}"
    if status in STATUS_CLASSES:
        return STATUS_CLASSES[status]
    assert status < 400, f"unexpected status {status}"
    if status >= 300 and response["Location"].split("?")[0] == reverse("login"):
        return "login"
    flashed = messages.get_messages(response.wsgi_request)
    return "refused" if any(m.level >= messages.ERROR for m in flashed) else "ok"


def run_cell(request_fn) -> str:
    """One request in a savepoint that is rolled back: no cell sees another's writes. An exception escaping
    the view (a 500 in production) is reported as the cell's outcome, naming it."""
    with transaction.atomic():
        try:
            return classify(request_fn())
        except Exception as exc:  # any failure becomes this cell's mismatch
            return f"{type(exc).__name__}: {exc}"[:300]
        finally:
            transaction.set_rollback(True)


def client_for(world, role: str) -> Client:
    """A fresh client per cell (no flashed messages or cookies carried over) with the role's session."""
    client = Client()
    if role != "anonymous":
        client.cookies[django_settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def page_request(name: str, world, role: str, method: str):
    """The request of one page cell, as a function to run inside the cell's savepoint."""
    route = next(r for r, n in ALL_ROUTES if n == name)
    kwargs = {k: getattr(world, v) for k, v in _objects(name, re.findall(r"<(?:\w+:)?(\w+)>", route)).items()}
    query = _fill(QUERY.get(name, ""), world)
    url = reverse(name, kwargs=kwargs) + (f"?{query}" if query else "")
    client = client_for(world, role)
    if method == "GET":
        return lambda: client.get(url)
    data = {k: _fill(v, world) for k, v in WRITE_DATA.get(name, {}).items()}
    return lambda: client.post(url, data)


def api_path(operation_id: str, world) -> str:
    path = OPERATIONS[operation_id].path
    for name, attr in _objects(operation_id, re.findall(r"\{(\w+)\}", path)).items():
        path = path.replace("{" + name + "}", str(getattr(world, attr)))
    return path


def api_request(operation_id: str, world, role: str, method: str | None = None):
    """The request of one API cell with the role's token: JSON bodies as JSON, uploads as an empty form."""
    op = OPERATIONS[operation_id]
    method = method or op.method
    query = _fill(QUERY.get(operation_id, ""), world)
    path = api_path(operation_id, world) + (f"?{query}" if query else "")
    headers = {} if role == "anonymous" else {"HTTP_AUTHORIZATION": f"Token {world.tokens[role]}"}
    client = Client()
    if method == "GET":
        return lambda: client.get(path, **headers)
    content = (op.spec.get("requestBody") or {}).get("content", {})
    if content and "application/json" not in content:
        return lambda: client.generic(method, path, EMPTY_FORM, content_type=MULTIPART_CONTENT, **headers)
    body = json.dumps({k: _fill(v, world) for k, v in WRITE_DATA.get(operation_id, {}).items()})
    return lambda: client.generic(method, path, body, content_type="application/json", **headers)


EMPTY_FORM = encode_multipart(BOUNDARY, {})


def _report(key: str, mismatches: list[str]) -> str:
    return f"{key}: {len(mismatches)} cell(s) differ from the access matrix:\n  " + "\n  ".join(mismatches)


# --- the matrix ----------------------------------------------------------------------------------------------


@pytest.fixture
def cells(db, world, settings):
    # Nothing leaves the process: the cells never commit (on_commit work never runs), and /healthz, which
    # asks the Celery worker too, answers for the in-process mode — the matrix is about access.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return world


@pytest.mark.parametrize("name", PAGE_ROUTES)
def test_page_route_answers_each_role_as_the_matrix_says(name, cells):
    assert name in PAGES, f"new route {name!r} has no entry in the access matrix (PAGES in {__name__})"
    mismatches = []
    for role in ROLES:
        for method, row in PAGES[name].items():
            expected, got = parse(row)[role], run_cell(page_request(name, cells, role, method))
            if got != expected:
                mismatches.append(f"{method} as {role}: expected {expected}, got {got}")
    assert not mismatches, _report(name, mismatches)


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_api_operation_answers_each_role_as_the_matrix_says(operation_id, cells):
    assert operation_id in API, f"new API operation {operation_id!r} has no entry in the access matrix (API)"
    op = OPERATIONS[operation_id]
    mismatches = []
    for role in ROLES:
        expected, got = parse(API[operation_id])[role], run_cell(api_request(operation_id, cells, role))
        if got != expected:
            mismatches.append(
                f"{op.method} {api_path(operation_id, cells)} as {role}: expected {expected}, got {got}"
            )
    assert not mismatches, _report(operation_id, mismatches)


# --- the table itself ----------------------------------------------------------------------------------------


def test_the_table_has_no_row_for_a_route_that_is_gone():
    assert set(PAGES) - set(PAGE_ROUTES) == set()
    assert set(API) - set(OPERATIONS) == set()


def _openapi_path(route: str) -> str:
    """ "api/v1/filings/<int:pk>/" → "/api/v1/filings/{id}/", as drf-spectacular writes it."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{%s}" % ("id" if m[1] == "pk" else m[1]), route)


def test_every_api_route_is_in_the_schema():
    """The API part of the matrix is enumerated from the schema: a view left out of it would escape."""
    routes = {_openapi_path(route) for route, _name in ALL_ROUTES if route.startswith("api/v1/")}
    assert routes and routes - set(SCHEMA["paths"]) == set()


def _url_objects(key: str) -> set[str]:
    """The World objects a route's URL names (not those named in a body)."""
    if key in OPERATIONS:
        names = re.findall(r"\{(\w+)\}", OPERATIONS[key].path)
    else:
        names = re.findall(r"<(?:\w+:)?(\w+)>", next(r for r, n in ALL_ROUTES if n == key))
    return set(_objects(key, names).values())


def test_the_table_keeps_its_own_rules():
    """Anonymous visitors reach only the public pages; bank B and the outside officer get nothing of a route
    whose URL names one of bank A's objects — whatever anyone writes into the rows above."""
    rows = [(name, method, parse(row)) for name, by in PAGES.items() for method, row in by.items()]
    rows += [(op, OPERATIONS[op].method, parse(row)) for op, row in API.items()]
    broken = []
    for key, method, row in rows:
        if key not in PUBLIC and row["anonymous"] not in {"login", "nometh"}:
            broken.append(f"{method} {key}: anonymous {row['anonymous']}")
        if _url_objects(key) & BANK_A_OBJECTS:
            broken += [
                f"{method} {key}: {role} {row[role]} on bank A's object"
                for role in ("filer_b", "officer_out")
                if row[role] in {"ok", "refused", "bad"}
            ]
    assert not broken, "\n".join(broken)


# --- beyond the table ----------------------------------------------------------------------------------------

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def test_api_methods_the_schema_does_not_declare_are_refused(cells):
    """No hidden write: on every API path a method the schema does not declare is 405 (401 anonymous)."""
    declared = {(op.path, op.method): op_id for op_id, op in OPERATIONS.items()}
    wrong = []
    for path in SCHEMA["paths"]:
        op_id = next(i for (p, _m), i in declared.items() if p == path)
        for method in METHODS:
            if (path, method) in declared:
                continue
            for role, expected in (("anonymous", "login"), ("filer_a", "nometh"), ("pboc_admin", "nometh")):
                got = run_cell(api_request(op_id, cells, role, method))
                if got != expected:
                    wrong.append(f"{method} {path} as {role}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", ["/admin/", "/admin/reporting/filing/", "/admin/institutions/user/"])
def test_django_admin_turns_away_every_role_without_staff_status(cells, path):
    """The portal's roles are not Django staff (only 系统管理员 is): all of them land on the admin login."""
    for role in ROLES:
        for method in ("GET", "POST"):
            client = client_for(cells, role)
            response = client.get(path) if method == "GET" else client.post(path, {})
            assert response.status_code == 302, (role, method, response.status_code)
            assert response["Location"].startswith("/admin/login/"), (role, method, response["Location"])


def _json(response):
    assert response.status_code == 200, response.status_code
    return response.json()


def test_lists_show_bank_b_and_the_outside_officer_nothing_of_bank_a(cells):
    """Scoped lists answer 200 to everyone: what is in them is the point. Bank A's own filer sees its rows,
    so each check could fail."""
    world = cells
    a_filings = {world.draft_filing, world.submitted_filing, world.approved_filing, world.work_plan_filing}
    sheet = reverse("reporting:sheet", args=[world.bank_a, world.submitted_month])
    for role, sees in (("filer_a", True), ("officer_in", True), ("filer_b", False), ("officer_out", False)):
        filings = _json(api_request("filings_list", world, role)())
        ids = {f["id"] for f in (filings["results"] if isinstance(filings, dict) else filings)}
        assert bool(ids & a_filings) is sees, (role, ids)
        institutions = _json(api_request("v1_institutions_list", world, role)())
        ids = {i["id"] for i in (institutions["results"] if isinstance(institutions, dict) else institutions)}
        assert (world.bank_a in ids) is sees, (role, ids)
        page = page_request("reporting:list", world, role, "GET")().content.decode()
        assert (sheet in page) is sees, role
        page = page_request("indicators:table", world, role, "GET")().content.decode()
        assert ("工商银行" in page) is sees, role
    for role, sees in (("filer_a", True), ("pboc_admin", True), ("signer_a", False), ("filer_b", False)):
        page = page_request("api_tokens", world, role, "GET")().content.decode()
        assert (world.filer_a_token_prefix in page) is sees, role
    for role, sees in (("filer_a", True), ("filer_b", False)):
        rows = _json(api_request("evaluation_results", world, role)())["rows"]
        assert rows and (world.bank_a in {r["institution_id"] for r in rows}) is sees, role
    assert _json(api_request("evaluation_list", world, "officer_out")()) == []


def test_bulk_approval_outside_the_jurisdiction_approves_nothing(cells):
    """The bulk approvals answer 200 whatever they skip. Bank A's submitted sheet (explained warnings, so
    left for a one-by-one review) named by the officer of 宜昌 is not even considered and stays submitted;
    named by 营业管理部's officer, it is considered and skipped."""
    world = cells

    def run(request) -> tuple[object, str]:
        with transaction.atomic():
            response = request()
            status = Filing.objects.get(pk=world.submitted_filing).status
            transaction.set_rollback(True)
        return response, status

    for role, considered in (("officer_out", False), ("officer_in", True)):
        response, status = run(api_request("filings_bulk_approve", world, role))
        assert status == "submitted"
        assert response.json()["skipped" if considered else "not_found"] == [world.submitted_filing], role
        response, status = run(page_request("reporting:bulk_approve", world, role, "POST"))
        notes = [str(m) for m in messages.get_messages(response.wsgi_request)]
        assert status == "submitted" and any(f"跳过 {int(considered)} 张" in n for n in notes), (role, notes)
