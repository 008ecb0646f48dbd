"""The 四张清单 engine on small cases: every 定量 method and grading rule with ties, a group of one, a zero
denominator and everyone equal; rounding half-up; totals from unrounded parts; bad input stopped whole."""

from decimal import Decimal as D

import pandas as pd
import pytest

from evaluation import grading, scoring
from evaluation.grading import ENCOURAGED, EXCELLENT, FAIR, GOOD, GradingSpec
from evaluation.scoring import QUALITATIVE, QUANTITATIVE, ItemSpec, Scheme, ScoringError

W = D(20)
FLOOR = D("0.6")


def item(method, **extra) -> ItemSpec:
    return ItemSpec(
        code="q", name="同比增速", kind=QUANTITATIVE, weight=W, method=method, floor_share=FLOOR, **extra
    )


def run(method, values, groups=None, **extra) -> list[D]:
    groups = groups or ["G1"] * len(values)
    index = [f"i{n}" for n in range(len(values))]
    scores = scoring.score_item(
        item(method, **extra),
        pd.Series([D(str(v)) for v in values], index=index, dtype=object),
        pd.Series(groups, index=index),
    )
    return list(scores)


# --- linear -----------------------------------------------------------------------------------------------------


def test_linear_gives_the_floor_to_the_lowest_and_full_weight_to_the_best_of_each_group():
    scores = run(scoring.LINEAR, [0.10, 0.20, 0.30, 5, 7], groups=["G1", "G1", "G1", "G2", "G2"])
    assert scores == [D(12), D(16), D(20), D(12), D(20)]


def test_linear_keeps_scores_unrounded():
    scores = run(scoring.LINEAR, [0, 1, 3])
    assert scores[1] == D("14.666666666667")  # 12 + 8/3, to 12 decimals
    assert scoring.half_up(scores[1]) == D("14.67")


def test_linear_ties_get_the_same_score():
    assert run(scoring.LINEAR, [1, 2, 2]) == [D(12), D(20), D(20)]


@pytest.mark.parametrize("method", scoring.METHODS)
def test_every_method_gives_a_group_of_one_full_weight(method):
    extra = {"target": D("0.5")} if method == scoring.LINEAR_TARGET else {}
    extra |= {"steps": ((D("-100"), D(1)),)} if method == scoring.STEPS else {}
    assert run(method, [0.05], **extra) == [W]


@pytest.mark.parametrize(
    "method", [scoring.LINEAR, scoring.LINEAR_TARGET, scoring.RATIO_TO_BEST, scoring.RANK]
)
def test_everyone_equal_means_nobody_is_behind_the_best(method):
    extra = {"target": D("0.5")} if method == scoring.LINEAR_TARGET else {}
    assert run(method, [0.1, 0.1, 0.1], **extra) == [W, W, W]


def test_linear_with_target_gives_full_marks_from_the_target_up():
    scores = run(scoring.LINEAR_TARGET, [0.10, 0.20, 0.30, 0.50], target=D("0.30"))
    assert scores == [D(12), D(16), D(20), D(20)]


def test_linear_with_target_below_everyone_gives_everyone_full_marks():
    assert run(scoring.LINEAR_TARGET, [0.10, 0.20], target=D("0.05")) == [W, W]


def test_ratio_to_best_scales_between_floor_and_weight():
    assert run(scoring.RATIO_TO_BEST, [0, 0.1, 0.2]) == [D(12), D(16), D(20)]


def test_ratio_to_best_clips_negative_values_at_the_floor():
    assert run(scoring.RATIO_TO_BEST, [-0.1, 0.2])[0] == D(12)


def test_ratio_to_best_refuses_a_zero_best_instead_of_dividing_by_it():
    with pytest.raises(ScoringError) as caught:
        run(scoring.RATIO_TO_BEST, [-0.2, 0])
    assert "最优值为 0.0000" in caught.value.message and "不大于零" in caught.value.message


def test_all_zero_is_everyone_equal_even_for_the_ratio_method():
    assert run(scoring.RATIO_TO_BEST, [0, 0]) == [W, W]


