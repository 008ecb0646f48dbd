"""Deterministic synthetic monthly data (附件4) for the demo: plausible, and obeying every rule of DOMAIN.md —
year-to-date figures never fall within a year and restart in January, 信用 ≤ 余额, 新发放信用 ≤ 新发放,
首贷金额 ≤ 新发放, 首贷户 ≤ 新发放户数, 户数 whole numbers."""

import random
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db import models, transaction

from institutions.models import Contact, EvaluationGroup, Institution

from . import parsing, services
from .definitions import definition_for, plan_definition
from .models import FilingStatus, FilingVersion, Form, Period, VersionSource

SEED = 20220415
SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2020年末普惠小微贷款余额 ranges (亿元) by evaluation group.
BASE_BALANCE = {EvaluationGroup.G1: (250, 1100), EvaluationGroup.G2: (30, 220), EvaluationGroup.G3: (80, 900)}
BIG = {"PSBC": 600, "HBRCU": 1500}


def _q(value: float, places: int) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _row(balance, credit_share, borrowers, ytd, rate, ftp) -> dict:
    new_borrowers = int(ytd["new_borrowers"])
    return {
        "loan_balance": _q(balance, 4),
        "credit_loan_balance": _q(balance * credit_share, 4),
        "new_loans": _q(ytd["new"], 4),
        "new_credit_loans": _q(ytd["new_credit"], 4),
        "borrowers": Decimal(int(borrowers)),
        "new_borrowers": Decimal(new_borrowers),
        "first_loan_borrowers": Decimal(min(int(ytd["first_b"]), new_borrowers)),
        "first_loan_amount": _q(ytd["first_amt"], 4),
        "ftp_discount_bp": _q(ftp, 2),
        "fee_relief": _q(ytd["relief"], 4),
        "weighted_rate": _q(rate, 2),
    }


def _new_year() -> dict:
    return dict.fromkeys(("new", "new_credit", "new_borrowers", "first_b", "first_amt", "relief"), 0.0)


def _add_month(ytd: dict, rng, *, balance, growth, credit_share, borrowers) -> None:
    new_month = balance * (growth + rng.uniform(0.05, 0.09))
    ytd["new"] += new_month
    ytd["new_credit"] += new_month * min(0.6, credit_share + rng.uniform(0.08, 0.18))
    new_b_month = borrowers * rng.uniform(0.03, 0.06)
    ytd["new_borrowers"] += new_b_month
    ytd["first_b"] += new_b_month * rng.uniform(0.12, 0.28)
    ytd["first_amt"] += new_month * rng.uniform(0.08, 0.18)
    ytd["relief"] += balance * rng.uniform(0.0002, 0.0006)


def _year_before(institution, year, *, balance, credit_share, per_yi, rate, ftp) -> dict:
    """The twelve months of `year` ending at the given December state, drawn backwards from it with a
    random stream of their own — so adding the year changes none of the later months' values."""
    rng = random.Random(f"{SEED}-before-{year}-{institution.code}")
    annual_growth = rng.uniform(0.12, 0.3)
    growth = {
        m: annual_growth / 12 * rng.uniform(0.4, 1.6) + (0.01 if m in (3, 6, 9, 12) else 0)
        for m in range(1, 13)
    }
    states = {12: (balance, credit_share, rate, ftp)}
    for m in range(12, 1, -1):
        b, c, r, f = states[m]
        states[m - 1] = (
            b / (1 + growth[m]),
            max(0.04, c - rng.uniform(0.0, 0.004)),
            r + rng.uniform(-0.02, 0.05),
            min(150, max(10, f + rng.uniform(-5, 5))),
        )
    out, ytd = {}, _new_year()
    for m in range(1, 13):
        b, c, r, f = states[m]
        borrowers = b * per_yi * rng.uniform(0.98, 1.02)
        _add_month(ytd, rng, balance=b, growth=growth[m], credit_share=c, borrowers=borrowers)
        out[(year, m)] = _row(b, c, borrowers, ytd, r, f)
    return out


