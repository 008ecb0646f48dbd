"""python manage.py refresh_indicators [--year 2022] — recompute the stored indicators now, in this process."""

from django.core.management.base import BaseCommand

from indicators import services


class Command(BaseCommand):
    help = "重新计算并存储监测指标（默认全部年度）。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="只刷新该年度")

    def handle(self, *args, **options):
        year = options.get("year")
        run = services.refresh_now(years=(year, year) if year else None)
        self.stdout.write(
            f"监测指标刷新 #{run.pk}：{run.get_status_display()}，{run.first_year}–{run.last_year} 年，"
            f"写入 {run.row_count} 个指标值，用时 {run.duration_ms} 毫秒"
        )