def test_rank_shares_the_better_rank_on_ties():
    # ranks 1, 2, 2, 4 of 4: 12 + 8 × (4 − r) / 3
    scores = run(scoring.RANK, [9, 5, 5, 1])
    assert scores == [D(20), D("17.333333333333"), D("17.333333333333"), D(12)]


def test_steps_take_the_highest_step_reached_else_the_floor():
    steps = ((D("0.1"), D("0.8")), (D("0.3"), D(1)))
    assert run(scoring.STEPS, [0.05, 0.1, 0.29, 0.3, 0.9], steps=steps) == [D(12), D(16), D(16), W, W]


# --- rounding and totals -------------------------------------------------------------------------------------------


def test_half_up_rounds_five_away_from_zero_unlike_bankers_rounding():
    assert scoring.half_up(D("15.155")) == D("15.16")
    assert scoring.half_up(D("15.165")) == D("15.17")
    assert f"{D('15.165'):.2f}" == "15.16"  # Python's own formatting would have said 15.16
    assert scoring.text(None) == "—" and scoring.text("") == "—"


def scheme(grading_spec=None, **kw) -> Scheme:
    items = kw.pop(
        "items",
        (
            ItemSpec(code="a", name="授权、授信清单", kind=QUALITATIVE, weight=D(60)),
            ItemSpec(
                code="b",
                name="同比增速",
                kind=QUANTITATIVE,
                weight=D(40),
                method=scoring.LINEAR,
                floor_share=FLOOR,
            ),
        ),
    )
    return Scheme(
        total_weight=kw.pop("total", D(100)),
        items=items,
        groups=kw.pop("groups", (("G1", "第1组"), ("G2", "第2组"))),
        grading=grading_spec or GradingSpec(method=grading.RELATIVE_MEAN, thresholds=(D(5), D(0), D(-5))),
    )


def members(*rows):
    return pd.DataFrame(
        [(k, f"银行{k}", g, n) for n, (k, g) in enumerate(rows)],
        columns=["institution", "name", "group", "order"],
    )


def test_totals_are_sums_of_unrounded_parts():
    # b: 24 + 16 × (x − 0) / 3 → 29.333… for x = 1; a: 50.33 → total 79.6633… shows 79.66, not 50.33 + 29.33 = 79.66
    outcome = scoring.evaluate(
        scheme=scheme(groups=(("G1", "第1组"),)),
        members=members((1, "G1"), (2, "G1"), (3, "G1")),
        qualitative=pd.DataFrame(
            [(1, "a", D("50.33")), (2, "a", D(40)), (3, "a", D(55))], columns=["institution", "item", "score"]
        ),
        quantitative=pd.DataFrame(
            [(1, "b", D(1), ""), (2, "b", D(0), ""), (3, "b", D(3), "")],
            columns=["institution", "item", "value", "reason"],
        ),
    )
    frame = outcome.frame
    assert frame.loc[1, "b"] == D("29.333333333333")
    assert frame.loc[1, "total"] == D("79.663333333333")
    assert frame.loc[1, "shown"] == D("79.66")


def test_a_total_that_differs_from_the_sum_of_rounded_parts():
    # 12.005 + 12.005 + 50 = 74.01 (unrounded) while 12.01 + 12.01 + 50 = 74.02 from the rounded parts
    items = (
        ItemSpec(code="a", name="定性", kind=QUALITATIVE, weight=D(60)),
        ItemSpec(
            code="b",
            name="b",
            kind=QUANTITATIVE,
            weight=D(20),
            method=scoring.STEPS,
            steps=((D(0), D("0.60025")),),
        ),
        ItemSpec(
            code="c",
            name="c",
            kind=QUANTITATIVE,
            weight=D(20),
            method=scoring.STEPS,
            steps=((D(0), D("0.60025")),),
        ),
    )
    outcome = scoring.evaluate(
        scheme=scheme(items=items, groups=(("G1", "第1组"),)),
        members=members((1, "G1")),
        qualitative=pd.DataFrame([(1, "a", D(50))], columns=["institution", "item", "score"]),
        quantitative=pd.DataFrame(
            [(1, "b", D(1), ""), (1, "c", D(1), "")], columns=["institution", "item", "value", "reason"]
        ),
    )
    row = outcome.frame.loc[1]
    assert scoring.half_up(row["b"]) == D("12.01") and row["shown"] == D("74.01")


