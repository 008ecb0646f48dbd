"""PDFs of the evaluation: the result table in the layout of 附件1 (A4 landscape) and one report card per
institution (A4 portrait, with an inline SVG trend chart), rendered from templates/evaluation/pdf/ by the
portal's PDF machinery (portal/pdf.py: WeasyPrint with the embedded CJK font, nothing fetched).
"""

from portal.pdf import render


def result_table_pdf(table, *, generated_at) -> bytes:
    """附件1: the result table, grouped, the 定性 and 定量 families under their headings, A4 landscape."""
    return render(
        "evaluation/pdf/results.html",
        {"table": table, "evaluation": table.evaluation, "generated_at": generated_at},
    )


def report_card_pdf(card, *, generated_at) -> bytes:
    return render(
        "evaluation/pdf/card.html",
        {"card": card, "evaluation": card.evaluation, "generated_at": generated_at},
    )
