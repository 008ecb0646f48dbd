"""The validation rule registry (reporting.rules): a passing and a failing case per rule id — no database."""

import dataclasses
import json
from decimal import Decimal

import pytest

from reporting.definitions import MONITORING_2022 as SHEET
from reporting.definitions import FieldDef, FormDefinition, Kind, Thresholds
from reporting.rules import (
    ERROR,
    RULES,
    WARNING,
    Context,
    Finding,
    rule,
    sort_findings,
    summarize,
    unexplained,
    validate,
)

# A plausible March return and its February: every rule passes on this pair.
VALID = {
    "loan_balance": "100",
    "credit_loan_balance": "30",
    "new_loans": "80",
    "new_credit_loans": "25",
    "borrowers": "3456",
    "new_borrowers": "1200",
    "first_loan_borrowers": "300",
    "first_loan_amount": "10",
    "ftp_discount_bp": "50",
    "fee_relief": "1.2",
    "weighted_rate": "4.85",
}
PREVIOUS = {
    "loan_balance": "98",
    "credit_loan_balance": "29",
    "new_loans": "70",
    "new_credit_loans": "22",
    "borrowers": "3400",
    "new_borrowers": "1100",
    "first_loan_borrowers": "280",
    "first_loan_amount": "9",
    "ftp_discount_bp": "50",
    "fee_relief": "1.1",
    "weighted_rate": "4.9",
}
# Peers' month-on-month changes of 普惠小微贷款余额: median 1.9%, MAD 0.5 percentage points.
PEERS = [Decimal(x) for x in ("0.01", "0.015", "0.018", "0.02", "0.025", "0.03")]


def dec(values: dict) -> dict[str, Decimal | None]:
    return {k: None if v is None else Decimal(v) for k, v in values.items()}


def make_ctx(
    *,
    month: int = 3,
    definition: FormDefinition = SHEET,
    previous: dict | None = PREVIOUS,
    prev: dict | None = None,
    group_changes: dict | None = None,
    group_levels: dict | None = None,
    locate=None,
    unparsed: frozenset[str] = frozenset(),
    **changes,
) -> Context:
    """A context over a valid sheet; keyword arguments override this month's values, `prev` last month's."""
    values = dec({**VALID, **changes})
    previous_values = None if previous is None else dec({**previous, **(prev or {})})
    return Context(
        definition=definition,
        year=2022,
        month=month,
        values=values,
        previous=previous_values,
        group_changes=group_changes,
        group_levels=group_levels,
        locate=locate,
        unparsed=unparsed,
    )


def found(ctx: Context, rule_id: str) -> list[Finding]:
    return [f for f in validate(ctx) if f.rule == rule_id]


def test_valid_sheet_has_no_findings():
    assert validate(make_ctx(group_changes={"loan_balance": PEERS})) == []


def test_valid_sheet_without_history_has_no_findings():
    assert validate(make_ctx(previous=None)) == []


# ---- registry -------------------------------------------------------------------------------------------------


def test_registry_is_ordered_by_unique_id_and_severity_matches_prefix():
    ids = [r.id for r in RULES]
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))
    for r in RULES:
        assert r.severity == {"E": ERROR, "W": WARNING}[r.id[0]], r.id
        assert r.message and r.description, r.id
    assert rule("E201").fields == ("credit_loan_balance", "loan_balance")
    with pytest.raises(KeyError):
        rule("E999")


def test_rule_concerns_lists_the_fields_it_checks():
    assert rule("E301").concerns(SHEET) == [
        "new_loans",
        "new_credit_loans",
        "new_borrowers",
        "first_loan_borrowers",
        "first_loan_amount",
        "fee_relief",
    ]
    assert rule("W403").concerns(SHEET) == ["loan_balance", "credit_loan_balance", "borrowers"]


# ---- E101 required -------------------------------------------------------------------------------------------


def test_E101_blank_field_is_error():
    [f] = found(make_ctx(fee_relief=None), "E101")
    assert (f.severity, f.field, f.location) == (ERROR, "fee_relief", "小微企业累计减费让利金额")
    assert "未填写" in f.message


def test_E101_missing_key_is_blank():
    ctx = make_ctx()
    del ctx.values["weighted_rate"]
    assert [f.field for f in found(ctx, "E101")] == ["weighted_rate"]


def test_E101_zero_passes():
    assert found(make_ctx(fee_relief="0", first_loan_amount="0"), "E101") == []