# --- grading ----------------------------------------------------------------------------------------------------------


def grade(method, thresholds, totals, groups=None):
    groups = groups or ["G1"] * len(totals)
    frame = pd.DataFrame({"group": groups, "total": pd.Series([D(str(t)) for t in totals], dtype=object)})
    return list(
        grading.grade(frame, GradingSpec(method=method, thresholds=tuple(D(str(t)) for t in thresholds)))[
            "computed_grade"
        ]
    )


def test_absolute_thresholds():
    assert grade(grading.ABSOLUTE, (90, 80, 60), [95, 90, 89.99, 60, 59.99]) == [
        EXCELLENT,
        EXCELLENT,
        GOOD,
        FAIR,
        ENCOURAGED,
    ]


def test_absolute_thresholds_compare_the_published_total():
    # 89.995 is published as 90.00 and graded as 90.00
    assert grade(grading.ABSOLUTE, (90, 80, 60), ["89.995"]) == [EXCELLENT]


def test_relative_to_the_group_mean():
    # mean 80: +10, +2, 0, −3, −9
    assert grade(grading.RELATIVE_MEAN, (5, 0, -5), [90, 82, 80, 77, 71]) == [
        EXCELLENT,
        GOOD,
        GOOD,
        FAIR,
        ENCOURAGED,
    ]


def test_relative_grades_each_group_against_its_own_mean():
    # means 84 and 54: +4 / −4 in both groups, though every G2 total is below every G1 total
    result = grade(grading.RELATIVE_MEAN, (5, 0, -5), [88, 80, 58, 50], groups=["G1", "G1", "G2", "G2"])
    assert result == [GOOD, FAIR, GOOD, FAIR]


def test_relative_group_of_one_and_everyone_equal_sit_on_the_mean():
    assert grade(grading.RELATIVE_MEAN, (5, 0, -5), [71]) == [GOOD]
    assert grade(grading.RELATIVE_MEAN, (5, 0, -5), [70, 70, 70]) == [GOOD, GOOD, GOOD]


def test_rank_quotas_round_half_up_and_never_split_ties():
    # 5 members, 20% / 40% / 20%: places 1, 3 (round(3.0)), 4; ranks 1, 2, 2, 4, 5
    assert grade(grading.RANK_QUOTA, ("0.2", "0.4", "0.2"), [90, 85, 85, 70, 60]) == [
        EXCELLENT,
        GOOD,
        GOOD,
        FAIR,
        ENCOURAGED,
    ]
    # a tie at the top takes both into 优秀 although the quota is one place
    assert grade(grading.RANK_QUOTA, ("0.2", "0.4", "0.2"), [90, 90, 85, 70, 60])[:2] == [
        EXCELLENT,
        EXCELLENT,
    ]


def test_rank_quotas_for_a_group_of_one_and_everyone_equal():
    # one member: 优秀 has round(0.2 × 1) = 0 places, 良好 and better round(0.6 × 1) = 1
    assert grade(grading.RANK_QUOTA, ("0.2", "0.4", "0.2"), [50]) == [GOOD]
    assert grade(grading.RANK_QUOTA, ("0.2", "0.4", "0.2"), [70, 70, 70]) == [EXCELLENT] * 3


def test_grading_spec_problems():
    assert grading.spec_problems(GradingSpec(method=grading.ABSOLUTE, thresholds=(D(80), D(90), D(60))))
    assert grading.spec_problems(
        GradingSpec(method=grading.RANK_QUOTA, thresholds=(D("0.5"), D("0.4"), D("0.2")))
    )
    assert not grading.spec_problems(
        GradingSpec(method=grading.RELATIVE_MEAN, thresholds=(D(5), D(0), D(-5)))
    )


