"""python manage.py export_evaluation --year 2021 --format pdf --out FILE"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from evaluation import excel, pdf, selectors
from evaluation.models import Evaluation, Status
from institutions.models import PbocOffice


class Command(BaseCommand):
    help = (
        "导出某年已发布的四张清单评估结果（附件1 版式）：--format pdf 为 A4 横向 PDF（嵌入中文字体），"
        "--format xlsx 为 Excel。默认导出省级（武汉分行）组织的评估；--evaluation 可指定评估编号（含草稿）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="评估年度，如 2021")
        parser.add_argument("--evaluation", type=int, help="评估编号（不指定时取该年度已发布的评估）")
        parser.add_argument(
            "--jurisdiction", default="", help="组织评估的人民银行机构代码（默认顶级机构，如 WH）"
        )
        parser.add_argument("--format", choices=["pdf", "xlsx"], required=True)
        parser.add_argument("--out", required=True, help="输出文件路径")

    def handle(self, *args, year, evaluation, jurisdiction, format, out, **options):
        if evaluation:
            found = Evaluation.objects.filter(pk=evaluation).select_related("jurisdiction").first()
            if found is None:
                raise CommandError(f"评估 #{evaluation} 不存在。")
        else:
            if not year:
                raise CommandError("请用 --year 指定年度，或用 --evaluation 指定评估编号。")
            office = (
                PbocOffice.objects.filter(code=jurisdiction).first()
                if jurisdiction
                else PbocOffice.objects.filter(parent__isnull=True).order_by("code").first()
            )
            if office is None:
                raise CommandError(f"人民银行机构“{jurisdiction}”不存在。")
            found = (
                Evaluation.objects.filter(year=year, jurisdiction=office, status=Status.PUBLISHED)
                .select_related("jurisdiction")
                .first()
            )
            if found is None:
                raise CommandError(
                    f"{office} {year}年没有已发布的四张清单评估。可先运行 python manage.py loaddemo（载入 2021 年附件1），"
                    "或用 --evaluation 指定草稿编号。"
                )
        table = selectors.results(found)
        if not table.ok:
            raise CommandError(f"{found} 尚不能计算：" + "；".join(table.problems[:10]))
        data = (
            pdf.result_table_pdf(table, generated_at=timezone.now())
            if format == "pdf"
            else excel.result_workbook(table)
        )
        Path(out).write_bytes(data)
        self.stdout.write(f"已导出 {found}（{len(table.rows)} 家机构）→ {out}（{len(data):,} 字节）")