def test_E101_label_carries_the_month():
    [f] = found(make_ctx(month=7, loan_balance=None, previous=None), "E101")
    assert f.message.startswith("“7月末普惠小微贷款余额”未填写")


def test_E101_leaves_fields_that_failed_parsing_to_E102():
    assert found(make_ctx(loan_balance=None, unparsed=frozenset({"loan_balance"})), "E101") == []


# ---- E102 numeric --------------------------------------------------------------------------------------------


def test_E102_non_number_handed_to_validate_is_error():
    ctx = make_ctx()
    ctx.values["weighted_rate"] = "abc"
    ctx.values["loan_balance"] = Decimal("NaN")
    assert [(f.field, f.severity) for f in found(ctx, "E102")] == [
        ("loan_balance", ERROR),
        ("weighted_rate", ERROR),
    ]
    # the other rules skip the unusable operands instead of crashing on them
    assert found(ctx, "E201") == []


def test_E102_decimal_values_pass():
    assert found(make_ctx(), "E102") == []


# ---- E103 non-negative ---------------------------------------------------------------------------------------


def test_E103_negative_amount_is_error():
    [f] = found(make_ctx(first_loan_amount="-1.5"), "E103")
    assert f.field == "first_loan_amount"
    assert "-1.5 亿元" in f.message


def test_E103_zero_passes():
    assert found(make_ctx(first_loan_amount="0", ftp_discount_bp="0"), "E103") == []


# ---- E104 integer counts -------------------------------------------------------------------------------------


def test_E104_fractional_borrower_count_is_error():
    [f] = found(make_ctx(borrowers="3456.5"), "E104")
    assert f.field == "borrowers"
    assert "3456.5 户" in f.message


def test_E104_whole_count_passes_and_amounts_are_not_counts():
    assert found(make_ctx(borrowers="3456", loan_balance="100.5"), "E104") == []


# ---- E105 precision ------------------------------------------------------------------------------------------


def test_E105_too_many_decimals_is_error():
    ctx = make_ctx(weighted_rate="4.85123", ftp_discount_bp="50.125")
    assert [f.field for f in found(ctx, "E105")] == ["ftp_discount_bp", "weighted_rate"]
    assert "最多保留 2 位小数" in found(ctx, "E105")[0].message


def test_E105_within_precision_passes_and_trailing_zeros_do_not_count():
    assert found(make_ctx(weighted_rate="4.8512", ftp_discount_bp="50.1200000"), "E105") == []


# ---- E2xx parts within wholes --------------------------------------------------------------------------------


def test_E201_credit_balance_above_total_is_error():
    [f] = found(make_ctx(credit_loan_balance="120.5"), "E201")
    assert f.severity == ERROR
    assert f.field == "credit_loan_balance"
    assert f.fields == ("credit_loan_balance", "loan_balance")
    assert f.message == (
        "“3月末普惠小微信用贷款余额”（120.5 亿元）大于“3月末普惠小微贷款余额”（100 亿元）："
        "信用贷款是普惠小微贷款的一部分，请核对两项数据。"
    )


def test_E201_credit_balance_equal_total_passes():
    assert found(make_ctx(credit_loan_balance="100"), "E201") == []


def test_E201_skipped_when_an_operand_is_blank():
    ctx = make_ctx(loan_balance=None, credit_loan_balance="120.5")
    assert found(ctx, "E201") == []
    assert [f.field for f in found(ctx, "E101")] == ["loan_balance"]


def test_E202_new_credit_above_new_loans_is_error():
    [f] = found(make_ctx(new_credit_loans="80.01"), "E202")
    assert f.fields == ("new_credit_loans", "new_loans")


def test_E202_new_credit_within_new_loans_passes():
    assert found(make_ctx(new_credit_loans="80"), "E202") == []


def test_E203_first_loan_amount_above_new_loans_is_error():
    [f] = found(make_ctx(first_loan_amount="81"), "E203")
    assert f.field == "first_loan_amount"
    assert "（81 亿元）大于“新发放普惠小微贷款金额”（80 亿元）" in f.message


def test_E203_first_loan_amount_within_new_loans_passes():
    assert found(make_ctx(first_loan_amount="80"), "E203") == []


def test_E204_first_loan_borrowers_above_new_borrowers_is_error():
    [f] = found(make_ctx(first_loan_borrowers="1201"), "E204")
    assert f.fields == ("first_loan_borrowers", "new_borrowers")
    assert "（1201 户）" in f.message


def test_E204_first_loan_borrowers_within_new_borrowers_passes():
    assert found(make_ctx(first_loan_borrowers="1200"), "E204") == []


