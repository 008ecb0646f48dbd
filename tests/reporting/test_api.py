"""/api/v1/ for returns: what a bank's or the branch's system can do, with the same rules as the browser.

Every call authenticates with a DRF token, as a bank's system would. Run without REDIS_URL so follow-up
tasks stay in-process.
"""

import hashlib
from io import BytesIO

import pytest
from django.core.management import call_command
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditEntry
from reporting import excel, services
from reporting.definitions import definition_for
from reporting.models import Filing, FilingStatus, FilingVersion, Form, Period

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# 2022年3月, written the way people type: units, thousands separators, a percent sign.
CLEAN = {
    "loan_balance": "1,234.5",
    "credit_loan_balance": "100",
    "new_loans": "300.25",
    "new_credit_loans": 50,
    "borrowers": "45,000户",
    "new_borrowers": 3000,
    "first_loan_borrowers": 500,
    "first_loan_amount": "20.5",
    "ftp_discount_bp": "45BP",
    "fee_relief": 1.2,
    "weighted_rate": "3.85%",
}
STORED = {
    "loan_balance": "1234.5",
    "credit_loan_balance": "100",
    "new_loans": "300.25",
    "new_credit_loans": "50",
    "borrowers": "45000",
    "new_borrowers": "3000",
    "first_loan_borrowers": "500",
    "first_loan_amount": "20.5",
    "ftp_discount_bp": "45",
    "fee_relief": "1.2",
    "weighted_rate": "3.85",
}
HIGH_RATE = {**CLEAN, "weighted_rate": "15%"}  # W401: outside 2%–12%
RATE_WARNING = "W401:weighted_rate"


@pytest.fixture
def periods(db):
    services.ensure_monthly_periods((2022, 1), (2022, 3))
    return {p.month: p for p in Period.objects.filter(form=Form.MONITORING, year=2022)}


@pytest.fixture
def march(periods):
    return periods[3]


@pytest.fixture
def api(users):
    """api("signer_a") → an APIClient authenticated with that user's token."""

    def client_for(name: str) -> APIClient:
        token, _ = Token.objects.get_or_create(user=users[name])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for


def values_url(institution, period, what="values"):
    return f"/api/v1/institutions/{institution.pk}/periods/{period.pk}/{what}/"


def save(client, institution, period, values, **extra):
    return client.post(values_url(institution, period), {"values": values, **extra}, format="json")


def filed(api, institution, period, values=CLEAN, *, user="filer_a", explanations=None) -> int:
    response = save(api(user), institution, period, values, explanations=explanations or {})
    assert response.status_code == 201, response.json()
    return response.json()["filing"]["id"]


def submitted(api, master, march, *, bank="a", values=CLEAN, explanations=None) -> int:
    pk = filed(api, master[bank.upper()], march, values, user=f"filer_{bank}", explanations=explanations)
    response = api(f"signer_{bank}").post(f"/api/v1/filings/{pk}/submit/", {"confirm": True}, format="json")
    assert response.status_code == 200, response.json()
    return pk


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def workbook_file(data: bytes, name="监测表.xlsx"):
    upload = BytesIO(data)
    upload.name = name
    return upload


# --- authentication --------------------------------------------------------------------------


