"""Indicators across editions of 附件4, against hand-computed values (pure engine, no database):
各项贷款增速 and 两增① where the sheets carry 各项贷款余额; 核销还原 (increase + year-to-date write-offs);
同比 between a 2023 and a 2022 sheet; an aggregate one of whose members filed on the older edition."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from indicators import indicators as ind

COMMON = {
    "credit_loan_balance": 10.0,
    "new_loans": 20.0,
    "new_credit_loans": 5.0,
    "borrowers": 1000,
    "new_borrowers": 100,
    "first_loan_borrowers": 10,
    "first_loan_amount": 1.0,
    "ftp_discount_bp": 50,
    "fee_relief": 0.1,
    "weighted_rate": 4.5,
}


def sheet(inst, year, month, edition, **values):
    row = {c: np.nan for c in ind.SHEET_COLUMNS}
    row.update(
        institution_id=inst,
        year=year,
        month=month,
        status="approved",
        usable=True,
        provisional=False,
        edition=edition,
        filing_id=inst * 1000 + month,
        period_id=year * 100 + month,
        version=1,
    )
    row.update({**COMMON, **values})
    return row


def compute(rows, months):
    institutions = pd.DataFrame(
        [(i, f"银行{i}", "G1", "national", False, date(2020, 1, 1), None) for i in (1, 2, 3)],
        columns=list(ind.INSTITUTION_COLUMNS),
    )
    sheets = pd.DataFrame(rows, columns=list(ind.SHEET_COLUMNS))
    return ind.compute(ind.Inputs(sheets=sheets, institutions=institutions, months=months))


def value(result, inst, year, month, code):
    rows = result.institution_rows()
    row = rows[
        (rows.scope_key == str(inst)) & (rows.year == year) & (rows.month == month) & (rows.code == code)
    ].iloc[0]
    return (None if np.isnan(row.value) else row.value), row.reason


def aggregate_row(result, year, month, code, scope="group"):
    a = result.aggregates
    return a[(a.scope_kind == scope) & (a.year == year) & (a.month == month) & (a.code == code)].iloc[0]


def aggregate(result, year, month, code, scope="group"):
    row = aggregate_row(result, year, month, code, scope)
    return (None if np.isnan(row.value) else row.value), int(row.contributors), int(row.members)


def reason(result, year, month, code, scope="group"):
    return aggregate_row(result, year, month, code, scope).reason


@pytest.fixture
def year_2024():
    """Dec 2023 and Mar 2024 on the 2023 edition, except bank 3's March still filed on the 2022 edition.

    bank 1: 普惠 100 → 110 (+10%), 各项 1000 → 1050 (+5%), 核销 2: 两增① met, restored +12 = 12%
    bank 2: 普惠 50 → 51 (+2%), 各项 400 → 440 (+10%), no write-offs: 两增① missed, restored = plain = +1
    bank 3: 普惠 30 → 30.6, its March sheet has neither 各项贷款 nor 核销
    """
    rows = [
        sheet(1, 2023, 12, "2023", loan_balance=100.0, total_loan_balance=1000.0, npl_write_offs=3.0),
        sheet(1, 2024, 3, "2023", loan_balance=110.0, total_loan_balance=1050.0, npl_write_offs=2.0),
        sheet(2, 2023, 12, "2023", loan_balance=50.0, total_loan_balance=400.0, npl_write_offs=0.0),
        sheet(2, 2024, 3, "2023", loan_balance=51.0, total_loan_balance=440.0, npl_write_offs=0.0),
        sheet(3, 2023, 12, "2023", loan_balance=30.0, total_loan_balance=300.0, npl_write_offs=0.5),
        sheet(3, 2024, 3, "2022", loan_balance=30.6),
    ]
    return compute(rows, [(2024, 3)])


def test_total_loan_growth_and_two_increases_per_institution(year_2024):
    assert value(year_2024, 1, 2024, 3, "total_loan_growth_ytd")[0] == pytest.approx(0.05)
    assert value(year_2024, 1, 2024, 3, "two_increases_growth")[0] == 1  # 10% ≥ 5%
    assert value(year_2024, 2, 2024, 3, "total_loan_growth_ytd")[0] == pytest.approx(0.10)
    assert value(year_2024, 2, 2024, 3, "two_increases_growth")[0] == 0  # 2% < 10%


def test_a_sheet_without_total_loans_makes_two_increases_undefined_with_its_reason(year_2024):
    verdict, reason = value(year_2024, 3, 2024, 3, "two_increases_growth")
    assert verdict is None
    assert reason == "2024年3月：2022年版监测表无此项（“各项贷款余额”）"
    assert ind.get("two_increases_growth").text(None) == "—"


def test_write_off_restored_increase_and_growth(year_2024):
    assert value(year_2024, 1, 2024, 3, "loan_increase_restored_ytd")[0] == pytest.approx(12.0)  # 10 + 2
    assert value(year_2024, 1, 2024, 3, "loan_growth_restored_ytd")[0] == pytest.approx(0.12)
    # no write-offs: the restored figures are the plain ones
    assert value(year_2024, 2, 2024, 3, "loan_increase_restored_ytd")[0] == pytest.approx(1.0)
    assert value(year_2024, 2, 2024, 3, "loan_growth_restored_ytd")[0] == pytest.approx(
        value(year_2024, 2, 2024, 3, "loan_growth_ytd")[0]
    )
    restored, reason = value(year_2024, 3, 2024, 3, "loan_growth_restored_ytd")
    assert restored is None and reason == "2024年3月：2022年版监测表无此项（“普惠小微不良贷款核销金额”）"


def test_an_aggregate_with_a_member_on_the_older_edition_gives_no_two_increases_verdict(year_2024):
    # banks 1 and 2 alone would read 普惠 161 / 150 = +7.33% ≥ 各项 1490 / 1400 = +6.43% → 达标 "2/3"; bank 3's
    # sheet has no 各项贷款余额, so the group's 两增① and 各项贷款增速 are "—" and say why
    for scope in ("group", "kind", "province"):
        assert aggregate(year_2024, 2024, 3, "two_increases_growth", scope) == (None, 2, 3)
        assert reason(year_2024, 2024, 3, "two_increases_growth", scope) == (
            "1家机构的监测表为2022年版，无各项贷款余额；仅2家有数据，不作判断"
        )
        assert aggregate(year_2024, 2024, 3, "total_loan_growth_ytd", scope) == (None, 2, 3)
        assert reason(year_2024, 2024, 3, "total_loan_growth_ytd", scope) == (
            "1家机构的监测表为2022年版，无各项贷款余额；仅2家有数据，不计算合计"
        )
    # the balance itself is a sum over the members that carry it, with its basis: 1050 + 440
    assert aggregate(year_2024, 2024, 3, "total_loan_balance") == (pytest.approx(1490.0), 2, 3)
    # 两增② needs no 各项贷款: every member has 户数 1000 → 1000, so the verdict stands (3000 ≥ 3000)
    assert aggregate(year_2024, 2024, 3, "two_increases_borrowers") == (1, 3, 3)


def test_an_aggregate_with_a_member_on_the_older_edition_sums_the_members_that_have_the_data(year_2024):
    # restored: (10 + 2) + (1 + 0) = 13 over 150
    assert aggregate(year_2024, 2024, 3, "loan_increase_restored_ytd", "province")[:2] == (
        pytest.approx(13.0),
        2,
    )
    assert aggregate(year_2024, 2024, 3, "loan_growth_restored_ytd", "province")[0] == pytest.approx(13 / 150)
    # the plain increase takes all three: 10 + 1 + 0.6
    assert aggregate(year_2024, 2024, 3, "loan_increase_ytd", "province")[:2] == (pytest.approx(11.6), 3)


def test_2023_against_2022_the_common_fields_compare_and_the_new_ones_are_undefined():
    rows = [
        sheet(1, 2022, 3, "2022", loan_balance=80.0),
        sheet(1, 2022, 12, "2022", loan_balance=100.0),
        sheet(1, 2023, 3, "2023", loan_balance=104.0, total_loan_balance=1200.0, npl_write_offs=1.5),
    ]
    result = compute(rows, [(2023, 3)])
    assert value(result, 1, 2023, 3, "loan_growth_yoy")[0] == pytest.approx(0.3)  # 104 / 80 − 1
    assert value(result, 1, 2023, 3, "loan_increase_restored_ytd")[0] == pytest.approx(5.5)  # 4 + 1.5
    yoy, reason = value(result, 1, 2023, 3, "total_loan_growth_yoy")
    assert yoy is None and reason == "2022年3月（上年同期）：2022年版监测表无此项（“各项贷款余额”）"
    verdict, reason = value(result, 1, 2023, 3, "two_increases_growth")
    assert verdict is None and reason == "2022年12月（年初）：2022年版监测表无此项（“各项贷款余额”）"


def test_an_aggregate_all_on_the_2023_edition_gives_its_verdict_from_the_sums():
    """Bank 3's March on the 2023 edition too (各项 300 → 306): 普惠 (110 + 51 + 30.6) / 180 = +6.44% ≥
    各项 (1050 + 440 + 306) / 1700 = +5.65% → 达标 over 3 of 3, though bank 2 alone misses it."""
    rows = [
        sheet(1, 2023, 12, "2023", loan_balance=100.0, total_loan_balance=1000.0, npl_write_offs=3.0),
        sheet(1, 2024, 3, "2023", loan_balance=110.0, total_loan_balance=1050.0, npl_write_offs=2.0),
        sheet(2, 2023, 12, "2023", loan_balance=50.0, total_loan_balance=400.0, npl_write_offs=0.0),
        sheet(2, 2024, 3, "2023", loan_balance=51.0, total_loan_balance=440.0, npl_write_offs=0.0),
        sheet(3, 2023, 12, "2023", loan_balance=30.0, total_loan_balance=300.0, npl_write_offs=0.5),
        sheet(3, 2024, 3, "2023", loan_balance=30.6, total_loan_balance=306.0, npl_write_offs=0.0),
    ]
    result = compute(rows, [(2024, 3)])
    assert aggregate(result, 2024, 3, "two_increases_growth", "province") == (1, 3, 3)
    assert reason(result, 2024, 3, "two_increases_growth", "province") is None
    assert aggregate(result, 2024, 3, "total_loan_growth_ytd", "province") == (pytest.approx(96 / 1700), 3, 3)
    assert value(result, 2, 2024, 3, "two_increases_growth")[0] == 0


def test_2023_months_read_their_year_start_on_the_2022_edition_so_no_aggregate_two_increases():
    """The first 2023-edition 年初 is December 2023: every 2023 month's 两增① and 各项贷款增速 are "—"."""
    rows = []
    for i in (1, 2, 3):
        rows += [
            sheet(i, 2022, 3, "2022", loan_balance=80.0),
            sheet(i, 2022, 12, "2022", loan_balance=100.0),
            sheet(i, 2023, 3, "2023", loan_balance=104.0, total_loan_balance=1200.0, npl_write_offs=0.0),
        ]
    result = compute(rows, [(2023, 3)])
    assert aggregate(result, 2023, 3, "two_increases_growth", "province") == (None, 0, 3)
    assert reason(result, 2023, 3, "two_increases_growth", "province") == (
        "3家机构年初（2022年12月）的监测表为2022年版，无各项贷款余额"
    )
    assert reason(result, 2023, 3, "total_loan_growth_yoy", "province") == (
        "3家机构上年同期（2022年3月）的监测表为2022年版，无各项贷款余额"
    )
    assert aggregate(result, 2023, 3, "total_loan_balance", "province") == (pytest.approx(3600.0), 3, 3)