def test_override_replaces_the_grade_and_keeps_the_rule_s_grade_and_reason():
    outcome = scoring.evaluate(
        scheme=scheme(groups=(("G1", "第1组"),)),
        members=members((1, "G1"), (2, "G1")),
        qualitative=pd.DataFrame(
            [(1, "a", D(50)), (2, "a", D(40))], columns=["institution", "item", "score"]
        ),
        quantitative=pd.DataFrame(
            [(1, "b", D(1), ""), (2, "b", D(0), "")], columns=["institution", "item", "value", "reason"]
        ),
        overrides={2: (FAIR, "现场检查发现受理回告台账缺失")},
    )
    row = outcome.frame.loc[2]
    assert row["computed_grade"] == ENCOURAGED and row["grade"] == FAIR
    assert row["override_reason"] == "现场检查发现受理回告台账缺失"


# --- bad input ----------------------------------------------------------------------------------------------------


def test_bad_input_is_reported_whole_in_chinese_and_nothing_is_computed():
    bad = scheme(
        items=(
            ItemSpec(code="a", name="授权、授信清单", kind=QUALITATIVE, weight=D(60)),
            ItemSpec(
                code="b",
                name="同比增速",
                kind=QUANTITATIVE,
                weight=D(30),
                method=scoring.LINEAR,
                floor_share=FLOOR,
            ),
        ),
        groups=(("G1", "第1组"), ("G2", "第2组"), ("G3", "第3组")),
    )
    with pytest.raises(ScoringError) as caught:
        scoring.evaluate(
            scheme=bad,
            members=members((1, "G1"), (2, "G2")),
            qualitative=pd.DataFrame([(1, "a", D(61))], columns=["institution", "item", "score"]),
            quantitative=pd.DataFrame(
                [(1, "b", D(1), ""), (2, "b", None, "2022年12月监测表未报送")],
                columns=["institution", "item", "value", "reason"],
            ),
        )
    problems = caught.value.problems
    assert any("各项目分值合计 90 分" in p and "与满分 100 分不符" in p for p in problems)
    assert "第3组没有参评机构：请为该组添加机构，或删除该组" in problems
    assert "银行1的“授权、授信清单”得分 61.00 超出范围（0–60 分）" in problems
    assert "银行2的“授权、授信清单”尚未评分" in problems
    assert "银行2的“同比增速”没有指标值（2022年12月监测表未报送），无法计算定量得分" in problems


def test_criteria_that_do_not_add_up_to_the_item_are_a_scheme_problem():
    bad = scheme(
        items=(
            ItemSpec(
                code="a",
                name="受理回告清单",
                kind=QUALITATIVE,
                weight=D(60),
                criteria=(scoring.Criterion(code="x", name="逐笔回告", max_points=D(8)),),
            ),
            ItemSpec(
                code="b",
                name="同比增速",
                kind=QUANTITATIVE,
                weight=D(40),
                method=scoring.LINEAR,
                floor_share=FLOOR,
            ),
        )
    )
    assert any("各评分要点分值合计 8 分" in p for p in scoring.scheme_problems(bad))


# --- which rule fits a table --------------------------------------------------------------------------------------


def test_analyse_finds_the_relative_bounds_and_rules_out_the_others():
    table = pd.DataFrame(
        {
            "name": ["甲", "乙", "丙", "丁"],
            "group": ["G1", "G1", "G2", "G2"],
            "total": [D(90), D(80), D(70), D(60)],
            "grade": [GOOD, FAIR, GOOD, FAIR],
        },
        index=["甲", "乙", "丙", "丁"],
    )
    fits = {f.method: f for f in grading.analyse(table)}
    assert not fits[grading.ABSOLUTE].feasible and "丙" in fits[grading.ABSOLUTE].reason
    relative = fits[grading.RELATIVE_MEAN]
    assert relative.feasible
    good = relative.bounds[1]
    assert (good.low, good.high) == (D(-5), D(5)) and good.suggested == 0
