"""What tests build over and over, as factory_boy factories: institutions and PBoC offices, a user of each role,
monitoring periods and filings — the filings through the reporting services, so a made filing has the versions,
transitions, receipts and audit rows a filed one has. Plus a valid 附件4 sheet and the periods around it.

    FilingFactory(institution=master["A"], period=march)                      # approved, one version
    FilingFactory(institution=bank, period=march, status="returned", versions=2, values=sheet_values(2))
    SignerFactory(institution=master["B"]); OfficerFactory(office=master["office_in"])

A filing's filer, signer and officer default to a user of that role already at the institution (or, for the
officer, at its supervising office) — the `users` fixture's filer_a, signer_a, officer_in for ICBC — and are
made when there is none.
"""

from datetime import date
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory, Password

from institutions.models import EvaluationGroup, Institution, InstitutionKind, PbocOffice, Role, User
from reporting import services
from reporting.models import Filing, FilingStatus, Form, Period, VersionSource
from reporting.services import ensure_monthly_periods

PASSWORD = "Portal-test-2022"
EXPLANATION = "经核实，数据无误：本月新增客户集中投放所致。"
RETURN_REASON = "户数与A3302报表不一致，请核对。"


# --- master data and people ----------------------------------------------------------------------------------


class PbocOfficeFactory(DjangoModelFactory):
    """A 支行 with no office above it: only its own officers see the institutions it supervises."""

    class Meta:
        model = PbocOffice
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T-{n:03d}")
    name = factory.Sequence(lambda n: f"人民银行测试支行{n:03d}")
    kind = PbocOffice.Kind.SUB


class InstitutionFactory(DjangoModelFactory):
    """A bank; `InstitutionFactory(code="ICBC")` is the master data's own once `master` has loaded it."""

    class Meta:
        model = Institution
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"TB{n:03d}")
    name = factory.LazyAttribute(lambda o: f"测试银行{o.code}湖北省分行")
    short_name = factory.LazyAttribute(lambda o: f"测试银行{o.code}")
    kind = InstitutionKind.JOINT_STOCK
    evaluation_group = EvaluationGroup.G2
    supervising_office = factory.SubFactory(PbocOfficeFactory)
    order = factory.Sequence(lambda n: 100 + n)
    active_from = date(2019, 1, 1)


class UserFactory(DjangoModelFactory):
    """A person who signs in with PASSWORD; the subclasses below give the role and its affiliation."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n:03d}")
    display_name = factory.LazyAttribute(lambda o: o.username)
    password = Password(PASSWORD)


def make_user(username: str, role: str, *, institution=None, office=None) -> User:
    """A user of any role by name (the role factories below say the same with their defaults)."""
    return UserFactory(username=username, role=role, institution=institution, office=office)


class FilerFactory(UserFactory):
    """银行填报人: fills in the bank's returns."""

    role = Role.BANK_FILER
    institution = factory.SubFactory(InstitutionFactory)


class SignerFactory(FilerFactory):
    """银行分管领导: submits them."""

    role = Role.BANK_SIGNER


class OfficerFactory(UserFactory):
    """人民银行经办: reviews the institutions its office and the offices below it supervise."""

    role = Role.PBOC_OFFICER
    office = factory.SubFactory(PbocOfficeFactory)


class AdminFactory(OfficerFactory):
    """人民银行管理员."""

    role = Role.PBOC_ADMIN


# --- periods and filings -------------------------------------------------------------------------------------


class MonthlyPeriodFactory(DjangoModelFactory):
    """The 附件4 period of `year`-`month`, made as the campaign makes it (services.ensure_monthly_periods)."""

    class Meta:
        model = Period

    year = 2022
    month = 3

    @classmethod
    def _create(cls, model_class, *, year, month, **rest):
        ensure_monthly_periods((year, month), (year, month))
        return model_class.objects.get(form=Form.MONITORING, year=year, month=month)


def _person(role: str, institution: Institution) -> User:
    """The institution's first user of a bank role, or its supervising office's first of a PBoC role; made when
    there is none."""
    if role in (Role.BANK_FILER, Role.BANK_SIGNER):
        found = User.objects.filter(role=role, institution=institution).order_by("pk").first()
        maker = FilerFactory if role == Role.BANK_FILER else SignerFactory
        return found or maker(institution=institution)
    found = User.objects.filter(role=role, office=institution.supervising_office).order_by("pk").first()
    return found or OfficerFactory(office=institution.supervising_office)


class FilingFactory(factory.Factory):
    """A return saved, submitted and reviewed through reporting.services as the portal's people do it.

    `status`: "draft", "submitted", "approved" (the default) or "returned"; `versions`: how many times the
    filer saved `values` before submitting. Warnings the values raise are explained (EXPLANATION) unless
    `explanations` is given; a return with errors can only be made as a draft.
    """

    class Meta:
        model = Filing

    institution = factory.SubFactory(InstitutionFactory)
    period = factory.SubFactory(MonthlyPeriodFactory)
    values = factory.LazyFunction(lambda: sheet_values())
    status = FilingStatus.APPROVED
    versions = 1
    explanations = None
    source = VersionSource.WEB
    filer = None
    signer = None
    officer = None
    reason = RETURN_REASON

    @classmethod
    def _create(
        cls, model_class, *, institution, period, values, status, versions, explanations, source, **who
    ):
        filer = who["filer"] or _person(Role.BANK_FILER, institution)
        if explanations is None and status != FilingStatus.DRAFT:
            _, _, findings = services.check(institution=institution, period=period, raw=values)
            explanations = {f.key: EXPLANATION for f in findings if f.severity == "warning"}
        for _ in range(versions):
            version = services.save_version(
                institution=institution,
                period=period,
                actor=filer,
                raw=values,
                source=source,
                explanations=explanations,
            )
        filing = version.filing
        if status != FilingStatus.DRAFT:
            signer = who["signer"] or _person(Role.BANK_SIGNER, institution)
            services.submit(filing=filing, actor=signer, confirm=True)
        if status in (FilingStatus.APPROVED, FilingStatus.RETURNED):
            officer = who["officer"] or _person(Role.PBOC_OFFICER, institution)
            if status == FilingStatus.APPROVED:
                services.approve(filing=filing, actor=officer)
            else:
                services.return_filing(filing=filing, actor=officer, reason=who["reason"])
        filing.refresh_from_db()
        return filing


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
