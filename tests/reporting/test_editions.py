"""Editions of 附件4: the 2023 edition (各项贷款余额, 普惠小微不良贷款核销金额) through the web form, the template,
both readers, the API, the findings report and the rules; a workbook of one edition refused for a period of
the other; and a throw-away third edition declared here only, to show no code path names the editions."""

import dataclasses
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from reporting import excel
from reporting.definitions import (
    EDITIONS,
    MONITORING_2022,
    MONITORING_2023,
    FieldDef,
    Kind,
    definition_for,
)
from reporting.models import FilingVersion
from reporting.uploads import UploadRejected
from tests.factories import periods
from tests.notice_forms import MONITORING_HEADINGS, MONITORING_VALUES, notice_monitoring

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VALUES_2023 = {
    **{code: Decimal(str(v)) for code, v in MONITORING_VALUES.items()},
    "total_loan_balance": Decimal("4521.3"),
    "npl_write_offs": Decimal("1.25"),
}
HEADINGS_2023 = {
    **MONITORING_HEADINGS,
    "total_loan_balance": "X月末各项\n贷款余额",
    "npl_write_offs": "普惠小微不良\n贷款核销金额",
}
ORDER_2023 = [f.code for f in MONITORING_2023.fields]


@pytest.fixture
def months(users, master):
    return periods((2022, 1), (2023, 6))


def page_upload(client, institution, period, data: bytes):
    url = reverse("reporting:upload", args=[institution.pk, period.pk])
    file = SimpleUploadedFile("附件4.xlsx", data, content_type=XLSX)
    return client.post(url, {"file": file}, follow=True).content.decode()


def api_for(user) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def stored() -> dict:
    return {k: None if v is None else Decimal(v) for k, v in FilingVersion.objects.get().values.items()}


def notice_2023(values=VALUES_2023, **kw) -> bytes:
    return notice_monitoring(
        year=2023,
        values={k: float(v) for k, v in values.items()},
        headings=HEADINGS_2023,
        order=ORDER_2023,
        **kw,
    )


# --- the 2023 edition as declared -----------------------------------------------------------------------------


def test_the_edition_in_force_follows_the_year():
    assert definition_for("monitoring", 2021) is MONITORING_2022  # before the first edition: the first
    assert definition_for("monitoring", 2022) is MONITORING_2022
    assert definition_for("monitoring", 2023) is MONITORING_2023
    assert definition_for("monitoring", 2024) is MONITORING_2023  # the latest not newer than the year


def test_2023_keeps_the_2022_fields_and_puts_the_two_new_ones_under_zengliang():
    assert set(MONITORING_2022.codes) < set(MONITORING_2023.codes)
    new = {
        f.code: (f.unit, f.kind, f.group, f.column)
        for f in MONITORING_2023.fields
        if f.code not in MONITORING_2022.codes
    }
    assert new == {
        "total_loan_balance": ("亿元", Kind.STOCK, "增量", "F"),
        "npl_write_offs": ("亿元", Kind.YTD, "增量", "G"),
    }
    assert excel._group_spans(MONITORING_2023) == [("增量", 2, 7), ("扩面", 8, 11), ("降价", 12, 14)]


def test_2023_template_prints_the_new_columns_under_zengliang_and_reads_back():
    data = excel.monitoring_template(
        MONITORING_2023, institution_name="工商银行湖北省分行", year=2023, month=3, values=VALUES_2023
    )
    ws = openpyxl.load_workbook(io.BytesIO(data))[excel.SHEET]
    assert "B3:G3" in {str(r) for r in ws.merged_cells.ranges} and ws["B3"].value == "增量"
    assert (ws["F4"].value, ws["G4"].value, ws["H3"].value) == (
        "3月末各项贷款余额",
        "普惠小微不良贷款核销金额",
        "扩面",
    )
    upload = excel.read_monitoring_workbook(data, MONITORING_2023)
    assert (upload.year, upload.month, upload.template_id) == (2023, 3, "xwqy-monitoring-2023")
    assert {k: Decimal(str(v)) for k, v in upload.raw.items()} == VALUES_2023
    assert upload.cells["npl_write_offs"] == "G5" and upload.cells["weighted_rate"] == "N5"


def test_2023_sheet_in_the_notices_layout_is_read_by_its_headings():
    upload = excel.read_monitoring_workbook(notice_2023(), MONITORING_2023)
    assert {k: Decimal(str(v)) for k, v in upload.raw.items()} == VALUES_2023
    assert upload.cells["total_loan_balance"] == "F6" and upload.notes == ()


def test_2023_web_form_stores_and_shows_the_new_fields(client_for, master, months):
    client = client_for("filer_a")
    url = reverse("reporting:sheet", args=[master["A"].pk, months[(2023, 3)].pk])
    page = client.get(url).content.decode()
    assert 'name="total_loan_balance"' in page and 'name="npl_write_offs"' in page
    client.post(url, {code: str(v) for code, v in VALUES_2023.items()} | {"lock_version": "0"})
    version = FilingVersion.objects.get()
    assert version.edition == "2023" and stored() == VALUES_2023 and version.findings == []


