"""/api/v1/ for the returns beyond the monthly sheet: the 附件3 plan (values or its Excel template), the
附件2 contacts (text values) and the document returns 工作方案 / 经验做法 (a PDF or .docx file).

Authenticates with DRF tokens as a bank's system would; runs without REDIS_URL so tasks stay in-process.
"""

import hashlib
import zipfile
from io import BytesIO

import pytest
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditEntry
from reporting import excel, services
from reporting.models import Filing, FilingVersion, Form, Period
from tests.worlds import PLAN, contact_values, plan_values

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Size 3 /Root 1 0 R >>\n%%EOF\n"
)


def docx_bytes() -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        zf.writestr(
            "word/document.xml",
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body><w:p><w:r><w:t>经验做法</w:t></w:r></w:p></w:body></w:document>",
        )
    return out.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def campaign(campaign):
    periods = dict(campaign)
    periods["q1"] = Period.objects.get(form=Form.EXPERIENCE, year=2022, quarter=1)
    return periods


@pytest.fixture
def api(users):
    def client_for(name: str) -> APIClient:
        token, _ = Token.objects.get_or_create(user=users[name])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for


def url(institution, period, what: str) -> str:
    return f"/api/v1/institutions/{institution.pk}/periods/{period.pk}/{what}/"


def upload(name: str, data: bytes):
    f = BytesIO(data)
    f.name = name
    return f


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def post_document(client, institution, period, name: str, data: bytes, **extra):
    return client.post(url(institution, period, "document"), {"file": upload(name, data), **extra})


# --- the definitions --------------------------------------------------------------------------------


def test_plan_definition_describes_rows_columns_computed_and_cells(api, campaign):
    body = api("filer_a").get(f"/api/v1/periods/{campaign[Form.PLAN].pk}/definition/").json()

    assert (body["form"], body["edition"], body["layout"]) == ("plan", "2022", "table")
    assert [r["code"] for r in body["rows"]][:2] == ["420000", "420100"] and len(body["rows"]) == 18
    assert body["total_row"] == "420000" and body["has_template"] is True and body["accepts"] == []
    assert [c["code"] for c in body["columns"]] == [
        "balance_y2",
        "balance_y1",
        "planned_increase",
        "q1_actual",
        "q2_plan",
        "q3_plan",
        "q4_plan",
    ]
    growth = {c["code"]: c for c in body["computed"]}["growth_y1"]
    assert (growth["numerator"], growth["denominator"], growth["base"], growth["column"]) == (
        "balance_y1",
        "balance_y2",
        "balance_y2",
        "D",
    )
    assert len(body["fields"]) == 17 * 7
    wuhan = {f["code"]: f for f in body["fields"]}["420100.balance_y2"]
    assert (wuhan["cell"], wuhan["row"], wuhan["column_code"], wuhan["row_label"]) == (
        "B6",
        "420100",
        "balance_y2",
        "武汉分行",
    )
    assert "420000.balance_y1" in body["derived"] and "420100.planned_growth" in body["derived"]
    assert body["notes"] == list(PLAN.notes)


def test_contacts_and_document_definitions(api, campaign, periods_monitoring):
    client = api("filer_a")
    contacts = client.get(f"/api/v1/periods/{campaign[Form.CONTACTS].pk}/definition/").json()
    assert contacts["layout"] == "table" and contacts["has_template"] is False
    mobile = {f["code"]: f for f in contacts["fields"]}["liaison.mobile"]
    assert (mobile["kind"], mobile["text_format"], mobile["max_length"]) == ("text", "mobile", 20)
    assert [r["label"] for r in contacts["rows"]] == ["分管行领导", "牵头部门负责人", "牵头部门联系人"]

    document = client.get(f"/api/v1/periods/{campaign['q1'].pk}/definition/").json()
    assert (document["layout"], document["fields"], document["accepts"]) == ("document", [], ["docx", "pdf"])

    monitoring = client.get(f"/api/v1/periods/{periods_monitoring.pk}/definition/").json()
    assert monitoring["layout"] == "sheet"
    assert {f["code"]: f["cell"] for f in monitoring["fields"]}["loan_balance"] == "B5"


@pytest.fixture
def periods_monitoring(db):
    services.ensure_monthly_periods((2022, 3), (2022, 3))
    return Period.objects.get(form=Form.MONITORING, year=2022, month=3)


# --- the plan: template and workbook ----------------------------------------------------------------


