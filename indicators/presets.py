"""Reference data the portal starts with: the 2022 targets of 武银〔2022〕45号 and the 1-year LPR series.

Plain data, no models: the data migration and `services.load_reference_data` (called by loaddemo) both read it.
Target values are in the indicator's stored unit (亿元, 户, a fraction for a percentage, BP).
"""

import csv
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

LPR_FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "lpr-1y-2021-2023.csv"


@dataclass(frozen=True, kw_only=True)
class TargetPreset:
    """A target the portal starts with: the fields of `indicators.models.Target` but the year and the scope
    (province or institution), which come from the table it is listed in."""

    indicator: str
    comparator: str  # Comparator: "gte" (不低于) or "gt" (高于)
    basis: str  # TargetBasis: fixed (the value), last_year, year_start, plan (附件3)
    value: Decimal | None  # a fixed basis's reference; None for the others
    applies_to: str  # AppliesTo: all, national or local institutions
    label: str
    source: str  # the clause of the document that sets it


PROVINCE_TARGETS_2022 = [
    TargetPreset(
        indicator="loan_increase_ytd",
        comparator="gte",
        basis="fixed",
        value=Decimal("1700"),
        applies_to="all",
        label="新增普惠小微贷款 1700亿元",
        source="004 §一",
    ),
    TargetPreset(
        indicator="loan_growth_ytd",
        comparator="gte",
        basis="fixed",
        value=Decimal("0.30"),
        applies_to="all",
        label="全年普惠小微贷款增速达到 30%",
        source="004 §一",
    ),
    TargetPreset(
        indicator="borrowers_increase_ytd",
        comparator="gte",
        basis="fixed",
        value=Decimal("200000"),
        applies_to="all",
        label="增加普惠小微贷款户数 20万户",
        source="004 §一",
    ),
    TargetPreset(
        indicator="first_loan_borrowers",
        comparator="gte",
        basis="fixed",
        value=Decimal("150000"),
        applies_to="all",
        label="拓展首贷户 15万户",
        source="004 §(八)",
    ),
    TargetPreset(
        indicator="first_loan_amount",
        comparator="gt",
        basis="fixed",
        value=Decimal("1500"),
        applies_to="all",
        label="发放首次贷款超过 1500亿元",
        source="004 §(八)",
    ),
    TargetPreset(
        indicator="credit_increase_ytd",
        comparator="gt",
        basis="fixed",
        value=Decimal("400"),
        applies_to="all",
        label="新增普惠小微信用贷款超过 400亿元",
        source="004 §(十三)",
    ),
    TargetPreset(
        indicator="new_credit_share",
        comparator="gte",
        basis="fixed",
        value=Decimal("0.30"),
        applies_to="all",
        label="新发放普惠小微贷款中信用贷款占比 30%",
        source="004 §(十三)",
    ),
]

INSTITUTION_TARGETS_2022 = [
    TargetPreset(
        indicator="loan_increase_ytd",
        comparator="gte",
        basis="last_year",
        value=None,
        applies_to="all",
        label="普惠小微贷款增量不低于上年",
        source="004 §一",
    ),
    TargetPreset(
        indicator="credit_share",
        comparator="gt",
        basis="year_start",
        value=None,
        applies_to="all",
        label="信用贷款比重高于上年",
        source="004 §一",
    ),
    TargetPreset(
        indicator="first_loan_share",
        comparator="gt",
        basis="last_year",
        value=None,
        applies_to="all",
        label="首贷户比重高于上年",
        source="004 §一",
    ),
    TargetPreset(
        indicator="loan_increase_ytd",
        comparator="gte",
        basis="plan",
        value=None,
        applies_to="all",
        label="完成附件3年度投放计划",
        source="004 §(十九)",
    ),
    TargetPreset(
        indicator="ftp_discount_bp",
        comparator="gte",
        basis="fixed",
        value=Decimal("50"),
        applies_to="national",
        label="FTP优惠不低于 50BP（全国性银行在鄂分支机构）",
        source="004 §(七)",
    ),
]


def targets_2022() -> list[dict]:
    rows = []
    for scope, table in (("province", PROVINCE_TARGETS_2022), ("institution", INSTITUTION_TARGETS_2022)):
        for target in table:
            rows.append({"year": 2022, "scope": scope, **asdict(target)})
    return rows


def lpr_rows(path: Path = LPR_FIXTURE) -> list[tuple[int, int, Decimal]]:
    """(year, month, rate %) from the fixture: columns 月份 (YYYY-MM), 一年期LPR(%)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        out = []
        for row in csv.DictReader(fh):
            year, month = row["月份"].split("-")
            out.append((int(year), int(month), Decimal(row["一年期LPR(%)"])))
        return out
