"""Reference data the portal starts with: the 2022 targets of 武银〔2022〕45号 and the 1-year LPR series.

Plain data, no models: the data migration and `services.load_reference_data` (called by loaddemo) both read it.
Target values are in the indicator's stored unit (亿元, 户, a fraction for a percentage, BP).
"""

import csv
from decimal import Decimal
from pathlib import Path

LPR_FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "lpr-1y-2021-2023.csv"

# (indicator, comparator, basis, value, applies_to, label, source)
PROVINCE_TARGETS_2022 = [
    ("loan_increase_ytd", "gte", "fixed", Decimal("1700"), "all", "新增普惠小微贷款 1700亿元", "004 §一"),
    ("loan_growth_ytd", "gte", "fixed", Decimal("0.30"), "all", "全年普惠小微贷款增速达到 30%", "004 §一"),
    (
        "borrowers_increase_ytd",
        "gte",
        "fixed",
        Decimal("200000"),
        "all",
        "增加普惠小微贷款户数 20万户",
        "004 §一",
    ),
    ("first_loan_borrowers", "gte", "fixed", Decimal("150000"), "all", "拓展首贷户 15万户", "004 §(八)"),
    ("first_loan_amount", "gt", "fixed", Decimal("1500"), "all", "发放首次贷款超过 1500亿元", "004 §(八)"),
    (
        "credit_increase_ytd",
        "gt",
        "fixed",
        Decimal("400"),
        "all",
        "新增普惠小微信用贷款超过 400亿元",
        "004 §(十三)",
    ),
    (
        "new_credit_share",
        "gte",
        "fixed",
        Decimal("0.30"),
        "all",
        "新发放普惠小微贷款中信用贷款占比 30%",
        "004 §(十三)",
    ),
]

INSTITUTION_TARGETS_2022 = [
    ("loan_increase_ytd", "gte", "last_year", None, "all", "普惠小微贷款增量不低于上年", "004 §一"),
    ("credit_share", "gt", "year_start", None, "all", "信用贷款比重高于上年", "004 §一"),
    ("first_loan_share", "gt", "last_year", None, "all", "首贷户比重高于上年", "004 §一"),
    ("loan_increase_ytd", "gte", "plan", None, "all", "完成附件3年度投放计划", "004 §(十九)"),
    (
        "ftp_discount_bp",
        "gte",
        "fixed",
        Decimal("50"),
        "national",
        "FTP优惠不低于 50BP（全国性银行在鄂分支机构）",
        "004 §(七)",
    ),
]


def targets_2022() -> list[dict]:
    rows = []
    for scope, table in (("province", PROVINCE_TARGETS_2022), ("institution", INSTITUTION_TARGETS_2022)):
        for indicator, comparator, basis, value, applies_to, label, source in table:
            rows.append(
                {
                    "year": 2022,
                    "scope": scope,
                    "indicator": indicator,
                    "comparator": comparator,
                    "basis": basis,
                    "value": value,
                    "applies_to": applies_to,
                    "label": label,
                    "source": source,
                }
            )
    return rows


def lpr_rows(path: Path = LPR_FIXTURE) -> list[tuple[int, int, Decimal]]:
    """(year, month, rate %) from the fixture: columns 月份 (YYYY-MM), 一年期LPR(%)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        out = []
        for row in csv.DictReader(fh):
            year, month = row["月份"].split("-")
            out.append((int(year), int(month), Decimal(row["一年期LPR(%)"])))
        return out
