"""Honest verdicts on partial data and a single rounding (ISSUE 15 §1).

A province, group or kind figure is a sum over its members. While some members' sheets are not approved (or
not filed), a target on it reads 待审核 — never 未达标 (nor 达标) — with how many are missing and what the
complete members alone show; the basis n/N stands beside the figure on the dashboard and in province.xlsx.
Values are stored unrounded and rounded once, when shown.
"""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from indicators import indicators as ind
from indicators import pages, services, storage
from institutions.models import Institution
from reporting.models import FilingStatus
from tests.factories import periods
from tests.worlds import file_sheet


def _check(actual, basis, code="first_loan_borrowers", reference="150000"):
    return ind.check_target(
        indicator=ind.get(code),
        comparator="gte",
        basis="fixed",
        actual=Decimal(actual),
        reference=Decimal(reference),
        month=12,
        actual_basis=basis,
    )


def test_a_sum_target_with_missing_members_is_pending_never_unmet():
    """The demo's December: 117,872 首贷户 from 15 of 24 approved sheets against 15万户."""
    partial = _check("117872", (15, 24))
    assert partial.met is None and partial.pending and partial.status == "待审核"
    assert partial.basis == "15/24"
    assert partial.reason == (
        "待审核：24家机构中9家的监测表尚未审核通过或未报送，暂无法判断是否达成；已审核的15家合计117,872户"
    )
    # what the complete members show is kept: the progress of the 15
    assert partial.progress == Decimal("0.7858")


def test_the_same_figure_with_every_member_in_gets_its_verdict():
    assert _check("153648", (24, 24)).met is True  # November, 24/24: met
    missed = _check("117872", (24, 24))
    assert missed.met is False and not missed.pending and missed.status == "未达标"


def test_a_ratio_on_part_of_the_members_is_pending_too_and_says_computed_from_them():
    check = _check("0.25", (20, 24), code="new_credit_share", reference="0.3")
    assert check.pending and check.met is None
    assert check.reason.endswith("按已审核的20家计算为25.00%")


def test_a_reference_on_part_of_the_members_makes_the_verdict_pending():
    check = ind.check_target(
        indicator=ind.get("credit_share"),
        comparator="gt",
        basis="last_year",
        actual=Decimal("0.3"),
        reference=Decimal("0.2"),
        month=12,
        actual_basis=(24, 24),
        reference_basis=(20, 24),
    )
    assert check.pending and check.met is None and "（比较基准）" in check.reason


def test_an_institution_figure_is_never_pending():
    check = _check("100", (1, 1))
    assert check.met is False and not check.pending


# --- through the stored values, the dashboard and province.xlsx ------------------------------------------------


def _every_institution(march_unapproved=()):
    """All 24 institutions file 2021-12 and 2022-03 (余额 100 → 101 each), approved unless listed."""
    services.load_reference_data()
    p = periods(first=(2021, 12), last=(2022, 3))
    values = {"loan_balance": "100", "first_loan_borrowers": "10", "new_borrowers": "100"}
    for inst in Institution.objects.order_by("order"):
        file_sheet(inst, p[(2021, 12)], values)
        status = FilingStatus.SUBMITTED if inst.code in march_unapproved else FilingStatus.APPROVED
        file_sheet(inst, p[(2022, 3)], {**values, "loan_balance": "101"}, status=status)
    services.refresh_now()


def _province_target(user, code):
    context = pages.dashboard(user, year=2022, month=3)
    return next(c for c in context["province_targets"] if c.target.indicator == code)


def test_with_every_sheet_approved_a_missed_province_target_reads_unmet(master, users):
    _every_institution()
    cell = _province_target(users["officer_branch"], "loan_increase_ytd")
    assert (cell.value.contributors, cell.value.members) == (24, 24)
    assert cell.check.met is False and cell.check.status == "未达标"


def test_with_one_sheet_unapproved_the_same_target_is_pending_with_its_basis(master, users, client_for):
    _every_institution(march_unapproved={"HBB"})
    cell = _province_target(users["officer_branch"], "loan_increase_ytd")
    assert (cell.value.contributors, cell.value.members) == (23, 24)
    assert cell.check.met is None and cell.check.pending
    assert "已审核的23家合计23.00亿元" in cell.check.reason

    client = client_for("officer_branch")
    page = client.get(reverse("indicators:dashboard") + "?period=2022-03").content.decode()
    card = page[page.index('data-target="loan_increase_ytd"') :]
    card = card[: card.index('<div class="target', 10)]
    assert "待审核" in card and "未达标" not in card and "基于 23/24 家" in card
    summary = page[page.index('id="summary-table"') :]
    row = summary[summary.index('data-indicator="loan_balance"') :]
    assert '<span class="basis"' in row[: row.index("</tr>")] and "23/24" in row[: row.index("</tr>")]

    wb = openpyxl.load_workbook(
        io.BytesIO(client.get(reverse("indicators:export_province") + "?period=2022-03").content)
    )
    targets = {r[0].value: r for r in wb["全省目标"].iter_rows(min_row=4)}
    row = targets["新增普惠小微贷款 1700亿元"]
    assert (row[4].value, row[8].value) == ("23/24", "待审核")
    assert "24家机构中1家" in row[9].value
    assert not any(r[8].value == "未达标" for r in targets.values() if r[4].value == "23/24")


# --- one rounding ------------------------------------------------------------------------------------------------


def test_a_value_is_stored_unrounded_and_rounded_once_when_shown(master, users, client_for):
    """8.834983 %: rounded to 6 decimals when stored (0.088350) and again when shown it read 8.84 %."""
    services.load_reference_data()
    p = periods(first=(2021, 12), last=(2022, 3))
    file_sheet(master["A"], p[(2022, 3)], {"loan_balance": "100", "credit_loan_balance": "8.834983"})
    services.refresh_now()
    stored = storage.value("institution", master["A"].pk, 2022, 3, "credit_share").value
    assert stored == Decimal("0.08834983")
    assert ind.get("credit_share").text(stored) == "8.83%"
    page = client_for("officer_in").get(
        reverse("indicators:institution", args=[master["A"].pk]) + "?period=2022-03"
    )
    assert ">8.83%<" in page.content.decode() and "8.84%" not in page.content.decode()


@pytest.mark.parametrize(
    ("computed", "stored"),
    [
        (0.1 + 0.2, Decimal("0.3")),  # float noise goes
        (17.67 / 200, Decimal("0.08835")),  # a true half stays a half: shown 8.84 % (half-up), once
        (float("nan"), None),
        (-0.0, Decimal("0")),
    ],
)
def test_to_decimal_keeps_the_shortest_form(computed, stored):
    assert ind.to_decimal(computed) == stored
