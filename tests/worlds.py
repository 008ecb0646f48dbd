"""The worlds tests share: the monitoring sheets of two banks refreshed into indicators (`build_world`), stored
indicator values and scores for an evaluation, the 2022 campaign's periods and a consistent plan, the 2021
evaluation reference and a PDF read back as text.

tests/conftest.py exposes them as fixtures (`world`, `campaign`, `published`); modules import the helpers and
constants from here, never from another test module.

`snapshot` reads every stored indicator back and `from_scratch` what a full refresh from an empty table would
store, to compare the refresh's paths with.

The monitoring world (values in 亿元 / 户 / BP / %):

    ICBC (A, 第1组, national)  2021-03: 余额 80   2021-12: 余额 100  2022-01: 余额 104  2022-03: 余额 110
    HBB  (B, 第3组, local)     2021-12: 余额 50   2022-01: submitted only   2022-02: not filed   2022-03: 余额 60
"""

import subprocess
from datetime import date, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction

from evaluation import services as evaluation_services
from evaluation.models import ItemKind, Member
from indicators import services, storage
from indicators.models import IndicatorMonth, RefreshRun
from reporting import services as reporting_services
from reporting.definitions import plan_definition
from reporting.models import Filing, FilingStatus, FilingVersion, Form, Period, VersionSource
from tests.factories import periods

ROOT = Path(__file__).resolve().parents[1]

# --- the monitoring world: two banks' sheets, plans, refreshed indicators -------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")

A_2021_03 = dict(
    loan_balance="80",
    credit_loan_balance="12",
    new_loans="20",
    new_credit_loans="5",
    borrowers="9000",
    new_borrowers="1000",
    first_loan_borrowers="200",
    first_loan_amount="2",
    ftp_discount_bp="40",
    fee_relief="0.1",
    weighted_rate="5.00",
)
A_2021_12 = dict(
    loan_balance="100",
    credit_loan_balance="20",
    new_loans="90",
    new_credit_loans="27",
    borrowers="10000",
    new_borrowers="4000",
    first_loan_borrowers="900",
    first_loan_amount="9",
    ftp_discount_bp="45",
    fee_relief="0.5",
    weighted_rate="4.80",
)
A_2022_01 = dict(
    loan_balance="104",
    credit_loan_balance="22",
    new_loans="10",
    new_credit_loans="4",
    borrowers="10100",
    new_borrowers="300",
    first_loan_borrowers="60",
    first_loan_amount="1",
    ftp_discount_bp="50",
    fee_relief="0.05",
    weighted_rate="4.70",
)
A_2022_03 = dict(
    loan_balance="110",
    credit_loan_balance="24",
    new_loans="30",
    new_credit_loans="9",
    borrowers="10500",
    new_borrowers="1200",
    first_loan_borrowers="240",
    first_loan_amount="3",
    ftp_discount_bp="50",
    fee_relief="0.2",
    weighted_rate="4.60",
)
B_2021_12 = dict(
    loan_balance="50",
    credit_loan_balance="5",
    new_loans="40",
    new_credit_loans="8",
    borrowers="4000",
    new_borrowers="2000",
    first_loan_borrowers="300",
    first_loan_amount="4",
    ftp_discount_bp="0",
    fee_relief="0.2",
    weighted_rate="5.50",
)
B_2022_03 = dict(
    loan_balance="60",
    credit_loan_balance="9",
    new_loans="15",
    new_credit_loans="6",
    borrowers="4400",
    new_borrowers="800",
    first_loan_borrowers="100",
    first_loan_amount="1.5",
    ftp_discount_bp="10",
    fee_relief="0.1",
    weighted_rate="5.20",
)


def file_sheet(institution, period, values, *, status=FilingStatus.APPROVED, number=1, submitted_on=None):
    """A filing with one current version in `status`, straight through the ORM (the workflow has its own tests)."""
    submitted = (
        datetime.combine(submitted_on, datetime.min.time(), SHANGHAI).replace(hour=16)
        if submitted_on
        else datetime.combine(period.due_on - timedelta(days=3), datetime.min.time(), SHANGHAI)
    )
    filing = Filing.objects.create(
        institution=institution,
        period=period,
        status=status,
        first_submitted_at=submitted if status != FilingStatus.DRAFT else None,
        submitted_at=submitted if status != FilingStatus.DRAFT else None,
        approved_at=submitted + timedelta(days=1) if status == FilingStatus.APPROVED else None,
    )
    version = None
    for n in range(1, number + 1):
        version = FilingVersion.objects.create(
            filing=filing, number=n, edition="2022", values=dict(values), source=VersionSource.DEMO
        )
    filing.current_version = version
    filing.save(update_fields=["current_version"])
    return filing


def plan_period(year: int) -> Period:
    period, _ = Period.objects.get_or_create(
        form=Form.PLAN,
        year=year,
        month=None,
        quarter=None,
        defaults={"ends_on": date(year, 4, 29), "opens_on": date(year, 4, 1), "due_on": date(year, 4, 29)},
    )
    return period


def regional_plan(total_regions: dict[str, str], column: str, default: str = "1") -> dict[str, str]:
    """附件3 values with every region row (the 全省 row is derived, as the plan return stores it)."""
    from reporting.definitions import plan_definition

    rows = [r.code for r in plan_definition(2022).rows if r.code != "420000"]
    return {f"{code}.{column}": total_regions.get(code, default) for code in rows}