# ---- E301 year-to-date never falls ---------------------------------------------------------------------------


def test_E301_year_to_date_falling_within_year_is_error():
    [f] = found(make_ctx(new_loans="60"), "E301")
    assert (f.severity, f.field) == (ERROR, "new_loans")
    assert "本月（60 亿元）小于2月（70 亿元）" in f.message


def test_E301_year_to_date_unchanged_passes():
    assert found(make_ctx(new_loans="70"), "E301") == []


def test_E301_january_restarts_the_year():
    assert found(make_ctx(month=1, new_loans="5", fee_relief="0.1"), "E301") == []


def test_E301_no_previous_month_passes():
    assert found(make_ctx(new_loans="5", previous=None), "E301") == []


def test_E301_does_not_apply_to_stocks():
    ctx = make_ctx(loan_balance="90", borrowers="3300")  # month-end stocks may fall
    assert found(ctx, "E301") == []


# ---- W401 / W402 bands ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", ["15", "0.0485", "1.99"])
def test_W401_rate_outside_band_is_warning(rate):
    [f] = found(make_ctx(weighted_rate=rate), "W401")
    assert (f.severity, f.field) == (WARNING, "weighted_rate")
    assert "2%～12%" in f.message


@pytest.mark.parametrize("rate", ["2", "4.85", "12"])
def test_W401_rate_inside_band_passes(rate):
    assert found(make_ctx(weighted_rate=rate), "W401") == []


def test_W401_band_comes_from_the_definition():
    strict = dataclasses.replace(SHEET, thresholds=Thresholds(rate_max=Decimal("4.5")))
    assert [f.rule for f in validate(make_ctx(definition=strict))] == ["W401"]


def test_W402_ftp_discount_outside_band_is_warning():
    [f] = found(make_ctx(ftp_discount_bp="350"), "W402")
    assert f.field == "ftp_discount_bp"
    assert "350 BP" in f.message


def test_W402_ftp_discount_inside_band_passes():
    assert found(make_ctx(ftp_discount_bp="300"), "W402") == []


# ---- W403 stock month-on-month swing -------------------------------------------------------------------------


def test_W403_stock_jump_is_warning():
    [f] = found(make_ctx(loan_balance="150"), "W403")
    assert (f.severity, f.field) == (WARNING, "loan_balance")
    assert "+53.1%" in f.message
    assert "±30.0%" in f.message


def test_W403_stock_drop_is_warning():
    assert [f.field for f in found(make_ctx(borrowers="2000"), "W403")] == ["borrowers"]


def test_W403_moderate_change_passes():
    assert found(make_ctx(loan_balance="120"), "W403") == []  # +22.4%


def test_W403_skipped_when_last_month_is_zero_or_missing():
    assert found(make_ctx(credit_loan_balance="30", prev={"credit_loan_balance": "0"}), "W403") == []
    assert found(make_ctx(credit_loan_balance="30", prev={"credit_loan_balance": None}), "W403") == []


def test_W403_does_not_apply_to_year_to_date_fields():
    assert found(make_ctx(month=1, new_loans="5"), "W403") == []


def test_W403_limit_comes_from_the_definition():
    tight = dataclasses.replace(SHEET, thresholds=Thresholds(stock_mom_change=Decimal("0.01")))
    assert [f.field for f in found(make_ctx(definition=tight), "W403")] == [
        "loan_balance",
        "credit_loan_balance",
        "borrowers",
    ]


# ---- W404 identical to last month ----------------------------------------------------------------------------


def test_W404_every_value_same_as_last_month_is_warning():
    [f] = found(make_ctx(**PREVIOUS), "W404")
    assert (f.severity, f.field, f.key) == (WARNING, None, "W404:*")
    assert f.fields == tuple(SHEET.codes)
    assert "全部 11 项" in f.message


def test_W404_one_value_changed_passes():
    assert found(make_ctx(**{**PREVIOUS, "fee_relief": "1.2"}), "W404") == []


def test_W404_no_previous_month_passes():
    assert found(make_ctx(previous=None), "W404") == []


# ---- W405 首贷户比重 jump ---------------------------------------------------------------------------------------


def test_W405_first_loan_share_jump_is_warning():
    [f] = found(make_ctx(first_loan_borrowers="900"), "W405")  # 25.5% → 75.0%
    assert (f.severity, f.field) == (WARNING, "first_loan_borrowers")
    assert f.fields == ("first_loan_borrowers", "new_borrowers")
    assert "由上月 25.5% 变为本月 75.0%" in f.message
    assert "+49.5 个百分点" in f.message


