"""Reports of the evaluation: the 附件1 table as PDF and Excel, report cards, the ZIP job, the export command,
and who may download what. PDFs are checked with poppler (pdftotext, pdffonts) as a reader would see them."""

import io
import re
import subprocess
import zipfile
from decimal import Decimal as D

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from evaluation import excel, pages, pdf, selectors, services
from evaluation.models import ReportJob
from institutions.models import Institution
from tests.worlds import CSV, pdftotext, put_indicators, score_all


def pdffonts(data: bytes, tmp_path) -> list[list[str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[2:]]


def assert_cjk_font_embedded(data: bytes, tmp_path):
    fonts = pdffonts(data, tmp_path)
    cjk = [f for f in fonts if "PortalCJK" in f[0]]
    assert cjk, fonts
    # columns: name type encoding emb sub uni object ID — "CID TrueType" spans two words
    assert all(f[-5] == "yes" and f[-4] == "yes" for f in cjk), fonts  # embedded, subset
    assert not [f for f in fonts if "PortalCJK" not in f[0]], f"a glyph fell back to another font: {fonts}"


def test_result_table_pdf_has_every_institution_as_text_and_embeds_the_cjk_font(published, tmp_path):
    table = selectors.results(published)
    data = pdf.result_table_pdf(table, generated_at=timezone.now())
    text = pdftotext(data, tmp_path)
    for row in table.rows:
        assert row.name in text
    assert "2021年湖北省小微企业“四张清单”工作评估结果" in text
    assert "定性指标（60分）" in text and "定量指标（40分）" in text
    assert "授权、授信清单（25）" in text and "普惠小微贷款比年初增长（20）" in text
    assert "中信银行" in text and "76.58" in text  # the total from unrounded parts, not 76.57
    assert "优秀：总分 ≥ 组内平均分 + 5 分" in text
    assert_cjk_font_embedded(data, tmp_path)
    pages = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    assert re.search(r"Pages:\s+1\n", pages) and "841.89 x 595.276 pts (A4)" in pages  # one A4 landscape page


def test_a_report_card_shows_scores_beside_the_group_and_the_grade(published, tmp_path):
    pab = Institution.objects.get(code="PAB")
    card = pages.report_card(published, pab)
    assert card.row.shown_total == D("85.50") and card.row.grade == "excellent" and card.group_size == 14
    item = next(c for c in card.items if c.item.code == "growth_ytd")
    assert (
        item.best == D(20)
        and item.mean == sum(r.scores[3] for r in selectors.results(published).rows if r.group == "G2") / 14
    )
    data = pdf.report_card_pdf(card, generated_at=timezone.now())
    text = pdftotext(data, tmp_path)
    assert "平安银行股份有限公司武汉分行" in text and "优秀" in text and "85.50" in text
    assert "组内平均" in text and "组内最高" in text and "第2组" in text
    assert "普惠小微贷款余额" in text  # the trend chart, drawn as SVG with text labels
    assert "<svg" not in text
    assert_cjk_font_embedded(data, tmp_path)


def test_an_overridden_grade_shows_its_reason_in_the_page_pdf_and_excel(master, users, client_for, tmp_path):
    evaluation = services.create_evaluation(
        actor=users["pboc_admin"], year=2022, jurisdiction=master["branch"]
    )
    put_indicators(evaluation)
    services.fetch_inputs(actor=users["pboc_admin"], evaluation=evaluation)
    score_all(evaluation, users["officer_branch"])
    before = selectors.results(evaluation).row_for(master["B"].pk)
    target = "encouraged" if before.grade != "encouraged" else "good"
    reason = '=HYPERLINK("http://x")现场核查后调整'
    services.override_grade(
        actor=users["officer_branch"],
        evaluation=evaluation,
        institution=master["B"],
        grade=target,
        reason=reason,
    )
    table = selectors.results(evaluation)
    row = table.row_for(master["B"].pk)
    assert (row.grade, row.computed_grade, row.override_reason) == (target, before.grade, reason)

    page = (
        client_for("officer_branch").get(reverse("evaluation:detail", args=[evaluation.pk])).content.decode()
    )
    assert (
        f"湖北银行</b>：按规则为{before.grade_label}，调整为{row.grade_label}。理由：=HYPERLINK(&quot;http://x&quot;)现场核查后调整"
        in page
    )

    text = pdftotext(pdf.result_table_pdf(table, generated_at=timezone.now()), tmp_path)
    assert f"湖北银行：按规则为{before.grade_label}，经调整为{row.grade_label}。理由：=HYPERLINK" in text
    assert "草稿，未发布" in text
    card = pdftotext(
        pdf.report_card_pdf(pages.report_card(evaluation, master["B"], table), generated_at=timezone.now()),
        tmp_path,
    )
    assert f"经人民银行调整为{row.grade_label}" in card and "现场核查后调整" in card

    ws = openpyxl.load_workbook(io.BytesIO(excel.result_workbook(table))).active
    cells = [c.value for r in ws.iter_rows() for c in r if isinstance(c.value, str)]
    assert f"{row.grade_label}*" in cells
    note = next(v for v in cells if "湖北银行：按规则为" in v)
    assert "现场核查后调整" in note
    # nothing a person typed becomes a formula
    assert not any(v.startswith("=") for v in cells)


def test_the_excel_table_has_the_layout_of_attachment_1(published):
    wb = openpyxl.load_workbook(io.BytesIO(excel.result_workbook(selectors.results(published))))
    ws = wb.active
    assert ws["A1"].value == "2021年湖北省小微企业“四张清单”工作评估结果"
    assert [ws.cell(row=3, column=c).value for c in range(1, 6)] == [
        "机构",
        "分组",
        "组间评估结果",
        "总分",
        "定性指标（60分）",
    ]
    assert ws.cell(row=3, column=8).value == "定量指标（40分）"
    assert ws.cell(row=4, column=9).value == "同比增速（20）"
    assert {str(r) for r in ws.merged_cells.ranges} >= {"E3:G3", "H3:I3", "B5:B9", "B10:B23", "B24:B28"}
    assert (ws["A5"].value, ws["B5"].value, ws["C5"].value, ws["D5"].value) == (
        "工商银行",
        "第1组",
        "一般",
        83.56,
    )
    assert (ws["A14"].value, ws["D14"].value, ws["D14"].number_format) == ("中信银行", 76.58, "0.00")


def test_export_command_writes_pdf_and_xlsx(published, tmp_path):
    out = tmp_path / "r.pdf"
    call_command("export_evaluation", year=2021, format="pdf", out=str(out))
    assert out.read_bytes().startswith(b"%PDF") and "湖北省联社" in pdftotext(out.read_bytes(), tmp_path)
    xlsx = tmp_path / "r.xlsx"
    call_command("export_evaluation", year=2021, format="xlsx", out=str(xlsx))
    assert openpyxl.load_workbook(xlsx).active["A5"].value == "工商银行"


def test_export_command_says_when_nothing_is_published(master, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="2022年没有已发布的四张清单评估"):
        call_command("export_evaluation", year=2022, format="pdf", out=str(tmp_path / "x.pdf"))


# --- downloads and the ZIP job ---------------------------------------------------------------------------------


def test_a_bank_downloads_only_its_own_card_and_only_after_publication(master, users, client_for):
    evaluation = services.create_evaluation(
        actor=users["pboc_admin"], year=2022, jurisdiction=master["branch"]
    )
    client = client_for("filer_a")
    own = reverse("evaluation:card", args=[evaluation.pk, master["A"].pk])
    assert client.get(own).status_code == 404  # a draft: no card yet
    published = services.load_reference(path=CSV)
    own = reverse("evaluation:card", args=[published.pk, master["A"].pk])
    response = client.get(own)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "ICBC" in response["Content-Disposition"]
    assert client.get(reverse("evaluation:card", args=[published.pk, master["B"].pk])).status_code == 404
    assert client.get(reverse("evaluation:results_pdf", args=[published.pk])).status_code == 403
    assert client.get(reverse("evaluation:results_xlsx", args=[published.pk])).status_code == 403


def test_officers_download_the_tables_of_institutions_they_follow(published, client_for, tmp_path):
    response = client_for("officer_in").get(reverse("evaluation:results_pdf", args=[published.pk]))
    assert response.status_code == 200
    text = pdftotext(response.content, tmp_path)
    assert "工商银行" in text and "湖北银行" not in text  # 营业管理部 follows the 19 national banks only
    assert (
        client_for("officer_out").get(reverse("evaluation:results_pdf", args=[published.pk])).status_code
        == 404
    )


def test_all_cards_as_a_zip_from_a_celery_job_with_progress(
    published, users, client_for, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client = client_for("pboc_admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("evaluation:cards", args=[published.pk]))
    job = ReportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "evaluation:job", args=[published.pk, job.pk]
    )
    assert (job.status, job.processed, job.total, job.percent) == (ReportJob.Status.DONE, 24, 24, 100)
    status = client.get(reverse("evaluation:job_status", args=[published.pk, job.pk])).json()
    assert status["status"] == "done" and status["percent"] == 100 and status["download"]
    page = client.get(reverse("evaluation:job", args=[published.pk, job.pk])).content.decode()
    assert re.search(r'<progress[^>]*id="job-bar"[^>]*value="100"', page)
    download = client.get(status["download"])
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = archive.namelist()
    assert len(names) == 24 and "2021年四张清单评估报告-HBB-湖北银行.pdf" in names
    assert archive.read(names[0]).startswith(b"%PDF")
    # the job is its creator's: another admin's or a bank's request finds nothing
    assert (
        client_for("filer_a").get(reverse("evaluation:job_status", args=[published.pk, job.pk])).status_code
        == 404
    )


def test_a_bank_cannot_start_the_zip_job(published, client_for):
    response = client_for("filer_a").post(reverse("evaluation:cards", args=[published.pk]))
    assert response.status_code == 403 and not ReportJob.objects.exists()


def test_a_failing_card_marks_the_job_failed(
    published, users, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = False

    def broken(*args, **kwargs):
        raise RuntimeError("字体文件损坏")

    monkeypatch.setattr(pdf, "report_card_pdf", broken)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.request_report_cards(actor=users["pboc_admin"], evaluation=published)
    job.refresh_from_db()
    assert job.status == ReportJob.Status.FAILED and "字体文件损坏" in job.error
