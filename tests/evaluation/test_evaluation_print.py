"""What leadership reads: 附件1 as PDF and Excel prints the scores as the seed does (定性 18, 定量 15.61), carries
the evaluation's real publication date and no technical footnote; the page keeps the rounding note."""

import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from evaluation import excel, pdf, scoring, selectors
from tests.worlds import pdftotext


@pytest.mark.parametrize(
    ("value", "qualitative", "shown"),
    [
        (Decimal("18"), True, "18"),
        (Decimal("17.5"), True, "17.5"),
        (Decimal("17.255"), True, "17.26"),
        (None, True, "—"),
        (Decimal("20"), False, "20.00"),
        (Decimal("15.605"), False, "15.61"),
    ],
)
def test_item_scores_print_as_attachment_1_prints_them(value, qualitative, shown):
    assert scoring.item_text(value, qualitative=qualitative) == shown


def test_the_reference_evaluation_is_dated_by_the_notice_not_by_the_load(published):
    assert timezone.localtime(published.published_at).date().isoformat() == "2022-04-24"


def test_the_pdf_prints_whole_qualitative_scores_the_publication_date_and_no_footnote(published, tmp_path):
    table = selectors.results(published)
    text = pdftotext(pdf.result_table_pdf(table, generated_at=timezone.now()), tmp_path)
    icbc = next(line for line in text.splitlines() if "工商银行" in line)
    # 附件1: 工商银行 一般 83.56 | 18 15 17 | 15.61 17.95
    assert re.search(r"83\.56\s+18\s+15\s+17\s+15\.61\s+17\.95", icbc), icbc
    assert "18.00" not in icbc
    assert "2022年4月24日发布" in text
    assert "相差 0.01" not in text and "四舍五入" not in text
    assert "生成时间" not in text  # a published table is dated by its publication


def test_the_excel_table_shows_whole_qualitative_scores_without_decimals(published):
    ws = openpyxl.load_workbook(io.BytesIO(excel.result_workbook(selectors.results(published)))).active
    assert ws["A5"].value == "工商银行"
    assert [ws.cell(row=5, column=c).number_format for c in range(4, 10)] == [
        "0.00",  # 总分 83.56
        "0",  # 18
        "0",  # 15
        "0",  # 17
        "0.00",  # 15.61
        "0.00",  # 17.95
    ]
    assert "2022年04月24日发布" in ws["A2"].value


def test_the_page_keeps_the_rounding_note(published, client_for):
    page = client_for("officer_branch").get(f"/evaluation/{published.pk}/").content.decode()
    assert "四舍五入" in page