def test_W405_steady_share_passes():
    assert found(make_ctx(first_loan_borrowers="500"), "W405") == []  # 25.5% → 41.7%: within 20 points


def test_W405_undefined_share_passes():
    assert found(make_ctx(first_loan_borrowers="900", prev={"new_borrowers": "0"}), "W405") == []
    assert found(make_ctx(first_loan_borrowers="0", new_borrowers="0"), "W405") == []


# ---- W406 group outlier --------------------------------------------------------------------------------------


def test_W406_change_far_from_group_is_warning():
    ctx = make_ctx(loan_balance="117.6", group_changes={"loan_balance": PEERS})  # +20.0% vs median +1.9%
    [f] = found(ctx, "W406")
    assert (f.severity, f.field) == (WARNING, "loan_balance")
    assert "其他 6 家机构（中位数 +1.9%）" in f.message
    assert "修正 z 分数 24.4" in f.message
    assert found(ctx, "W403") == []  # +20% alone is within the month-on-month band


def test_W406_change_close_to_group_passes():
    assert found(make_ctx(group_changes={"loan_balance": PEERS}), "W406") == []


def test_W406_skipped_with_too_few_peers():
    assert found(make_ctx(loan_balance="117.6", group_changes={"loan_balance": PEERS[:4]}), "W406") == []


def test_W406_skipped_when_peers_do_not_vary():
    same = [Decimal("0.02")] * 8
    assert found(make_ctx(loan_balance="117.6", group_changes={"loan_balance": same}), "W406") == []


def test_W406_skipped_without_last_month():
    assert (
        found(make_ctx(loan_balance="117.6", previous=None, group_changes={"loan_balance": PEERS}), "W406")
        == []
    )


# ---- location, ordering, explanations ------------------------------------------------------------------------


def test_location_comes_from_locate_when_given():
    ctx = make_ctx(credit_loan_balance="120.5", locate=lambda code: f"监测表!{SHEET.field(code).column}5")
    [f] = found(ctx, "E201")
    assert f.location == "监测表!C5"


def test_validate_puts_errors_first_then_rule_id():
    ctx = make_ctx(weighted_rate="15", first_loan_amount="81", fee_relief=None, borrowers="5000")
    assert [(f.rule, f.field) for f in validate(ctx)] == [
        ("E101", "fee_relief"),
        ("E203", "first_loan_amount"),
        ("W401", "weighted_rate"),
        ("W403", "borrowers"),
        ("W602", "first_loan_amount"),  # 81 亿元 of first loans to 300 borrowers: 2,700 万元 each
    ]


def test_sort_findings_ranks_severity_above_rule_id():
    late_error = Finding("Z900", ERROR, "a", "m")
    early_warning = Finding("A100", WARNING, "b", "m")
    assert sort_findings([early_warning, late_error]) == [late_error, early_warning]


def test_summarize_counts_by_severity():
    findings = validate(make_ctx(weighted_rate="15", first_loan_amount="81", fee_relief=None))
    assert summarize(findings) == {"error": 2, "warning": 2}  # W401 and W602
    assert summarize([]) == {"error": 0, "warning": 0}


def test_unexplained_returns_warnings_without_a_real_explanation():
    findings = validate(make_ctx(weighted_rate="15", loan_balance="150", first_loan_amount="81"))
    assert {f.key for f in findings} == {
        "E203:first_loan_amount",
        "W401:weighted_rate",
        "W403:loan_balance",
        "W602:first_loan_amount",
    }
    explanations = {
        "W401:weighted_rate": "本月投放以信用卡经营贷为主，利率偏高",
        "W403:loan_balance": " \u3000",
        "W602:first_loan_amount": "一笔银团首贷",
    }
    assert [f.key for f in unexplained(findings, explanations)] == ["W403:loan_balance"]
    explanations["W403:loan_balance"] = "收购一家村镇银行，余额并表"
    assert unexplained(findings, explanations) == []
    assert [f.key for f in unexplained(findings, {})] == [
        "W401:weighted_rate",
        "W403:loan_balance",
        "W602:first_loan_amount",
    ]


def test_finding_round_trips_through_json():
    [f] = found(make_ctx(credit_loan_balance="120.5", locate=lambda code: "监测表!C5"), "E201")
    data = json.loads(json.dumps(f.as_dict(), ensure_ascii=False))
    assert data["key"] == "E201:credit_loan_balance"
    assert Finding.from_dict(data) == f


