"""python manage.py evaluation_pdf_timing — how long a result-table PDF takes with the CJK font vs Latin."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from evaluation import selectors
from evaluation.models import Evaluation, Status
from portal import pdf


class Command(BaseCommand):
    help = (
        "测量结果表 PDF（A4 横向，一页）的渲染耗时：嵌入文泉驿正黑（中文）与把中文替换为拉丁字母、使用 DejaVu Sans 的"
        "同一页面对比，各取中位数。需先载入一项已发布的评估（loaddemo）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=5)

    def handle(self, *args, runs, **options):
        evaluation = Evaluation.objects.filter(status=Status.PUBLISHED).order_by("year").first()
        if evaluation is None:
            raise CommandError("没有已发布的评估：请先运行 python manage.py loaddemo。")
        table = selectors.results(evaluation)
        context = {"table": table, "evaluation": evaluation, "generated_at": timezone.now()}
        result = pdf.timing("evaluation/pdf/results.html", context, runs=runs)
        self.stdout.write(
            f"{evaluation}：中文（{pdf.font_path().name}）{result['cjk']:.3f} 秒；"
            f"拉丁字体（DejaVu Sans）{result['latin']:.3f} 秒；比值 {result['cjk'] / result['latin']:.1f}（中位数，{runs} 次）"
        )