def series(
    institution: Institution, months: list[tuple[int, int]], *, start=(2021, 1)
) -> dict[tuple[int, int], dict]:
    """Month-by-month values for one institution, seeded by its code. The random walk starts at `start`
    from the institution's 2020年末 state; months before it (2020) are drawn backwards from that state."""
    rng = random.Random(f"{SEED}-{institution.code}")
    low, high = BASE_BALANCE[institution.evaluation_group]
    balance = BIG.get(institution.code, rng.uniform(low, high))
    annual_growth = rng.uniform(0.15, 0.38)
    credit_share = rng.uniform(0.08, 0.18)
    per_yi = rng.uniform(60, 160)  # borrowers per 亿元 of balance
    rate = rng.uniform(4.9, 5.8)
    ftp = rng.uniform(25, 90)
    out = {}
    for year in sorted({y for y, m in months if (y, m) < start}, reverse=True):
        # only the year just before `start` is supported: its December is the state the walk starts from
        assert (year + 1, 1) == start, "the demo draws one year before its start"
        before = _year_before(
            institution, year, balance=balance, credit_share=credit_share, per_yi=per_yi, rate=rate, ftp=ftp
        )
        out.update({key: row for key, row in before.items() if key in months})
    ytd = {}
    for year, month in months:
        if (year, month) < start:
            continue
        if month == 1 or not ytd:
            ytd = _new_year()
        growth = annual_growth / 12 * rng.uniform(0.4, 1.6) + (0.01 if month in (3, 6, 9, 12) else 0)
        balance *= 1 + growth
        credit_share = min(0.45, credit_share + rng.uniform(0.0, 0.004))
        borrowers = balance * per_yi * rng.uniform(0.98, 1.02)
        _add_month(ytd, rng, balance=balance, growth=growth, credit_share=credit_share, borrowers=borrowers)
        rate = max(3.9, rate - rng.uniform(-0.02, 0.05))
        ftp = min(150, max(10, ftp + rng.uniform(-5, 5)))
        out[(year, month)] = _row(balance, credit_share, borrowers, ytd, rate, ftp)
    return out


# The last month's demo statuses, so the officer's matrix shows every state.
LAST_MONTH_STATUS = {
    "ICBC": None,  # 未填报: the demo filer starts here
    "HBB": FilingStatus.DRAFT,
    "CMB": FilingStatus.SUBMITTED,
    "CIB": FilingStatus.SUBMITTED,
    "PAB": FilingStatus.SUBMITTED,
    "HKB": FilingStatus.SUBMITTED,
    "CMBC": FilingStatus.RETURNED,
    "HFB": None,
    "ZBB": FilingStatus.DRAFT,
}


# A submitted sheet with an explained warning, so the demo shows one the officer has to read.
LAST_MONTH_OVERRIDES = {"CIB": {"weighted_rate": Decimal("12.35")}}
RETURN_REASON = "普惠小微信用贷款余额较上月变动较大，请核实统计口径后重新报送。"
LAST_MONTH_EXPLANATION = (
    "本月集中投放一批个体工商户应急周转贷款，期限短、风险权重高，利率按风险定价，次月将回落。"
)


def history(
    institution,
    period,
    status: str,
    values: dict,
    *,
    officer,
    signer,
    submitted: datetime,
    findings=(),
    explanations=None,
    edition: str,
    saved_before: timedelta = timedelta(hours=3),
    reviewed_after: timedelta = timedelta(days=2),
    reason: str = "",
    upload: bytes | None = None,
) -> services.NewVersion:
    """One demo return as it would have come in, for `services.write_versions`: saved by the bank a few hours
    before its signer submitted it on `submitted`, then approved or returned by the officer; a draft is only
    saved. Its version, transitions and audit entries are those of a real filing."""
    steps = []
    if status != FilingStatus.DRAFT:
        steps.append(
            services.Step(
                to=FilingStatus.SUBMITTED,
                actor=signer or officer,
                at=submitted,
                action="filing.submit",
                summary="{filing} 提交第 {number} 版，回执 {receipt}",
            )
        )
    reviewed = submitted + reviewed_after
    if status == FilingStatus.APPROVED:
        steps.append(
            services.Step(
                to=status,
                actor=officer,
                at=reviewed,
                action="filing.approve",
                summary="{filing} 审核通过（第 {number} 版）",
            )
        )
    elif status == FilingStatus.RETURNED:
        escaped = reason.replace("{", "{{").replace("}", "}}")
        steps.append(
            services.Step(
                to=status,
                actor=officer,
                at=reviewed,
                reason=reason,
                action="filing.return",
                summary="{filing} 退回：" + escaped,
            )
        )
    name = f"{institution.short_name}{period.get_form_display()}.pdf"
    return services.NewVersion(
        institution=institution,
        period=period,
        edition=edition,
        source=VersionSource.DEMO,
        values=parsing.values_to_json(values) if values else {},
        findings=[f.as_dict() for f in findings],
        explanations=explanations or {},
        upload=services.Upload(upload, name) if upload else None,
        extension=".pdf",
        steps=tuple(steps),
        created_at=submitted - saved_before,
    )