# ---- a later edition gets the generic rules for new fields ---------------------------------------------------

TOTAL_LOANS = FieldDef("total_loans", "X月末各项贷款余额", "亿元", Kind.STOCK, "增量", "M")
LATER = FormDefinition(
    form="monitoring",
    edition="2030",
    title=SHEET.title,
    unit_line=SHEET.unit_line,
    fields=(*SHEET.fields, TOTAL_LOANS),
    notes=(),
)


def later_ctx(total_loans: str | None = "5000", prev_total: str | None = "4900", **kw) -> Context:
    return make_ctx(definition=LATER, total_loans=total_loans, prev={"total_loans": prev_total}, **kw)


def test_later_edition_valid_sheet_passes():
    assert validate(later_ctx()) == []


def test_later_edition_new_field_is_required():
    [f] = found(later_ctx(total_loans=None), "E101")
    assert (f.field, f.location) == ("total_loans", "3月末各项贷款余额")


def test_later_edition_new_field_gets_value_rules():
    assert [f.field for f in found(later_ctx(total_loans="-1"), "E103")] == ["total_loans"]
    assert [f.field for f in found(later_ctx(total_loans="5000.12345"), "E105")] == ["total_loans"]


def test_later_edition_new_stock_gets_period_and_group_rules():
    assert [f.field for f in found(later_ctx(total_loans="9000"), "W403")] == ["total_loans"]
    ctx = later_ctx(total_loans="5880", group_changes={"total_loans": PEERS})  # +20.0%
    assert [f.field for f in found(ctx, "W406")] == ["total_loans"]
    assert "W404" in {f.rule for f in validate(later_ctx(prev_total="5000", **PREVIOUS))}


def test_2022_edition_ignores_values_it_does_not_define():
    assert validate(make_ctx(total_loans="-1")) == []


def test_rules_over_fields_an_edition_lacks_do_not_apply():
    slim = dataclasses.replace(SHEET, fields=tuple(f for f in SHEET.fields if f.group != "降价"))
    assert not rule("W401").applies(slim)
    assert not rule("W402").applies(slim)
    assert rule("E101").applies(slim)
    assert validate(make_ctx(definition=slim, weighted_rate="15")) == []


# --- E6xx / W6xx: figures in the wrong unit ----------------------------------------------------------------


def test_E601_balance_typed_in_wanyuan_is_an_error_naming_the_average_and_the_likely_figure():
    # 100 亿元 typed as 1,000,000 (万元) for 3,456 户: 2,893 亿元 per borrower, 10,000× the cap
    [f] = found(make_ctx(previous=None, loan_balance="1000000", credit_loan_balance="30"), "E601")
    assert f.severity == ERROR and f.field == "loan_balance" and f.fields == ("loan_balance", "borrowers")
    assert "平均每户 2893518.52 万元" in f.message and "超过普惠小微单户授信上限 1000 万元" in f.message
    assert "如果“3月末普惠小微贷款余额”是按万元填写的，应为 100 亿元" in f.message


def test_E601_average_at_the_cap_passes_and_a_wrong_count_gets_no_wanyuan_hint():
    assert not found(make_ctx(loan_balance="345.6", borrowers="3456", credit_loan_balance="30"), "E601")
    [f] = found(make_ctx(loan_balance="100", borrowers="12", credit_loan_balance="30"), "E601")
    assert "请核对“3月末普惠小微贷款余额”（亿元）和“3月末普惠小微贷款户数”（户）的单位" in f.message


def test_E601_skipped_without_borrowers():
    assert not found(make_ctx(borrowers="0"), "E601")
    assert not found(make_ctx(borrowers=None), "E601")


def test_W602_first_loans_above_the_cap_per_first_borrower_is_a_warning():
    [f] = found(make_ctx(first_loan_amount="45", first_loan_borrowers="300"), "W602")
    assert f.severity == WARNING and "平均每户 1500 万元" in f.message


def test_W602_plausible_first_loans_pass():
    assert not found(make_ctx(first_loan_amount="10", first_loan_borrowers="300"), "W602")


def test_W603_rate_typed_as_a_fraction_suggests_the_percent():
    [f] = found(make_ctx(weighted_rate="0.0498"), "W603")
    assert f.severity == WARNING and "很可能应为 4.98%" in f.message


@pytest.mark.parametrize("rate", ["1", "4.98", "0"])
def test_W603_rates_in_percent_pass(rate):
    assert not found(make_ctx(weighted_rate=rate), "W603")