def build_world(master, users) -> dict:
    """The two banks' sheets of the month constants above, the plans, the LPR and the 2022 targets, refreshed into
    stored values."""
    services.load_reference_data()
    p = periods(first=(2021, 1), last=(2022, 12))
    A, B = master["A"], master["B"]
    file_sheet(A, p[(2021, 3)], A_2021_03)
    file_sheet(A, p[(2021, 12)], A_2021_12)
    file_sheet(A, p[(2022, 1)], A_2022_01)
    file_sheet(A, p[(2022, 3)], A_2022_03, number=2)
    file_sheet(B, p[(2021, 12)], B_2021_12)
    file_sheet(B, p[(2022, 1)], B_2021_12, status=FilingStatus.SUBMITTED)
    file_sheet(B, p[(2022, 3)], B_2022_03)
    plan = plan_period(2022)
    file_sheet(
        A,
        plan,
        {
            **regional_plan({"420100": "24"}, "planned_increase"),
            **regional_plan({"420100": "10"}, "q1_actual", default="0"),
            **regional_plan({}, "q2_plan", default="0.5"),
        },
    )
    file_sheet(B, plan, regional_plan({}, "planned_increase"), status=FilingStatus.SUBMITTED)
    run = services.refresh_now()
    assert run.status == RefreshRun.Status.DONE
    return {"A": A, "B": B, "periods": p, "run": run, **users}


def snapshot() -> dict:
    """Every stored indicator: {(scope_kind, scope_key, year, month, code): (value, reason, contributors,
    members)}."""
    return {
        (s.scope_kind, s.scope_key, s.year, s.month, s.code): (s.value, s.reason, s.contributors, s.members)
        for s in storage.values()
    }


def from_scratch() -> dict:
    """What a full refresh stores for the same data (rolled back: the incremental rows stay as they were)."""
    with transaction.atomic():
        IndicatorMonth.objects.all().delete()
        services.refresh_now()
        values = snapshot()
        transaction.set_rollback(True)
    return values


# --- the 2022 campaign: its periods and a consistent plan --------------------------------------------------------

PLAN = plan_definition(2022)
REGIONS = [r.code for r in PLAN.rows if r.code != PLAN.total_row]


def campaign_periods() -> dict:
    """The 2022 campaign's yearly periods (plan, contacts, …) by form; the quarterly ones exist too."""
    reporting_services.ensure_campaign_periods(2022, due_on=date(2022, 4, 29))
    return {p.form: p for p in Period.objects.filter(year=2022, quarter__isnull=True)}


def plan_values(**overrides) -> dict[str, str]:
    """A consistent plan: every region 10 → 12 亿元, plans 3 亿元 of which Q1 0.6 actual and 0.8 per quarter."""
    values = {}
    for region in REGIONS:
        values.update(
            {
                f"{region}.balance_y2": "10",
                f"{region}.balance_y1": "12",
                f"{region}.planned_increase": "3",
                f"{region}.q1_actual": "0.6",
                f"{region}.q2_plan": "0.8",
                f"{region}.q3_plan": "0.8",
                f"{region}.q4_plan": "0.8",
            }
        )
    values.update({k: str(v) for k, v in overrides.items()})
    return values


def contact_values(**overrides) -> dict[str, str]:
    """A valid 联系人 return: the three roles with their departments, titles, phones and e-mails."""
    values = {}
    for i, role in enumerate(("leader", "head", "liaison")):
        values.update(
            {
                f"{role}.department": "普惠金融事业部",
                f"{role}.name": ["李建国", "王芳", "张晓敏"][i],
                f"{role}.title": ["副行长", "总经理", "高级经理"][i],
                f"{role}.office_phone": "027-87654321",
                f"{role}.mobile": f"1390000000{i}",
                f"{role}.email": f"user{i}@icbc.com.cn",
            }
        )
    values.update(overrides)
    return values


# --- the evaluation: the 2021 reference, stored indicators, scores, PDFs read back ------------------------------

CSV = ROOT / "fixtures" / "2021-hubei-four-lists-evaluation.csv"


def put_indicators(evaluation, *, month=12, skip=(), codes=("loan_growth_ytd", "loan_growth_yoy")):
    """Stored indicator values (the indicators app's table) for every member: deterministic by order."""
    from indicators.storage import Stored, put

    rows = []
    for member in Member.objects.filter(evaluation=evaluation).select_related("institution"):
        inst = member.institution
        for n, code in enumerate(codes):
            if inst.code in skip:
                rows.append(
                    Stored(
                        scope_kind="institution",
                        scope_key=str(inst.pk),
                        year=evaluation.year,
                        month=month,
                        code=code,
                        value=None,
                        reason="2022年12月监测表未报送",
                        contributors=0,
                        members=0,
                    )
                )
            else:
                rows.append(
                    Stored(
                        scope_kind="institution",
                        scope_key=str(inst.pk),
                        year=evaluation.year,
                        month=month,
                        code=code,
                        value=D("0.10") + D(inst.order) / 100 + D(n) / 1000,
                        reason="",
                        contributors=1,
                        members=1,
                    )
                )
    put(rows)


def score_all(evaluation, actor, *, skip=()):
    for member in Member.objects.filter(evaluation=evaluation).select_related("institution"):
        if member.institution.code in skip:
            continue
        for item in evaluation.items.filter(kind=ItemKind.QUALITATIVE):
            evaluation_services.score(
                actor=actor,
                evaluation=evaluation,
                institution=member.institution,
                item=item,
                value=item.weight - D(member.institution.order % 5),
                comment="清单公示完整",
            )


def pdftotext(data: bytes, tmp_path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