@transaction.atomic
def load_monthly_data(*, first=(2020, 1), last=(2022, 12), officer, signers=None) -> int:
    """Create the demo's monitoring filings, one version each, approved (the last month in mixed states), with
    their versions, transitions and audit entries written as every filing's are (`services.write_versions`).
    From 2020年1月, so that 2021 has its 年初 and 同比 and 2022's 增量同比 has last year's 比年初 to compare.
    The last month, the one officers review in the demo, is saved bank by bank in the order the banks sent it,
    each sheet checked by the rules against the group as it then stood — the findings a real month would have."""
    services.ensure_monthly_periods(first, last)
    periods = {(p.year, p.month): p for p in Period.objects.filter(form=Form.MONITORING)}
    months = [key for key in sorted(periods) if first <= key <= last]
    signers = signers or {}
    definition = definition_for(Form.MONITORING, last[0])
    made, under_review = 0, []
    for institution in Institution.objects.all():
        rng = random.Random(f"{SEED}-late-{institution.code}")
        data = series(institution, months)
        items = []
        for key in months:
            period = periods[key]
            status = (
                LAST_MONTH_STATUS.get(institution.code, FilingStatus.APPROVED)
                if key == last
                else FilingStatus.APPROVED
            )
            if status is None:
                continue
            day = rng.choice([6, 8, 10, 11, 12, 13, 14, 14, 15, 15, 16])  # now and then a day late
            if key == last:  # the month under review came in before the demo's day (portal/clock.py)
                day = min(day, 7)
            submitted = datetime.combine(period.due_on.replace(day=day), time(16, 30), SHANGHAI)
            values = {**data[key], **(LAST_MONTH_OVERRIDES.get(institution.code, {}) if key == last else {})}
            if key == last:
                under_review.append((submitted, institution, period, status, values))
                continue
            items.append(
                history(
                    institution,
                    period,
                    status,
                    values,
                    officer=officer,
                    signer=signers.get(institution.code),
                    submitted=submitted,
                    edition=definition.edition,
                )
            )
        made += len(services.write_versions(items, actor=signers.get(institution.code) or officer))
    for submitted, institution, period, status, values in sorted(
        under_review, key=lambda r: (r[0], r[1].code)
    ):
        _definition, stored, found = services.check(institution=institution, period=period, raw=values)
        explained = institution.code in LAST_MONTH_OVERRIDES
        item = history(
            institution,
            period,
            status,
            stored,
            officer=officer,
            signer=signers.get(institution.code),
            submitted=submitted,
            edition=definition.edition,
            findings=found,
            explanations={f.key: LAST_MONTH_EXPLANATION for f in found if f.severity == "warning"}
            if explained
            else {},
            reason=RETURN_REASON if status == FilingStatus.RETURNED else "",
        )
        made += len(services.write_versions([item], actor=signers.get(institution.code) or officer))
    return made


# --- the year's other returns: 附件3 plan, 附件2 contacts, 工作方案, 经验做法 ------------------------------

CAMPAIGN_DUE = (2022, 4, 29)  # 武银〔2022〕45号: work plan, contacts and plan by 2022-04-29
# The demo's clock stands in January 2023 (portal/clock.py): the year's plan, contacts and work plan were due
# long ago and are in; one bank (HFB) is the laggard whose returns are overdue; HBB's plan was sent back for
# quarters that do not add up (W407); the fourth quarter's 经验做法 (due 2023-01-31) is coming in.
LAGGARD = "HFB"
PLAN_STATUS = {LAGGARD: None, "HBB": FilingStatus.RETURNED}
PLAN_RETURN_REASON = "四个季度预计新增额之和与全年预计新增额不一致，请核对后重新报送。"
EXPERIENCE_Q4_SUBMITTED = ("CCB", "PSBC", "WRCB")
# when each return came in: a few days before its deadline
SUBMITTED_ON = {None: (2022, 4, 27), 1: (2022, 4, 27), 2: (2022, 7, 26), 3: (2022, 10, 26), 4: (2023, 1, 9)}


def demo_pdf(title: str) -> bytes:
    """A small, valid one-page PDF standing in for an uploaded document."""
    text = title.encode("ascii", "replace")
    stream = b"BT /F1 18 Tf 72 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _split(total: Decimal, weights: list[float]) -> list[Decimal]:
    """`total` over the regions by weight, to 4 decimals, the rounding remainder on the first (武汉)."""
    scale = sum(weights)
    parts = [_q(float(total) * w / scale, 4) for w in weights]
    parts[0] += total - sum(parts)
    return parts