def test_requests_without_a_valid_token_are_refused(users, periods):
    anonymous = APIClient()
    response = anonymous.get("/api/v1/filings/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"

    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = anonymous.get("/api/v1/filings/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_token_authenticates_as_its_user(api, master, march):
    response = save(api("filer_a"), master["A"], march, CLEAN)
    assert response.status_code == 201
    version = FilingVersion.objects.get()
    assert version.created_by.username == "filer_a"
    assert version.source == "api"


# --- JSON filing -----------------------------------------------------------------------------


def test_values_typed_with_units_and_separators_round_trip_as_decimals(api, master, march):
    response = save(api("filer_a"), master["A"], march, CLEAN)
    assert response.status_code == 201
    saved = response.json()
    assert saved["version"]["number"] == 1
    assert saved["version"]["values"] == STORED
    assert saved["version"]["findings"]["counts"] == {"error": 0, "warning": 0, "unexplained": 0}
    assert saved["filing"]["status"] == FilingStatus.DRAFT
    assert saved["filing"]["lock_version"] == 1

    detail = api("filer_a").get(f"/api/v1/filings/{saved['filing']['id']}/").json()
    assert detail["values"] == STORED
    assert detail["version"] == 1
    assert detail["lock_version"] == 1
    assert detail["institution"]["code"] == "ICBC"
    assert detail["period"]["label"] == "2022年3月"
    assert detail["is_late"] is True  # 2022年3月 was due on 2022-04-15 and nothing has been submitted


def test_late_flag_follows_the_first_submission_against_the_deadline(api, master, periods, time_machine):
    time_machine.move_to("2022-04-10 10:00 +08:00")
    on_time = submitted(api, master, periods[3])  # 2022年3月, due 2022-04-15
    late = filed(api, master["A"], periods[2])  # 2022年2月, due 2022-03-15
    assert (
        api("signer_a").post(f"/api/v1/filings/{late}/submit/", {"confirm": True}, format="json").status_code
        == 200
    )
    flags = {f["id"]: f["is_late"] for f in api("officer_in").get("/api/v1/filings/").json()["results"]}
    assert flags == {on_time: False, late: True}


def test_unreadable_value_comes_back_as_a_finding_on_its_field(api, master, march):
    response = save(api("filer_a"), master["A"], march, {**CLEAN, "weighted_rate": "约三点八"})
    assert response.status_code == 201  # a draft may hold errors; they only block submitting
    findings = response.json()["version"]["findings"]
    assert findings["counts"]["error"] == 1
    (error,) = findings["errors"]
    assert (error["rule"], error["field"]) == ("E102", "weighted_rate")
    assert "约三点八" in error["message"]
    assert response.json()["version"]["values"]["weighted_rate"] is None


def test_unknown_field_code_is_refused_before_anything_is_saved(api, master, march):
    response = save(api("filer_a"), master["A"], march, {**CLEAN, "loan_balanse": "1"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert "loan_balanse" in str(error["details"]["values"])
    assert not FilingVersion.objects.exists()


def test_check_validates_without_storing(api, master, march):
    response = api("filer_a").post(
        values_url(master["A"], march, "check"), {"values": HIGH_RATE}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert [w["key"] for w in body["findings"]["warnings"]] == [RATE_WARNING]
    assert body["values"]["weighted_rate"] == "15"
    assert not Filing.objects.exists()


def test_period_definition_lists_the_field_codes(api, march):
    response = api("filer_a").get(f"/api/v1/periods/{march.pk}/definition/")
    assert response.status_code == 200
    codes = [f["code"] for f in response.json()["fields"]]
    assert codes == definition_for(Form.MONITORING, 2022).codes
    assert response.json()["fields"][0]["label"] == "3月末普惠小微贷款余额"


# --- submitting ------------------------------------------------------------------------------


def test_submit_is_refused_while_errors_remain(api, master, march):
    pk = filed(api, master["A"], march, {**CLEAN, "credit_loan_balance": "2000"})  # E201: 信用 > 余额
    response = api("signer_a").post(f"/api/v1/filings/{pk}/submit/", {"confirm": True}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "has_errors"
    assert [(f["rule"], f["field"]) for f in error["details"]] == [("E201", "credit_loan_balance")]
    assert Filing.objects.get(pk=pk).status == FilingStatus.DRAFT


def test_submit_needs_every_warning_explained_then_gives_a_receipt(api, master, march):
    pk = filed(api, master["A"], march, HIGH_RATE)
    signer = api("signer_a")
    response = signer.post(f"/api/v1/filings/{pk}/submit/", {"confirm": True}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "unexplained"
    assert [f["key"] for f in error["details"]] == [RATE_WARNING]

    explained = api("filer_a").post(
        f"/api/v1/filings/{pk}/explanations/",
        {"explanations": {RATE_WARNING: "本月投放以高利率的个体工商户经营贷为主。", "W999:nothing": "无关"}},
        format="json",
    )
    assert explained.status_code == 201
    version = explained.json()["version"]
    assert version["number"] == 2
    assert version["values"]["weighted_rate"] == "15"  # same values as version 1
    assert version["explanations"] == {RATE_WARNING: "本月投放以高利率的个体工商户经营贷为主。"}
    assert version["findings"]["counts"]["unexplained"] == 0
    assert explained.json()["ignored_explanations"] == ["W999:nothing"]

    response = signer.post(f"/api/v1/filings/{pk}/submit/", {"confirm": True}, format="json")
    assert response.status_code == 200
    assert response.json()["receipt_no"] == "XW202203-ICBC-02"
    assert response.json()["filing"]["status"] == FilingStatus.SUBMITTED
    history = signer.get(f"/api/v1/filings/{pk}/versions/").json()
    assert history[-1]["receipt_no"] == "XW202203-ICBC-02"
    assert history[-1]["submitted_by"]["username"] == "signer_a"


def test_submit_without_confirmation_is_refused(api, master, march):
    pk = filed(api, master["A"], march)
    response = api("signer_a").post(f"/api/v1/filings/{pk}/submit/", {}, format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "attestation"


def test_filer_cannot_submit(api, master, march):
    pk = filed(api, master["A"], march)
    response = api("filer_a").post(f"/api/v1/filings/{pk}/submit/", {"confirm": True}, format="json")
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    assert "签批人" in error_of(response)["message"]
    assert Filing.objects.get(pk=pk).status == FilingStatus.DRAFT


# --- review ----------------------------------------------------------------------------------


def test_officer_approves_and_a_second_approve_conflicts(api, master, march):
    pk = submitted(api, master, march)
    officer = api("officer_in")
    response = officer.post(f"/api/v1/filings/{pk}/approve/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == FilingStatus.APPROVED

    again = officer.post(f"/api/v1/filings/{pk}/approve/", {}, format="json")
    assert again.status_code == 409
    assert error_of(again)["code"] == "conflict"
    assert "已通过" in error_of(again)["message"]


def test_bank_cannot_approve_its_own_filing(api, master, march):
    pk = submitted(api, master, march)
    response = api("signer_a").post(f"/api/v1/filings/{pk}/approve/", {}, format="json")
    assert response.status_code == 403
    assert Filing.objects.get(pk=pk).status == FilingStatus.SUBMITTED


def test_return_needs_a_reason_and_keeps_field_comments(api, master, march):
    pk = submitted(api, master, march)
    officer = api("officer_in")
    response = officer.post(f"/api/v1/filings/{pk}/return/", {"reason": "  "}, format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "reason_required"
    assert Filing.objects.get(pk=pk).status == FilingStatus.SUBMITTED

    response = officer.post(
        f"/api/v1/filings/{pk}/return/",
        {
            "reason": "首贷户数与上报人民银行的口径不一致",
            "field_comments": {"first_loan_borrowers": "请按征信口径重算"},
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == FilingStatus.RETURNED
    steps = api("filer_a").get(f"/api/v1/filings/{pk}/transitions/").json()
    assert [(s["from_status"], s["to_status"]) for s in steps] == [
        ("draft", "submitted"),
        ("submitted", "returned"),
    ]
    assert steps[-1]["reason"] == "首贷户数与上报人民银行的口径不一致"
    assert steps[-1]["field_comments"] == {"first_loan_borrowers": "请按征信口径重算"}
    assert steps[-1]["actor"]["username"] == "officer_in"


def test_reopen_needs_a_reason_and_lets_the_bank_file_again(api, master, march):
    pk = submitted(api, master, march)
    officer = api("officer_in")
    assert officer.post(f"/api/v1/filings/{pk}/approve/", {}, format="json").status_code == 200
    refused = save(api("filer_a"), master["A"], march, CLEAN)
    assert refused.status_code == 400
    assert error_of(refused)["code"] == "locked"

    assert (
        error_of(officer.post(f"/api/v1/filings/{pk}/reopen/", {}, format="json"))["code"]
        == "reason_required"
    )
    response = officer.post(
        f"/api/v1/filings/{pk}/reopen/", {"reason": "机构申请更正首贷金额"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == FilingStatus.RETURNED

    again = save(api("filer_a"), master["A"], march, {**CLEAN, "first_loan_amount": "21"})
    assert again.status_code == 201
    assert again.json()["filing"]["status"] == FilingStatus.DRAFT


def test_bulk_approve_passes_clean_submissions_only(api, master, march):
    clean = submitted(api, master, march, bank="a")
    warned = submitted(api, master, march, bank="b", values=HIGH_RATE, explanations={RATE_WARNING: "属实"})
    response = api("officer_branch").post(
        "/api/v1/filings/bulk-approve/", {"filings": [clean, warned, 987654]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"approved": [clean], "skipped": [warned], "not_found": [987654]}
    assert Filing.objects.get(pk=clean).status == FilingStatus.APPROVED
    assert Filing.objects.get(pk=warned).status == FilingStatus.SUBMITTED


def test_bulk_approve_ignores_filings_outside_the_jurisdiction(api, master, march):
    other = submitted(api, master, march, bank="b")  # 湖北银行: not followed by 营业管理部
    response = api("officer_in").post("/api/v1/filings/bulk-approve/", {"filings": [other]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"approved": [], "skipped": [], "not_found": [other]}
    assert Filing.objects.get(pk=other).status == FilingStatus.SUBMITTED


# --- concurrency -----------------------------------------------------------------------------


def test_stale_lock_version_is_a_conflict(api, master, march):
    filer = api("filer_a")
    assert save(filer, master["A"], march, CLEAN).json()["filing"]["lock_version"] == 1
    assert save(filer, master["A"], march, {**CLEAN, "fee_relief": "1.3"}, lock_version=1).status_code == 201

    stale = save(filer, master["A"], march, {**CLEAN, "fee_relief": "9"}, lock_version=1)
    assert stale.status_code == 409
    assert error_of(stale)["code"] == "conflict"
    assert "第 1 次修订" in error_of(stale)["message"]
    assert FilingVersion.objects.count() == 2
    assert Filing.objects.get().current_version.values["fee_relief"] == "1.3"


def test_stale_lock_version_on_submit_is_a_conflict(api, master, march):
    pk = filed(api, master["A"], march)
    response = api("signer_a").post(
        f"/api/v1/filings/{pk}/submit/", {"confirm": True, "lock_version": 0}, format="json"
    )
    assert response.status_code == 409
    assert Filing.objects.get(pk=pk).status == FilingStatus.DRAFT


# --- scoping ---------------------------------------------------------------------------------


def _filing_routes(pk):
    return [
        ("get", f"/api/v1/filings/{pk}/", None),
        ("get", f"/api/v1/filings/{pk}/versions/", None),
        ("get", f"/api/v1/filings/{pk}/versions/1/", None),
        ("get", f"/api/v1/filings/{pk}/diff/?a=1&b=1", None),
        ("get", f"/api/v1/filings/{pk}/transitions/", None),
        ("get", f"/api/v1/filings/{pk}/findings.xlsx", None),
        ("post", f"/api/v1/filings/{pk}/explanations/", {"explanations": {RATE_WARNING: "x"}}),
        ("post", f"/api/v1/filings/{pk}/submit/", {"confirm": True}),
        ("post", f"/api/v1/filings/{pk}/approve/", {}),
        ("post", f"/api/v1/filings/{pk}/return/", {"reason": "x"}),
        ("post", f"/api/v1/filings/{pk}/reopen/", {"reason": "x"}),
    ]


def _institution_routes(institution, period):
    return [
        ("post", values_url(institution, period), {"values": CLEAN}),
        ("post", values_url(institution, period, "check"), {"values": CLEAN}),
        ("get", values_url(institution, period, "template"), None),
    ]


@pytest.mark.parametrize("intruder", ["filer_b", "signer_b", "officer_out"])
def test_another_banks_filing_is_not_found_on_every_route(api, master, march, intruder):
    pk = submitted(api, master, march, values=HIGH_RATE, explanations={RATE_WARNING: "属实"})
    before = (
        FilingVersion.objects.count(),
        Filing.objects.get(pk=pk).lock_version,
        AuditEntry.objects.count(),
    )
    client = api(intruder)
    for method, url, body in _filing_routes(pk) + _institution_routes(master["A"], march):
        response = getattr(client, method)(url, body, format="json") if body is not None else client.get(url)
        assert response.status_code == 404, url
        assert error_of(response)["code"] == "not_found", url
        assert "工商" not in response.content.decode(), url
    upload = client.post(
        values_url(master["A"], march, "workbook"), {"file": workbook_file(b"%PDF-1.4")}, format="multipart"
    )
    assert upload.status_code == 404
    assert client.get("/api/v1/filings/").json()["results"] == []
    bulk = client.post("/api/v1/filings/bulk-approve/", {"filings": [pk]}, format="json")
    if intruder == "officer_out":
        assert bulk.json()["not_found"] == [pk]  # outside the jurisdiction: as if it did not exist
    else:
        assert bulk.status_code == 403  # banks never review
    assert (
        FilingVersion.objects.count(),
        Filing.objects.get(pk=pk).lock_version,
        AuditEntry.objects.count(),
    ) == before


def test_filing_list_is_scoped_and_filtered(api, master, march, django_assert_max_num_queries):
    a = submitted(api, master, march, bank="a")
    b = filed(api, master["B"], march, user="filer_b")
    branch = api("officer_branch")
    # token (with user and record), its last use (written at most once a minute), office tree, count, page —
    # whatever the number of banks
    with django_assert_max_num_queries(5):
        everything = branch.get("/api/v1/filings/", {"period": march.pk}).json()
    assert sorted(f["id"] for f in everything["results"]) == sorted([a, b])
    assert [f["id"] for f in branch.get("/api/v1/filings/", {"status": "submitted"}).json()["results"]] == [a]
    assert [
        f["id"] for f in branch.get("/api/v1/filings/", {"institution": master["B"].pk}).json()["results"]
    ] == [b]
    assert [f["id"] for f in api("officer_in").get("/api/v1/filings/").json()["results"]] == [a]
    assert [f["id"] for f in api("signer_b").get("/api/v1/filings/").json()["results"]] == [b]
    bad = branch.get("/api/v1/filings/", {"status": "lost"})
    assert bad.status_code == 400
    assert error_of(bad)["code"] == "validation_error"


# --- versions --------------------------------------------------------------------------------


def test_history_version_and_diff(api, master, march):
    filer = api("filer_a")
    pk = filed(api, master["A"], march)
    save(filer, master["A"], march, {**CLEAN, "fee_relief": "1.5"})

    history = filer.get(f"/api/v1/filings/{pk}/versions/").json()
    assert [(v["number"], v["source"], v["created_by"]["username"]) for v in history] == [
        (1, "api", "filer_a"),
        (2, "api", "filer_a"),
    ]
    first = filer.get(f"/api/v1/filings/{pk}/versions/1/").json()
    assert first["values"]["fee_relief"] == "1.2"

    diff = filer.get(f"/api/v1/filings/{pk}/diff/", {"a": 1, "b": 2}).json()
    changed = [row for row in diff["fields"] if row["changed"]]
    assert changed == [
        {"code": "fee_relief", "label": "小微企业累计减费让利金额", "a": "1.2", "b": "1.5", "changed": True}
    ]
    assert len(diff["fields"]) == len(STORED)

    assert filer.get(f"/api/v1/filings/{pk}/diff/", {"a": 1, "b": 7}).status_code == 404
    assert filer.get(f"/api/v1/filings/{pk}/diff/").status_code == 400
    assert filer.get(f"/api/v1/filings/{pk}/versions/7/").status_code == 404


def test_findings_report_is_a_workbook_of_the_current_findings(api, master, march):
    pk = filed(api, master["A"], march, HIGH_RATE)
    response = api("officer_in").get(f"/api/v1/filings/{pk}/findings.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(BytesIO(response.content)).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "W401" in cells
    assert any("15%" in c for c in cells)


# --- workbook --------------------------------------------------------------------------------


def _fill(template: bytes, values: dict) -> bytes:
    definition = definition_for(Form.MONITORING, 2022)
    book = load_workbook(BytesIO(template))
    sheet = book[excel.SHEET]
    for fd in definition.fields:
        sheet[f"{fd.column}{excel.DATA_ROW}"] = values[fd.code]
    out = BytesIO()
    book.save(out)
    return out.getvalue()


NUMBERS = {
    "loan_balance": 1234.5,
    "credit_loan_balance": 100,
    "new_loans": 300.25,
    "new_credit_loans": 50,
    "borrowers": 45000,
    "new_borrowers": 3000,
    "first_loan_borrowers": 500,
    "first_loan_amount": 20.5,
    "ftp_discount_bp": 45,
    "fee_relief": 1.2,
    "weighted_rate": 3.85,
}


def test_workbook_round_trip_gives_the_same_values(api, master, march):
    filer = api("filer_a")
    template = filer.get(values_url(master["A"], march, "template"))
    assert template.status_code == 200
    assert template["Content-Type"] == XLSX

    data = _fill(template.content, {**NUMBERS, "weighted_rate": 15})
    response = filer.post(
        values_url(master["A"], march, "workbook"), {"file": workbook_file(data)}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    version = response.json()["version"]
    assert version["source"] == "excel"
    assert version["values"] == {**STORED, "weighted_rate": "15"}
    assert version["upload_sha256"] == hashlib.sha256(data).hexdigest()
    (warning,) = version["findings"]["warnings"]
    assert warning["location"] == f"{excel.SHEET}!L{excel.DATA_ROW}"  # the cell, not the label

    # The next template carries the stored values, and uploading it unchanged stores them again.
    again = filer.get(values_url(master["A"], march, "template")).content
    assert load_workbook(BytesIO(again))[excel.SHEET][f"L{excel.DATA_ROW}"].value == 15
    response = filer.post(
        values_url(master["A"], march, "workbook"), {"file": workbook_file(again)}, format="multipart"
    )
    assert response.status_code == 201
    assert response.json()["version"]["values"] == version["values"]


def test_pdf_posted_as_workbook_is_refused_audited_and_not_stored(api, master, march, users):
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n%%EOF"
    response = api("filer_a").post(
        values_url(master["A"], march, "workbook"),
        {"file": workbook_file(pdf, "监测表.pdf")},
        format="multipart",
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "U105"
    assert "PDF" in error["message"] and "Excel" in error["message"]
    entry = AuditEntry.objects.get(action="filing.upload_rejected")
    assert entry.actor == users["filer_a"]
    assert entry.institution == master["A"]
    assert entry.changes["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert not FilingVersion.objects.exists()
    assert not Filing.objects.exists()


def test_workbook_of_another_institution_is_refused(api, master, march):
    definition = definition_for(Form.MONITORING, 2022)
    data = _fill(
        excel.monitoring_template(definition, institution_name=master["B"].name, year=2022, month=3), NUMBERS
    )
    response = api("filer_a").post(
        values_url(master["A"], march, "workbook"), {"file": workbook_file(data)}, format="multipart"
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "institution_mismatch"
    assert master["B"].name in error["message"] and master["A"].name in error["message"]
    assert AuditEntry.objects.filter(action="filing.upload_rejected", institution=master["A"]).count() == 1
    assert not FilingVersion.objects.exists()


def test_workbook_of_another_month_is_refused(api, master, periods):
    definition = definition_for(Form.MONITORING, 2022)
    data = _fill(
        excel.monitoring_template(definition, institution_name=master["A"].short_name, year=2022, month=2),
        NUMBERS,
    )
    response = api("filer_a").post(
        values_url(master["A"], periods[3], "workbook"), {"file": workbook_file(data)}, format="multipart"
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "period_mismatch"
    assert "2022年2月" in error["message"] and "2022年3月" in error["message"]
    assert not FilingVersion.objects.exists()


def test_officer_cannot_upload_for_a_bank(api, master, march):
    template = api("officer_in").get(values_url(master["A"], march, "template"))
    assert template.status_code == 200  # the officer may read it
    data = _fill(template.content, NUMBERS)
    response = api("officer_in").post(
        values_url(master["A"], march, "workbook"), {"file": workbook_file(data)}, format="multipart"
    )
    assert response.status_code == 403
    assert not FilingVersion.objects.exists()


# --- schema ----------------------------------------------------------------------------------


def test_openapi_schema_generates_without_warnings(tmp_path, db):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text(encoding="utf-8")
    for path in [
        "/api/v1/filings/{id}/submit/",
        "/api/v1/filings/bulk-approve/",
        "/api/v1/institutions/{institution_id}/periods/{period_id}/workbook/",
        "/api/v1/filings/{id}/findings.xlsx",
    ]:
        assert path in schema
