"""Values and periods for tests: a valid 附件4 sheet and the periods around it."""

from decimal import Decimal

from reporting.models import Form, Period
from reporting.services import ensure_monthly_periods


def periods(first=(2021, 12), last=(2022, 12)) -> dict[tuple[int, int], Period]:
    ensure_monthly_periods(first, last)
    return {(p.year, p.month): p for p in Period.objects.filter(form=Form.MONITORING)}


def sheet_values(scale: int = 1, **overrides) -> dict[str, str]:
    """A valid monthly sheet as a filer would type it (strings), scaled to stay distinct between months."""
    values = {
        "loan_balance": f"{100 * scale}",
        "credit_loan_balance": f"{20 * scale}",
        "new_loans": f"{30 * scale}",
        "new_credit_loans": f"{9 * scale}",
        "borrowers": f"{10000 * scale}",
        "new_borrowers": f"{1200 * scale}",
        "first_loan_borrowers": f"{240 * scale}",
        "first_loan_amount": f"{3 * scale}",
        "ftp_discount_bp": "50",
        "fee_relief": f"{Decimal('0.2') * scale}",
        "weighted_rate": "4.85",
    }
    values.update({k: str(v) for k, v in overrides.items()})
    return values