def test_an_aggregate_two_increases_waits_for_a_sheet_not_yet_approved():
    """Bank 3's March is submitted, not approved: no 两增 verdict for the province (待审核), while
    各项贷款增速 stays the sum of the approved members with its basis 2/3, as every other ratio does."""
    rows = [
        sheet(1, 2023, 12, "2023", loan_balance=100.0, total_loan_balance=1000.0),
        sheet(1, 2024, 3, "2023", loan_balance=110.0, total_loan_balance=1050.0),
        sheet(2, 2023, 12, "2023", loan_balance=50.0, total_loan_balance=400.0),
        sheet(2, 2024, 3, "2023", loan_balance=51.0, total_loan_balance=440.0),
        sheet(3, 2023, 12, "2023", loan_balance=30.0, total_loan_balance=300.0),
        {
            **sheet(3, 2024, 3, "2023"),
            **{c: np.nan for c in ind.SHEET_FIELDS},
            "status": "submitted",
            "usable": False,
        },
    ]
    result = compute(rows, [(2024, 3)])
    for code in ("two_increases_growth", "two_increases_borrowers"):
        assert aggregate(result, 2024, 3, code, "province") == (None, 2, 3)
        assert reason(result, 2024, 3, code, "province") == (
            "待审核：1家机构的监测表尚未审核通过或未报送；仅2家有数据，不作判断"
        )
    assert aggregate(result, 2024, 3, "total_loan_growth_ytd", "province") == (
        pytest.approx(90 / 1400),
        2,
        3,
    )
    # per institution nothing changes: bank 1 meets 两增① (10% ≥ 5%), bank 3's reason names its sheet
    assert value(result, 1, 2024, 3, "two_increases_growth")[0] == 1
    assert value(result, 3, 2024, 3, "two_increases_growth") == (
        None,
        "2024年3月监测表状态为“已提交”，尚未审核通过",
    )
