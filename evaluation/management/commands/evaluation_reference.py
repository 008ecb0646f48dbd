"""python manage.py evaluation_reference PATH — reproduce 附件1 (2021) with the engine and compare."""

import unicodedata
from argparse import RawDescriptionHelpFormatter

from django.core.management.base import BaseCommand, CommandError

from evaluation import grading, reference, scoring

HELP = """\
读取 2021 年湖北省四张清单评估结果（附件1，PATH 为其 CSV，fixtures/ 中有副本），用评估引擎重新计算
每家机构的总分与组间评估结果，与附件1逐行对照打印；任何总分相差 0.01 及以上、任何评估结果不同，
均以非零状态退出。

复现所用的配置（详见 evaluation/reference.py）：
  分组：第1组 5 家大型银行、第2组 14 家全国性股份制与政策性机构、第3组 5 家地方法人银行（附件1 的版面）；
  定性：附件1 公布的整数得分；
  定量：组内线性插值，组内最低者得分值的 60%（12 分）、最高者满分（20 分）；附件1 未公布指标原值，
        线性插值只取决于机构在组内的相对位置，故以“得分等价值”作为指标输入；总分与舍入后分项之和
        相差 0.01 的三行，两项定量得分各在其舍入区间内平移 ±0.00375；
  评级：按与组内平均分（已公布总分的平均）之差 —— 优秀 ≥ 平均分 + 5，良好 ≥ 平均分，
        一般 ≥ 平均分 - 5，其余勉励。绝对分数线与组内排名比例均无法复现附件1（--analyse 打印原因）。
"""


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


class Command(BaseCommand):
    help = HELP

    def create_parser(self, *args, **kwargs):
        parser = super().create_parser(*args, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("path", help="附件1 的 CSV（如 fixtures/2021-hubei-four-lists-evaluation.csv）")
        parser.add_argument(
            "--analyse", action="store_true", help="同时打印三种评级方法能否复现附件1 及可行的分数线区间"
        )

    def handle(self, *args, path, analyse, **options):
        try:
            table = reference.read_table(path)
            comparison = reference.compare(table)
        except (reference.ReferenceError, scoring.ScoringError) as exc:
            raise CommandError(exc.message) from None
        items = [d for d in reference.ITEMS_2021]
        header = (
            ["机构", "分组", "附件1总分", "引擎总分", "差", "附件1结果", "引擎结果"]
            + [d.name for d in items]
            + [""]
        )
        widths = [10, 6, 10, 16, 6, 10, 10] + [max(_width(d.name), 16) for d in items] + [4]
        self.stdout.write(f"{reference.TITLE_2021}：附件1 与评估引擎对照")
        self.stdout.write(f"评级：{reference.GRADING_2021.describe()}")
        self.stdout.write("  ".join(_pad(h, w) for h, w in zip(header, widths, strict=True)))
        group_names = dict(reference.GROUPS)
        for line in comparison.lines:
            row = line.row
            cells = [
                row.name,
                group_names[row.group],
                f"{row.total:.2f}",
                f"{line.total:.6f}",
                f"{line.shown_total - row.total:+.2f}",
                grading.GRADE_LABELS[row.grade],
                grading.GRADE_LABELS[line.grade],
            ]
            for d in items:
                ok = scoring.half_up(line.scores[d.code]) == row.scores[d.code]
                cells.append(
                    f"{row.scores[d.code]:.2f}/{scoring.text(line.scores[d.code])}{'' if ok else ' ✗'}"
                )
            cells.append("✓" if line.ok else "✗")
            self.stdout.write(
                "  ".join(
                    _pad(c, w, right=i in (2, 3, 4))
                    for i, (c, w) in enumerate(zip(cells, widths, strict=True))
                )
            )
        for name, delta in comparison.reconstruction.adjusted.items():
            self.stdout.write(f"注：{name} 两项定量得分按未舍入值 {delta:+} 还原（总分由未舍入分项相加）。")
        if analyse:
            self.stdout.write("\n评级方法分析（附件1 未公布分数线）：")
            for fit in grading.analyse(table.frame(), group_names):
                label = grading.METHOD_LABELS[fit.method]
                if not fit.feasible:
                    self.stdout.write(f"  {label}：无法复现 —— {fit.reason}")
                    continue
                bounds = "；".join(
                    f"{grading.GRADE_LABELS[b.grade]}线 ∈ ({scoring.text(b.low)}, {scoring.text(b.high)}]"
                    for b in fit.bounds
                )
                self.stdout.write(f"  {label}：可复现，{bounds}；取整：{fit.spec.describe()}")
        differences = comparison.differences
        if differences:
            raise CommandError(
                f"{len(differences)} 家机构与附件1 不符："
                + "、".join(
                    f"{d.row.name}（总分 {d.row.total}→{d.shown_total}，"
                    f"{grading.GRADE_LABELS[d.row.grade]}→{grading.GRADE_LABELS[d.grade]}）"
                    for d in differences
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"全部 {len(comparison.lines)} 家机构的总分（±0.01 以内）与评估结果均与附件1 一致。"
            )
        )
