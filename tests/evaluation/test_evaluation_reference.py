"""附件1 (2021) reproduced: the command exits 0 on the real table and non-zero on any difference; the grading
analysis; the reconstruction of the unrounded parts; the table loaded as a published evaluation."""

import csv
import os
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

from evaluation import grading, reference, selectors, services
from evaluation.models import Evaluation, InputSource, ItemInput, Result, Status
from portal.errors import ServiceError
from tests.worlds import CSV

ROOT = Path(__file__).resolve().parents[2]


def run_command(path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "evaluation_reference", str(path), "--analyse"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings"},
    )


def perturbed(tmp_path, name: str, column: str, value: str) -> Path:
    with open(CSV, encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    for row in rows[1:]:
        if row[0] == name:
            row[header.index(column)] = value
    out = tmp_path / "perturbed.csv"
    with open(out, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return out


def test_the_fixture_is_the_shared_reference_copy():
    shared = Path("/work/shared/reference/2021-hubei-four-lists-evaluation.csv")
    if shared.exists():  # the product never reads ../shared; this only checks the copy is faithful
        assert shared.read_bytes() == CSV.read_bytes()
    assert len(reference.read_table(CSV).rows) == 24


def test_reference_command_reproduces_every_total_and_grade():
    result = run_command(CSV)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "全部 24 家机构的总分（±0.01 以内）与评估结果均与附件1 一致" in out
    assert "中信银行" in out and "76.577500" in out  # the unrounded total behind 76.58
    assert "按组内排名比例：无法复现" in out and "按总分分数线：无法复现" in out
    assert "按与组内平均分之差：可复现" in out


def test_reference_command_fails_on_a_perturbed_grade(tmp_path):
    result = run_command(perturbed(tmp_path, "建设银行", "组间评估结果", "良好"))
    assert result.returncode != 0
    assert "建设银行" in result.stderr and "良好→一般" in result.stderr


def test_reference_command_fails_on_a_perturbed_total(tmp_path):
    result = run_command(perturbed(tmp_path, "湖北银行", "总分", "87.01"))
    assert result.returncode != 0
    assert "湖北银行" in result.stderr


def test_reference_command_refuses_a_file_that_is_not_the_table(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("机构,分组\n工商银行,第1组\n", encoding="utf-8")
    result = run_command(bad)
    assert result.returncode != 0 and "前四列应为" in result.stderr


def test_three_rows_need_their_unrounded_parts_and_get_them_within_the_rounding_interval():
    table = reference.read_table(CSV)
    gaps = {r.name: r.total - sum(r.scores.values()) for r in table.rows if r.total != sum(r.scores.values())}
    assert gaps == {"中信银行": D("0.01"), "平安银行": D("-0.01"), "武汉农商行": D("-0.01")}
    rebuilt = reference.reconstruct(table)
    assert rebuilt.adjusted == {
        "中信银行": D("0.00375"),
        "平安银行": D("-0.00375"),
        "武汉农商行": D("-0.00375"),
    }
    assert rebuilt.values[("中信银行", "growth_ytd")] == D("15.15375")
    # every other row keeps its published figures, the 12.00 / 20.00 anchors included
    assert rebuilt.values[("华夏银行", "growth_ytd")] == D("12.00")
    assert rebuilt.values[("邮储银行", "growth_ytd")] == D("20.00")


def test_the_grading_that_fits_is_relative_to_the_group_mean_plus_minus_five():
    fits = {f.method: f for f in grading.analyse(reference.read_table(CSV).frame())}
    assert not fits[grading.ABSOLUTE].feasible
    assert not fits[grading.RANK_QUOTA].feasible
    relative = fits[grading.RELATIVE_MEAN]
    assert relative.feasible and relative.spec == reference.GRADING_2021
    excellent, good, fair = relative.bounds
    assert D("3.86") < excellent.low < D("3.87") and excellent.high == D("5.62")
    assert D("-1.09") < good.low < D("-1.08") and D("0.17") < good.high < D("0.18")
    assert fair.low == D("-5.596") and D("-4.54") < fair.high < D("-4.53")


def test_another_grading_does_not_reproduce_the_table():
    table = reference.read_table(CSV)
    comparison = reference.compare(
        table, grading.GradingSpec(method=grading.RELATIVE_MEAN, thresholds=(D(4), D(0), D(-4)))
    )
    # with −4 for 一般, 浦发银行 (−4.54 below its group mean) becomes 勉励
    assert [d.row.name for d in comparison.differences] == ["浦发银行"]


def test_loading_the_reference_publishes_it_with_the_published_figures(db, master):
    evaluation = services.load_reference(path=CSV)
    assert evaluation.status == Status.PUBLISHED and evaluation.year == 2021
    assert services.load_reference(path=CSV).pk == evaluation.pk  # idempotent
    assert Result.objects.filter(evaluation=evaluation).count() == 24
    assert ItemInput.objects.filter(evaluation=evaluation, source=InputSource.REFERENCE).count() == 48
    table = selectors.results(evaluation)
    by_name = {r.name: r for r in table.rows}
    for row in reference.read_table(CSV).rows:
        assert by_name[row.name].shown_total == row.total
        assert by_name[row.name].grade == row.grade
    # stored unrounded: 中信银行's total is 76.5775, not the 76.57 its rounded parts add up to
    assert Result.objects.get(evaluation=evaluation, institution__short_name="中信银行").total == D("76.5775")
    # the table is grouped as in 附件1
    assert [g for g, _rows in table.groups()] == ["第1组", "第2组", "第3组"]
    assert [len(rows) for _g, rows in table.groups()] == [5, 14, 5]


def test_the_reference_is_refused_when_an_institution_is_unknown(db, master, tmp_path):
    path = perturbed(tmp_path, "恒丰银行", "机构", "某某银行")
    with pytest.raises(ServiceError) as caught:
        services.load_reference(path=path)
    assert "某某银行" in caught.value.message
    assert not Evaluation.objects.exists()
