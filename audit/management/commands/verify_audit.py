"""python manage.py verify_audit [--seal]: recompute the audit log's hash chain (audit/chain.py) and report
every entry missing, changed or slipped in since it was sealed. Exit status 1 when there is any."""

from django.core.management.base import BaseCommand, CommandError

from audit import chain


class Command(BaseCommand):
    help = "核验审计日志的哈希链：报告封存后被删除、改动或插入的审计记录。"

    def add_arguments(self, parser):
        parser.add_argument("--seal", action="store_true", help="先封存尚未封存的记录（与定时任务相同）")

    def handle(self, *args, seal: bool = False, **options):
        if seal:
            while chain.seal():
                pass
        report = chain.verify()
        self.stdout.write(
            f"封存 {report.seals} 段，已封存记录 {report.sealed_rows} 条，尚未封存 {report.unsealed_rows} 条；"
            f"最新摘要 {report.head}"
        )
        for problem in report.problems:
            self.stderr.write(problem)
        if not report.ok:
            raise CommandError(f"审计日志核验未通过：{len(report.problems)} 处问题。")
        self.stdout.write("审计日志核验通过。")