def test_plan_template_round_trips_through_the_workbook_upload(api, master, campaign):
    client = api("filer_a")
    response = client.get(url(master["A"], campaign[Form.PLAN], "template"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert "filename*=utf-8''" in response["Content-Disposition"]

    wb = load_workbook(BytesIO(response.content))
    ws = wb[excel.PLAN_SHEET]
    assert ws["A1"].value == "工商银行2022年普惠小微贷款投放计划表" and ws["B5"].value == "=SUM(B6:B22)"
    for fd in PLAN.fields:
        ws[fd.cell] = 2 if fd.column_code == "balance_y2" else 3
    out = BytesIO()
    wb.save(out)

    response = client.post(
        url(master["A"], campaign[Form.PLAN], "workbook"), {"file": upload("计划表.xlsx", out.getvalue())}
    )
    assert response.status_code == 201, response.json()
    version = response.json()["version"]
    assert version["source"] == "excel" and version["upload_name"] == "计划表.xlsx"
    assert version["values"]["420100.balance_y2"] == "2" and version["values"]["429021.q4_plan"] == "3"
    assert version["values"]["420000.balance_y2"] == "34"  # 全省 = 17 regions × 2, computed by the portal
    assert version["values"]["420100.growth_y1"] == "0.5"  # (3 − 2) / 2


def test_plan_template_is_prefilled_with_the_current_values(api, master, campaign):
    client = api("filer_a")
    values = {**plan_values(), "420100.balance_y1": "12.5"}
    assert (
        client.post(
            url(master["A"], campaign[Form.PLAN], "values"), {"values": values}, format="json"
        ).status_code
        == 201
    )

    ws = load_workbook(BytesIO(client.get(url(master["A"], campaign[Form.PLAN], "template")).content))[
        excel.PLAN_SHEET
    ]
    assert ws["C6"].value == 12.5 and ws["B22"].value == 10
    assert ws["D6"].value.startswith("=IF(")  # the stored growth is not written over the formula


def test_a_missing_region_in_an_uploaded_plan_is_refused_naming_it(api, master, campaign):
    data = excel.plan_template(PLAN, institution_name="工商银行")
    wb = load_workbook(BytesIO(data))
    wb[excel.PLAN_SHEET].delete_rows(8)
    out = BytesIO()
    wb.save(out)

    response = api("filer_a").post(
        url(master["A"], campaign[Form.PLAN], "workbook"), {"file": upload("计划表.xlsx", out.getvalue())}
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "U204" and "缺少 1 个地区的行：“十堰分行”" in error["message"]
    assert not FilingVersion.objects.exists()
    assert AuditEntry.objects.filter(action="filing.upload_rejected").count() == 1


def test_another_banks_plan_template_is_refused(api, master, campaign):
    data = excel.plan_template(PLAN, institution_name="湖北银行")
    response = api("filer_a").post(
        url(master["A"], campaign[Form.PLAN], "workbook"), {"file": upload("计划表.xlsx", data)}
    )
    assert response.status_code == 400 and error_of(response)["code"] == "institution_mismatch"


def test_plan_values_may_carry_the_derived_codes_which_are_recomputed(api, master, campaign):
    values = {**plan_values(), "420000.balance_y2": "999", "420100.growth_y1": "7"}
    response = api("filer_a").post(
        url(master["A"], campaign[Form.PLAN], "values"), {"values": values}, format="json"
    )
    assert response.status_code == 201, response.json()
    stored = response.json()["version"]["values"]
    assert stored["420000.balance_y2"] == "170" and stored["420100.growth_y1"] == "0.2"


def test_unknown_plan_codes_are_still_refused(api, master, campaign):
    response = api("filer_a").post(
        url(master["A"], campaign[Form.PLAN], "values"), {"values": {"420100.nonsense": 1}}, format="json"
    )
    assert response.status_code == 400
    assert "420100.nonsense" in str(error_of(response)["details"])


@pytest.mark.parametrize("form", [Form.CONTACTS, Form.WORK_PLAN, "q1"])
def test_returns_without_an_excel_layout_have_no_template(api, master, campaign, form):
    response = api("filer_a").get(url(master["A"], campaign[form], "template"))
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "no_template" and error["message"].startswith("该报表没有 Excel 模板")


# --- contacts: text values --------------------------------------------------------------------------


def test_contacts_are_filed_and_read_back_as_text(api, master, campaign):
    client = api("filer_a")
    response = client.post(
        url(master["A"], campaign[Form.CONTACTS], "values"), {"values": contact_values()}, format="json"
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["filing"]["id"]

    detail = client.get(f"/api/v1/filings/{pk}/").json()
    assert detail["period"]["form"] == "contacts" and detail["document"] is None
    assert detail["values"]["leader.name"] == "李建国"
    assert detail["values"]["liaison.mobile"] == "13900000002"  # a string, not a number
    assert detail["findings"]["counts"] == {"error": 0, "warning": 0, "unexplained": 0}


# --- documents -------------------------------------------------------------------------------------


def test_pdf_work_plan_is_uploaded_and_previewed_inline(api, master, campaign):
    client = api("filer_a")
    response = post_document(client, master["A"], campaign[Form.WORK_PLAN], "工作方案.pdf", PDF)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["version"]["number"] == 1 and body["version"]["values"] == {}
    assert body["version"]["upload_sha256"] == hashlib.sha256(PDF).hexdigest()
    pk = body["filing"]["id"]

    document = client.get(f"/api/v1/filings/{pk}/").json()["document"]
    assert document["type"] == "pdf" and document["content_type"] == "application/pdf"
    assert document["size"] == len(PDF) and document["name"] == "工作方案.pdf"
    assert document["url"] == f"/api/v1/filings/{pk}/document/"

    response = client.get(document["url"])
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def test_docx_experience_is_downloaded_as_an_attachment(api, master, campaign):
    client = api("filer_a")
    data = docx_bytes()
    response = post_document(client, master["A"], campaign["q1"], "经验做法.docx", data)
    assert response.status_code == 201, response.json()
    pk = response.json()["filing"]["id"]

    response = client.get(f"/api/v1/filings/{pk}/document/")
    assert response.status_code == 200 and response["Content-Type"] == DOCX_TYPE
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == data


def test_a_pdf_named_docx_is_served_as_the_pdf_it_is(api, master, campaign):
    client = api("filer_a")
    pk = post_document(client, master["A"], campaign[Form.WORK_PLAN], "方案.docx", PDF).json()["filing"]["id"]
    response = client.get(f"/api/v1/filings/{pk}/document/")
    assert response["Content-Type"] == "application/pdf"
    assert "%E6%96%B9%E6%A1%88.pdf" in response["Content-Disposition"]  # 方案.pdf


def test_older_versions_of_a_document_stay_downloadable(api, master, campaign):
    client = api("filer_a")
    post_document(client, master["A"], campaign[Form.WORK_PLAN], "v1.pdf", PDF)
    pk = post_document(client, master["A"], campaign[Form.WORK_PLAN], "v2.docx", docx_bytes()).json()[
        "filing"
    ]["id"]
    assert client.get(f"/api/v1/filings/{pk}/document/")["Content-Type"] == DOCX_TYPE
    old = client.get(f"/api/v1/filings/{pk}/document/?version=1")
    assert old["Content-Type"] == "application/pdf" and b"".join(old.streaming_content) == PDF
    assert client.get(f"/api/v1/filings/{pk}/document/?version=9").status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("工作方案.pdf", b"", "D101"),
        ("工作方案.pdf", PDF.replace(b"/Root 1 0 R", b"/Root 1 0 R /Encrypt 9 0 R"), "D107"),
        ("工作方案.pdf", b"<html><body>not a pdf</body></html>", "D105"),
        ("工作方案.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le"), "D103"),
    ],
)
def test_refused_documents_leave_only_an_audit_entry(api, master, campaign, name, data, code):
    response = post_document(api("filer_a"), master["A"], campaign[Form.WORK_PLAN], name, data)
    assert response.status_code == 400
    assert error_of(response)["code"] == code
    assert not FilingVersion.objects.exists()
    entry = AuditEntry.objects.get(action="filing.upload_rejected")
    assert entry.changes["sha256"] == hashlib.sha256(data).hexdigest()


def test_stale_lock_version_on_a_document_upload_is_a_conflict(api, master, campaign):
    client = api("filer_a")
    post_document(client, master["A"], campaign[Form.WORK_PLAN], "v1.pdf", PDF)
    response = post_document(client, master["A"], campaign[Form.WORK_PLAN], "v2.pdf", PDF, lock_version=0)
    assert response.status_code == 409 and error_of(response)["code"] == "conflict"


def test_values_cannot_be_posted_to_a_document_return(api, master, campaign):
    response = api("filer_a").post(
        url(master["A"], campaign[Form.WORK_PLAN], "values"), {"values": {}}, format="json"
    )
    assert response.status_code == 400
    assert "document/" in str(error_of(response)["details"])


def test_a_document_cannot_be_posted_to_a_table_return(api, master, campaign):
    response = post_document(api("filer_a"), master["A"], campaign[Form.PLAN], "a.pdf", PDF)
    assert response.status_code == 400 and error_of(response)["code"] == "not_a_document"


def test_explanations_on_a_document_return_are_refused_and_keep_the_file(api, master, campaign):
    client = api("filer_a")
    pk = post_document(client, master["A"], campaign[Form.WORK_PLAN], "a.pdf", PDF).json()["filing"]["id"]
    response = client.post(f"/api/v1/filings/{pk}/explanations/", {"explanations": {}}, format="json")
    assert response.status_code == 400 and error_of(response)["code"] == "not_applicable"
    assert Filing.objects.get(pk=pk).current_version.upload


def test_document_of_a_table_return_is_404(api, master, campaign):
    client = api("filer_a")
    pk = client.post(
        url(master["A"], campaign[Form.PLAN], "values"), {"values": plan_values()}, format="json"
    ).json()["filing"]["id"]
    response = client.get(f"/api/v1/filings/{pk}/document/")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_another_banks_document_is_404_and_the_followed_officer_can_read_it(api, master, campaign):
    pk = post_document(api("filer_a"), master["A"], campaign[Form.WORK_PLAN], "a.pdf", PDF).json()["filing"][
        "id"
    ]
    assert api("filer_b").get(f"/api/v1/filings/{pk}/document/").status_code == 404
    assert api("officer_out").get(f"/api/v1/filings/{pk}/document/").status_code == 404
    response = api("officer_in").get(f"/api/v1/filings/{pk}/document/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF


def test_a_document_return_is_submitted_with_its_own_receipt(api, master, campaign):
    pk = post_document(api("filer_a"), master["A"], campaign["q1"], "a.pdf", PDF).json()["filing"]["id"]
    response = api("signer_a").post(f"/api/v1/filings/{pk}/submit/", {"confirm": True}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["receipt_no"] == "XWJY2022Q1-ICBC-01"


# --- lists and details for every form ------------------------------------------------------------------


def test_filings_list_and_details_cover_every_form(api, master, campaign):
    client = api("filer_a")
    client.post(url(master["A"], campaign[Form.PLAN], "values"), {"values": plan_values()}, format="json")
    client.post(
        url(master["A"], campaign[Form.CONTACTS], "values"), {"values": contact_values()}, format="json"
    )
    post_document(client, master["A"], campaign[Form.WORK_PLAN], "a.pdf", PDF)
    post_document(client, master["A"], campaign["q1"], "b.docx", docx_bytes())

    listed = client.get("/api/v1/filings/").json()["results"]
    forms = sorted((f["period"]["form"], f["period"]["quarter"]) for f in listed)
    assert forms == [("contacts", None), ("experience", 1), ("plan", None), ("work_plan", None)]
    for filing in listed:
        detail = client.get(f"/api/v1/filings/{filing['id']}/")
        assert detail.status_code == 200
        body = detail.json()
        assert all(v is None or isinstance(v, str) for v in body["values"].values())
        assert (body["document"] is not None) == (body["period"]["form"] in ("work_plan", "experience"))

    only_plan = client.get(f"/api/v1/filings/?period={campaign[Form.PLAN].pk}").json()["results"]
    assert [f["period"]["label"] for f in only_plan] == ["2022年"]
    assert api("filer_b").get("/api/v1/filings/").json()["count"] == 0


def test_diff_of_two_plan_versions_labels_the_province_row(api, master, campaign):
    client = api("filer_a")
    first = client.post(
        url(master["A"], campaign[Form.PLAN], "values"), {"values": plan_values()}, format="json"
    )
    pk = first.json()["filing"]["id"]
    client.post(
        url(master["A"], campaign[Form.PLAN], "values"),
        {"values": {**plan_values(), "420100.balance_y2": "11"}},
        format="json",
    )
    rows = {r["code"]: r for r in client.get(f"/api/v1/filings/{pk}/diff/?a=1&b=2").json()["fields"]}
    assert rows["420100.balance_y2"]["changed"] and rows["420100.balance_y2"]["label"] == (
        "武汉分行 · 2020年末普惠小微贷款余额"
    )
    province = rows["420000.balance_y2"]
    assert province["label"] == "全省 · 2020年末普惠小微贷款余额"
    assert (province["a"], province["b"]) == ("170", "171")