def plan_values(institution: Institution, balances: dict, year: int) -> dict[str, Decimal]:
    """A plan consistent with the demo's monthly sheets: 上年末余额 and 一季度实际新增 agree with 附件4."""

    definition = plan_definition(year)
    regions = [r.code for r in definition.rows if r.code != definition.total_row]
    rng = random.Random(f"{SEED}-plan-{institution.code}")
    weights = [rng.uniform(6, 10)] + [rng.uniform(0.3, 1.6) for _ in regions[1:]]  # 武汉 carries the most
    dec, jan, march = balances[(year - 1, 12)], balances[(year - 1, 1)], balances[(year, 3)]
    y1 = _split(dec, weights)
    # 上上年末: the demo's sheets of that December when they exist (from 2020年12月 on), else near January's
    before = balances.get((year - 2, 12)) or _q(float(jan) * 0.98, 4)
    y2 = _split(before, [w * rng.uniform(0.85, 1.15) for w in weights])
    q1 = _split(march - dec, weights)
    values = {}
    for i, region in enumerate(regions):
        planned = _q(float(y1[i]) * rng.uniform(0.2, 0.35), 4)
        rest = planned - q1[i]
        q2, q3 = _q(float(rest) * 0.3, 4), _q(float(rest) * 0.35, 4)
        values.update(
            {
                f"{region}.balance_y2": y2[i],
                f"{region}.balance_y1": y1[i],
                f"{region}.planned_increase": planned,
                f"{region}.q1_actual": q1[i],
                f"{region}.q2_plan": q2,
                f"{region}.q3_plan": q3,
                f"{region}.q4_plan": rest - q2 - q3,
            }
        )
    return values


@transaction.atomic
def load_annual_data(*, year: int = 2022, officer, signers) -> int:
    """附件3 plans (consistent with the monthly sheets), 附件2 contacts from master data, work plans and the
    four quarters' 经验做法, as they stand on the demo's day in January 2023 (SUBMITTED_ON, LAGGARD)."""

    services.ensure_campaign_periods(year, due_on=date(*CAMPAIGN_DUE))
    periods = {(p.form, p.quarter): p for p in Period.objects.filter(year=year).exclude(form=Form.MONITORING)}
    balances: dict[int, dict] = {}
    for institution_id, y, m, values in FilingVersion.objects.filter(
        filing__period__form=Form.MONITORING, filing__current_version__id=models.F("id")
    ).values_list("filing__institution_id", "filing__period__year", "filing__period__month", "values"):
        balances.setdefault(institution_id, {})[(y, m)] = Decimal(values["loan_balance"])
    contacts: dict[int, dict] = {}
    for c in Contact.objects.all():
        for name in ("department", "name", "title", "office_phone", "mobile", "email"):
            contacts.setdefault(c.institution_id, {})[f"{c.role}.{name}"] = getattr(c, name)

    def on(quarter):
        return datetime.combine(date(*SUBMITTED_ON[quarter]), time(15, 0), SHANGHAI)

    def file(institution, form, quarter, status, values, upload=None, reason=""):
        period = periods[(form, quarter)]
        definition, stored, found = services.check(institution=institution, period=period, raw=values)
        item = history(
            institution,
            period,
            status,
            stored if values else {},
            officer=officer,
            signer=signers.get(institution.code),
            submitted=on(quarter),
            findings=found,
            edition=definition.edition,
            saved_before=timedelta(hours=2),
            reviewed_after=timedelta(days=3),
            reason=reason,
            upload=upload,
        )
        services.write_versions([item], actor=signers.get(institution.code) or officer)

    made = 0
    for institution in Institution.objects.all():
        code = institution.code
        status = PLAN_STATUS.get(code, FilingStatus.APPROVED)
        if status:
            values = plan_values(institution, balances[institution.pk], year)
            if code == "HBB":  # sent back: its quarters do not add up (W407), to fix and submit again
                values["420100.q4_plan"] += Decimal("1.5")
            file(
                institution,
                Form.PLAN,
                None,
                status,
                values,
                reason=PLAN_RETURN_REASON if code == "HBB" else "",
            )
            made += 1
        file(institution, Form.CONTACTS, None, FilingStatus.APPROVED, contacts.get(institution.pk, {}))
        made += 1
        for form, quarter in (
            (Form.WORK_PLAN, None),
            (Form.EXPERIENCE, 1),
            (Form.EXPERIENCE, 2),
            (Form.EXPERIENCE, 3),
            (Form.EXPERIENCE, 4),
        ):
            if code == LAGGARD and quarter in (None, 3):
                continue  # overdue: the one bank the demo's officers have to chase
            if quarter == 4 and code not in EXPERIENCE_Q4_SUBMITTED:
                continue  # not yet: due 2023-01-31
            state = FilingStatus.SUBMITTED if quarter == 4 else FilingStatus.APPROVED
            file(
                institution,
                form,
                quarter,
                state,
                {},
                upload=demo_pdf(f"{code} {year} {form} Q{quarter or ''} (demo)"),
            )
            made += 1
    return made