def test_2023_sheet_through_the_page_and_the_api_with_findings_at_the_new_cells(
    client_for, master, months, users
):
    bad = {**VALUES_2023, "total_loan_balance": Decimal("300")}  # below 普惠小微 312.45
    page = page_upload(client_for("filer_a"), master["A"], months[(2023, 3)], notice_2023(bad))
    assert "已读取文件并保存第 1 版" in page
    [finding] = [f for f in FilingVersion.objects.get().findings if f["rule"] == "E205"]
    assert finding["location"] == "Sheet1!B6" and finding["fields"] == ["loan_balance", "total_loan_balance"]
    report = openpyxl.load_workbook(
        io.BytesIO(
            client_for("filer_a")
            .get(reverse("reporting:findings", args=[master["A"].pk, months[(2023, 3)].pk]))
            .content
        )
    ).active
    assert any("各项贷款余额" in str(c.value) for row in report.iter_rows() for c in row)

    response = api_for(users["filer_b"]).post(
        f"/api/v1/institutions/{master['B'].pk}/periods/{months[(2023, 3)].pk}/values/",
        {"values": {k: str(v) for k, v in VALUES_2023.items()}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["version"]["values"]["npl_write_offs"] == "1.25"
    definition = api_for(users["filer_b"]).get(f"/api/v1/periods/{months[(2023, 3)].pk}/definition/").json()
    assert definition["edition"] == "2023"
    assert {"total_loan_balance", "npl_write_offs"} <= {f["code"] for f in definition["fields"]}


# --- bad input: one edition's workbook for the other's period ---------------------------------------------------


def test_a_2022_template_for_a_2023_period_is_refused_naming_both_editions(client_for, master, months):
    data = excel.monitoring_template(MONITORING_2022, institution_name="工商银行", year=2022, month=12)
    page = page_upload(client_for("filer_a"), master["A"], months[(2023, 3)], data)
    assert "这是2022年版监测表（附件4），本期适用2023年版" in page
    assert "下载2023年版模板" in page and "各项贷款余额" in page
    assert not FilingVersion.objects.exists()


def test_the_notices_2022_sheet_for_a_2023_period_is_refused_naming_both_editions():
    with pytest.raises(UploadRejected) as refused:
        excel.read_monitoring_workbook(notice_monitoring(year=2023), MONITORING_2023)
    assert refused.value.code == "U208"
    assert "这是2022年版监测表（附件4），本期适用2023年版" in refused.value.message
    assert "“普惠小微不良贷款核销金额”" in refused.value.message


@pytest.mark.parametrize("layout", ["template", "notice"])
def test_a_2023_workbook_for_a_2022_period_is_refused_naming_both_editions(layout):
    data = (
        excel.monitoring_template(MONITORING_2023, institution_name="工商银行", year=2023, month=3)
        if layout == "template"
        else notice_2023()
    )
    with pytest.raises(UploadRejected) as refused:
        excel.read_monitoring_workbook(data, MONITORING_2022)
    assert refused.value.code == "U208"
    assert "这是2023年版监测表（附件4），本期适用2022年版" in refused.value.message
    assert "下载2022年版模板" in refused.value.message


def test_a_2022_sheet_with_an_extra_notes_column_is_still_a_2022_sheet():
    upload = excel.read_monitoring_workbook(notice_monitoring(extra=("备注", "无")), MONITORING_2022)
    assert upload.notes and "备注" in upload.notes[0]


def test_a_bulk_workbook_in_the_2022_layout_still_reads_under_the_2023_edition():
    rows = [
        {
            "institution_code": "ICBC",
            "institution_name": "工商银行",
            "year": 2022,
            "month": 12,
            "loan_balance": 1,
        }
    ]
    total, iterator = excel.iter_bulk_rows(excel.bulk_template(MONITORING_2022, rows), MONITORING_2023)
    [row] = list(iterator)
    assert (total, row.year, row.month, row.raw["loan_balance"]) == (1, 2022, 12, 1)
    total, iterator = excel.iter_bulk_rows(excel.bulk_template(MONITORING_2023, rows), MONITORING_2023)
    assert "total_loan_balance" in next(iterator).raw


# --- a third edition, declared in the test only -----------------------------------------------------------------

EXTRA = FieldDef("green_loans", "X月末普惠小微绿色贷款余额", "亿元", Kind.STOCK, "增量", "H")


def _third_edition():
    """2031: 2023's fields plus one under 增量; the later groups move one column right."""
    shifted = []
    for fd in MONITORING_2023.fields:
        if fd.group == "增量":
            shifted.append(fd)
        else:
            shifted.append(dataclasses.replace(fd, column=chr(ord(fd.column) + 1)))
    fields = [*shifted[:6], EXTRA, *shifted[6:]]
    return dataclasses.replace(
        MONITORING_2023, edition="2031", template_id="xwqy-monitoring-2031", fields=tuple(fields)
    )


@pytest.fixture
def third(monkeypatch, time_machine, users, master):
    edition = _third_edition()
    monkeypatch.setitem(EDITIONS, ("monitoring", "2031"), edition)
    time_machine.move_to("2031-04-02 10:00 +08:00")
    return edition, periods((2030, 12), (2031, 3))


def test_a_third_edition_declared_once_reaches_every_path(third, client_for, master, users):
    edition, months = third
    march = months[(2031, 3)]
    assert definition_for("monitoring", 2031) is edition
    values = {**VALUES_2023, "green_loans": Decimal("12.5")}

    # the web form
    client = client_for("filer_a")
    url = reverse("reporting:sheet", args=[master["A"].pk, march.pk])
    assert 'name="green_loans"' in client.get(url).content.decode()
    # the template and the reader; the rules by kind: E101 and E103 on the new field, at its cell
    data = client.get(reverse("reporting:template", args=[master["A"].pk, march.pk])).content
    ws = openpyxl.load_workbook(io.BytesIO(data))[excel.SHEET]
    assert ws["H4"].value == "3月末普惠小微绿色贷款余额" and ws["B3"].value == "增量"
    filled = {fd.column + "5": float(values[fd.code]) for fd in edition.fields if fd.code != "green_loans"}
    filled["H5"] = -1

    def change(wb):
        for ref, value in filled.items():
            wb[excel.SHEET][ref] = value

    book = openpyxl.load_workbook(io.BytesIO(data))
    change(book)
    out = io.BytesIO()
    book.save(out)
    page = page_upload(client, master["A"], march, out.getvalue())
    assert "已读取文件并保存第 1 版" in page
    version = FilingVersion.objects.get()
    assert version.edition == "2031"
    [e103] = [f for f in version.findings if f["rule"] == "E103"]
    assert (e103["field"], e103["location"]) == ("green_loans", "监测表!H5")
    # the findings report names it
    report = client.get(reverse("reporting:findings", args=[master["A"].pk, march.pk])).content
    cells = [
        str(c.value) for row in openpyxl.load_workbook(io.BytesIO(report)).active.iter_rows() for c in row
    ]
    assert any("绿色贷款余额" in c for c in cells)
    # the notice-layout reader (headings in any order) and the API
    notice = notice_monitoring(
        year=2031,
        values={k: float(v) for k, v in values.items()},
        headings={**HEADINGS_2023, "green_loans": "X月末普惠小微\n绿色贷款余额"},
        order=list(reversed(edition.codes)),
    )
    assert excel.read_monitoring_workbook(notice, edition).raw["green_loans"] == 12.5
    response = api_for(users["filer_b"]).post(
        f"/api/v1/institutions/{master['B'].pk}/periods/{march.pk}/values/",
        {"values": {k: str(v) for k, v in values.items() if k != "green_loans"}},
        format="json",
    )
    assert response.status_code == 201
    missing = [f for f in response.json()["version"]["findings"]["errors"] if f["rule"] == "E101"]
    assert [f["field"] for f in missing] == ["green_loans"]
    # and a 2023 workbook for its period names both editions
    with pytest.raises(UploadRejected) as refused:
        excel.read_monitoring_workbook(notice_2023(), edition)
    assert "这是2023年版监测表（附件4），本期适用2031年版" in refused.value.message


# --- the evaluation may score the write-off-restored growth -----------------------------------------------------


def test_an_evaluation_item_can_score_the_restored_growth_instead_of_the_plain_one(users, master):
    from evaluation import services as evaluation_services
    from evaluation.models import ItemInput
    from indicators import indicators as ind
    from indicators.storage import Stored, put

    admin = users["pboc_admin"]
    evaluation = evaluation_services.create_evaluation(actor=admin, year=2023, jurisdiction=master["branch"])
    growth = evaluation.items.get(code="growth_ytd")
    settings = {
        i.pk: evaluation_services.ItemSettings(
            weight=i.weight,
            method=i.method,
            floor_share=i.floor_share,
            indicator_code="loan_growth_restored_ytd" if i.pk == growth.pk else i.indicator_code,
            indicator_year=2023 if i.is_quantitative else None,
            indicator_month=6 if i.is_quantitative else None,
        )
        for i in evaluation.items.all()
    }
    evaluation_services.update_scheme(
        actor=admin,
        evaluation=evaluation,
        items=settings,
        grading_method=evaluation.grading_method,
        thresholds=evaluation.thresholds,
    )
    growth.refresh_from_db()
    assert growth.indicator_code == "loan_growth_restored_ytd"
    assert ind.get("loan_growth_restored_ytd").better == "high"  # offered on the scheme page
    put(
        Stored(
            scope_kind="institution",
            scope_key=str(inst.pk),
            year=2023,
            month=6,
            code=code,
            value=value,
            reason="",
            contributors=1,
            members=1,
        )
        for inst in (master["A"], master["B"])
        for code, value in (
            ("loan_growth_restored_ytd", Decimal("0.12")),
            ("loan_growth_ytd", Decimal("0.10")),
        )
    )
    evaluation_services.fetch_inputs(actor=admin, evaluation=evaluation)
    assert ItemInput.objects.get(item=growth, institution=master["A"]).value == Decimal("0.12")
