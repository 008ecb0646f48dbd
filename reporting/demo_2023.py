"""The demo's 2023 campaign: January–June 2023 on the 2023 edition of 附件4, so a newcomer sees 各项贷款余额,
两增 and 核销还原 beside the 2022 figures.

Each institution's 普惠小微 figures continue its 2022 series (the same random walk, `reporting.demo.series`);
各项贷款余额 is a stable multiple of its 2022年12月 普惠 balance growing more slowly than 普惠 for most banks
(so 两增① reads 达标 for most, 未达标 for a few), and 普惠小微不良贷款核销 is a small year-to-date amount that
never falls within the year — every figure obeys the rules (E205, W409, E301, W403 …); some banks write
nothing off. Generated only when the database has no 2023 sheet, so a second run changes nothing.
"""

import random
from datetime import datetime, time
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db import transaction

from institutions.models import Institution

from . import rules
from .definitions import MONITORING_2023, NPL_WRITE_OFFS, TOTAL_LOAN_BALANCE
from .demo import SEED, history, series
from .models import Filing, FilingStatus, Form, Period
from .services import ensure_monthly_periods, write_versions

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST, LAST = (2023, 1), (2023, 6)
NO_WRITE_OFFS = {"CDB", "ADBC", "EXIM", "HKB"}  # banks with nothing written off in the half year


def _q(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def values_2023(institution: Institution) -> dict[tuple[int, int], dict]:
    """The institution's six 2023 sheets (Decimal values of every 2023-edition field)."""
    months = [(2022, 12), *((2023, m) for m in range(1, 7))]
    base = series(institution, months)
    rng = random.Random(f"{SEED}-2023-{institution.code}")
    # 普惠 is 5–25% of all loans; all loans grow 4–9% a year (a few banks faster than their 普惠 book)
    total = float(base[(2022, 12)]["loan_balance"]) / rng.uniform(0.05, 0.25)
    yearly = rng.uniform(0.04, 0.09) if rng.random() > 0.2 else rng.uniform(0.35, 0.5)
    write_off_rate = 0.0 if institution.code in NO_WRITE_OFFS else rng.uniform(0.0005, 0.002)
    out, written_off = {}, 0.0
    for year, month in months[1:]:
        row = dict(base[(year, month)])
        total *= 1 + yearly / 12 * rng.uniform(0.6, 1.4)
        written_off += float(row["loan_balance"]) * write_off_rate * rng.uniform(0.5, 1.5)
        row[TOTAL_LOAN_BALANCE] = max(_q(total), row["loan_balance"])
        row[NPL_WRITE_OFFS] = _q(written_off)
        out[(year, month)] = row
    return out


def _clean(institution, period, values, previous) -> bool:
    ctx = rules.Context(
        definition=MONITORING_2023, year=period.year, month=period.month, values=values, previous=previous
    )
    return not any(f.is_error for f in rules.validate(ctx))


@transaction.atomic
def load_2023_data(*, officer, signers=None) -> int:
    """Approved 2023年1–6月 sheets for every institution (none when any 2023 sheet exists), written as every
    filing is (`services.write_versions`, through `demo.history`)."""
    if Filing.objects.filter(period__form=Form.MONITORING, period__year=2023).exists():
        return 0
    ensure_monthly_periods(FIRST, LAST)
    periods = {
        (p.year, p.month): p for p in Period.objects.filter(form=Form.MONITORING, year=2023, month__lte=6)
    }
    signers = signers or {}
    made = 0
    for institution in Institution.objects.all():
        data = values_2023(institution)
        previous, items = None, []
        for key in sorted(data):
            period, values = periods[key], data[key]
            assert _clean(institution, period, values, previous), (institution.code, key)
            previous = values
            items.append(
                history(
                    institution,
                    period,
                    FilingStatus.APPROVED,
                    values,
                    officer=officer,
                    signer=signers.get(institution.code),
                    submitted=datetime.combine(period.due_on.replace(day=10), time(16, 30), SHANGHAI),
                    edition=MONITORING_2023.edition,
                )
            )
        made += len(write_versions(items, actor=signers.get(institution.code) or officer))
    return made