def test_W604_ftp_typed_in_percent_suggests_the_basis_points():
    [f] = found(make_ctx(ftp_discount_bp="0.55"), "W604")
    assert f.severity == WARNING and "很可能应为 55 BP" in f.message


@pytest.mark.parametrize("ftp", ["55", "3", "0", "4.5"])
def test_W604_ftp_in_basis_points_passes(ftp):
    assert not found(make_ctx(ftp_discount_bp=ftp), "W604")


def test_W605_a_figure_10000_times_last_months_hints_at_the_unit():
    [f] = found(make_ctx(fee_relief="12000", prev={"fee_relief": "1.1"}), "W605")
    assert f.severity == WARNING and f.field == "fee_relief"
    assert "约为上月（1.1 亿元）的 10909.1 倍" in f.message and "万元与亿元" in f.message


def test_W605_a_figure_10000_times_smaller_than_last_month_hints_too():
    [f] = found(make_ctx(borrowers="0.35", prev={"borrowers": "3400"}), "W605")
    assert "的 1/9714 倍" in f.message


def test_W605_against_the_group_median_when_there_is_no_last_month():
    peers = {"new_loans": [Decimal(x) for x in ("70", "80", "90", "100", "110")]}
    [f] = found(make_ctx(previous=None, new_loans="900000", group_levels=peers), "W605")
    assert "同组 5 家机构的中位数（90 亿元）" in f.message


def test_W605_ordinary_changes_and_small_groups_pass():
    assert not found(make_ctx(fee_relief="12", prev={"fee_relief": "1.1"}), "W605")  # ×11: W403's business
    few = {"new_loans": [Decimal("80")] * 4}
    assert not found(make_ctx(previous=None, new_loans="900000", group_levels=few), "W605")


def test_W605_january_year_to_date_is_not_compared_with_december():
    assert not found(make_ctx(month=1, new_loans="0.007", prev={"new_loans": "70"}), "W605")


# ---- the 2023 edition: 各项贷款余额 and 普惠小微不良贷款核销金额 ------------------------------------------------

VALID_2023 = {"total_loan_balance": "4500", "npl_write_offs": "1.2"}
PREVIOUS_2023 = {**PREVIOUS, "total_loan_balance": "4450", "npl_write_offs": "1.0"}


def ctx_2023(**changes) -> Context:
    from reporting.definitions import MONITORING_2023

    return make_ctx(definition=MONITORING_2023, previous=PREVIOUS_2023, **{**VALID_2023, **changes})


def test_2023_valid_sheet_passes_every_rule_including_the_unit_sanity_family():
    assert validate(ctx_2023()) == []


def test_E205_puhui_balance_above_all_loans_is_an_error_and_within_passes():
    [f] = found(ctx_2023(total_loan_balance="99.5"), "E205")
    assert (f.field, f.fields, f.severity) == ("loan_balance", ("loan_balance", "total_loan_balance"), ERROR)
    assert "“3月末普惠小微贷款余额”（100 亿元）大于“3月末各项贷款余额”（99.5 亿元）" in f.message
    assert found(ctx_2023(total_loan_balance="100"), "E205") == []
    assert found(make_ctx(total_loan_balance="1"), "E205") == []  # the 2022 edition has no 各项贷款余额


def test_W409_write_offs_above_the_plausible_share_warn_and_within_pass():
    [f] = found(ctx_2023(npl_write_offs="10.5"), "W409")  # 10.5% of 100 亿元
    assert (f.field, f.fields, f.severity) == ("npl_write_offs", ("npl_write_offs", "loan_balance"), WARNING)
    assert "占“3月末普惠小微贷款余额”（100 亿元）的 10.5%，超过 10.0% 的合理比例" in f.message
    assert found(ctx_2023(npl_write_offs="10"), "W409") == []
    assert found(ctx_2023(npl_write_offs="0"), "W409") == []  # a bank with no write-offs


def test_2023_new_fields_get_the_generic_rules_by_kind():
    assert [f.field for f in found(ctx_2023(npl_write_offs="0.9"), "E301")] == ["npl_write_offs"]  # YTD fell
    assert [f.field for f in found(ctx_2023(total_loan_balance="6000"), "W403")] == ["total_loan_balance"]
    assert [f.field for f in found(ctx_2023(total_loan_balance=None), "E101")] == ["total_loan_balance"]
    [w605] = found(ctx_2023(total_loan_balance="44500000"), "W605")  # typed in 万元
    assert w605.field == "total_loan_balance"
