"""Every Excel export neutralises formula injection (OWASP "CSV injection") in every cell that came from people.

One sweep instead of a test per export: text carrying formula payloads is put, through the services, everywhere
a person can type something that may reach a workbook — institution names and user names (Django admin),
contacts (附件2), warning explanations, return reasons and field comments, a rejected upload's file name,
supervision reasons and follow-ups, target labels, evaluation titles, scoring comments, grade-override
reasons, evidence file names and 公示 channels. Then every xlsx route of the URL resolver and the
export_evaluation command is downloaded as a role that may, and every cell of every sheet is scanned: no cell
may start with a formula trigger unless it is one of the workbook's own formulas (附件3's 全省 sums and growth
ratios), and those never contain a payload. Each export must also show the payloads it carries, neutralised,
so the sweep cannot pass by exporting nothing. A new export route fails `test_every_export_route_is_swept`
until it is added here.
"""

import inspect
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from evaluation import selectors as evaluation_selectors
from evaluation import services as evaluation_services
from evaluation.models import ItemKind, Member, ReportJob
from indicators import services as indicator_services
from indicators.models import Target
from institutions.models import Institution, User
from portal.errors import ServiceError
from reporting import services as reporting_services
from reporting.demo import demo_pdf
from reporting.models import Form, Period, VersionSource
from tests.worlds import A_2022_03, build_world, plan_period, put_indicators

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# --- the payloads ------------------------------------------------------------------------------------------

HYPERLINK = '=HYPERLINK("http://x","y")'
DDE = "+cmd|' /C calc'!A0"
MINUS = "-2+3"
AT = "@SUM(1)"
TAB = "\t=1+2"
CR = "\r=3+4"
PAYLOADS = (HYPERLINK, DDE, MINUS, AT, TAB, CR)
# Trimming services keep what follows a leading tab or CR; an XML reader turns a stored CR into LF.
CORES = (HYPERLINK, DDE, MINUS, AT, "=1+2", "=3+4", "\n=3+4")
# Legitimate values a bank may type that start with a trigger all the same (passing the 附件2 rules).
PHONE = "+8613912345678"
EMAIL = "=x@bank.com.cn"

# A cell that starts with one of these is, or becomes once edited or saved as CSV, a formula. LF stands for a
# CR that the XML round trip normalised.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# The only functions the portal's own formulas use (附件3: SUM for 全省, IF/OR/NOT/ISNUMBER for the ratios).
OWN_FUNCTIONS = {"SUM", "IF", "OR", "NOT", "ISNUMBER"}

# --- the routes ------------------------------------------------------------------------------------------

# Every route that answers with an xlsx workbook, each downloaded by the sweep below.
SWEPT = {
    "audit:export",
    "reporting:contacts_export",
    "reporting:bulk_template",
    "reporting:template",
    "reporting:findings",
    "indicators:export_province",
    "indicators:export_institutions",
    "evaluation:results_xlsx",
    "api-filing-findings-report",
    "api-filing-template",
}
# Routes that look like exports but do not answer GET with a workbook (checked by the sweep, too).
NOT_WORKBOOKS = {
    "reporting:bulk_import": "the officer's import page: takes a workbook, answers with HTML",
    "reporting:upload": "POST only: a bank's filled template",
    "api-filing-workbook": "POST only: a bank's filled template through the API",
    "evaluation:job_download": "the report cards, a ZIP of PDFs",
}
_EXPORT_WORDS = re.compile(r"export|xlsx|excel|workbook|download|template", re.IGNORECASE)
_WRITES_XLSX = re.compile(r"XLSX|spreadsheetml|openpyxl|\bexcel\.|\.xlsx")


def _routes(patterns=None, prefix="", namespace=""):
    """(name with namespace, route, view) of every URL pattern of the project."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            inner = ":".join(n for n in (namespace, p.namespace) if n)
            yield from _routes(p.url_patterns, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            name = ":".join(n for n in (namespace, p.name) if n) if p.name else ""
            yield name, prefix + str(p.pattern), p.callback


def _looks_like_export(name: str, route: str, view) -> bool:
    if _EXPORT_WORDS.search(name) or _EXPORT_WORDS.search(route):
        return True
    try:
        source = inspect.getsource(getattr(view, "view_class", None) or inspect.unwrap(view))
    except (OSError, TypeError):
        return False
    return bool(_WRITES_XLSX.search(source))


def test_every_export_route_is_swept():
    found = {name or route for name, route, view in _routes() if _looks_like_export(name, route, view)}
    assert found - SWEPT - set(NOT_WORKBOOKS) == set(), "add the new export to SWEPT and to the sweep below"
    assert (SWEPT | set(NOT_WORKBOOKS)) - found == set(), "a listed route no longer exists"


# --- the world ---------------------------------------------------------------------------------------------


@pytest.fixture
def world(master, users, settings, tmp_path):
    """Two institutions and their people with payloads in every free-text place, through the services."""
    settings.MEDIA_ROOT = tmp_path / "media"
    A, B = master["A"], master["B"]
    # Names an admin keeps in the Django admin (there is no service for them).
    Institution.objects.filter(pk=A.pk).update(short_name=HYPERLINK, name=f"{DDE} 中国工商银行湖北省分行")
    Institution.objects.filter(pk=B.pk).update(short_name=AT)
    User.objects.filter(pk=users["officer_branch"].pk).update(display_name=f"{AT} 经办")
    for obj in (A, B, *users.values()):
        obj.refresh_from_db()

    world = build_world(master, users)  # 2021–2022 sheets, plans, targets, refreshed indicators
    filer, signer, officer = users["filer_a"], users["signer_a"], users["officer_in"]
    admin = users["pboc_admin"]

    # 附件4 of 2022-04: warnings explained with payloads, submitted, returned with a reason and field
    # comments, then saved again with payloads typed into number fields.
    april = world["periods"][(2022, 4)]
    sheet = dict(
        A_2022_03,
        loan_balance="112",
        new_loans="36",
        new_credit_loans="11",
        borrowers="10600",
        new_borrowers="1300",
        first_loan_borrowers="260",
        first_loan_amount="3.3",
        weighted_rate="15",
    )

    def save(raw, explanations=None):
        return reporting_services.save_version(
            institution=A,
            period=april,
            actor=filer,
            raw=raw,
            source=VersionSource.WEB,
            explanations=explanations,
        )

    first = save(sheet)
    warnings = [f["key"] for f in first.findings if f["severity"] == "warning"]
    assert warnings and first.error_count == 0, first.findings
    explanations = {key: PAYLOADS[i % len(PAYLOADS)] for i, key in enumerate(warnings)}
    explained = save(sheet, explanations)
    reporting_services.submit(filing=explained.filing, actor=signer, confirm=True)
    reporting_services.return_filing(
        filing=explained.filing,
        actor=officer,
        reason=DDE,
        field_comments={"loan_balance": MINUS, "weighted_rate": TAB, "new_loans": HYPERLINK},
    )
    current = save({**sheet, "new_loans": HYPERLINK, "fee_relief": AT}, explanations)
    assert {f["rule"] for f in current.findings} >= {"E102"}
    with pytest.raises(ServiceError):
        reporting_services.save_workbook(
            institution=A, period=april, actor=filer, data=b"not a workbook", filename=f"{AT}.xlsx"
        )

    # 附件2 contacts: filed, submitted and approved, which makes them the institution's contacts.
    reporting_services.ensure_campaign_periods(2022, due_on=date(2022, 4, 29))
    contacts_period = Period.objects.get(form=Form.CONTACTS, year=2022)
    people = {
        "leader": {"department": AT, "name": "张三", "title": TAB},
        "head": {"department": "普惠金融部", "name": HYPERLINK, "title": CR},
        "liaison": {"department": DDE, "name": MINUS, "title": "经理", "office_phone": PHONE, "email": EMAIL},
    }
    raw = {}
    for role, given in people.items():
        defaults = {"office_phone": "027-87654321", "mobile": "13912345678", "email": "name@bank.com.cn"}
        raw.update({f"{role}.{column}": value for column, value in {**defaults, **given}.items()})
    contacts = reporting_services.save_version(
        institution=A, period=contacts_period, actor=filer, raw=raw, source=VersionSource.WEB
    )
    assert contacts.findings == [], contacts.findings
    reporting_services.submit(filing=contacts.filing, actor=signer, confirm=True)
    reporting_services.approve(filing=contacts.filing, actor=officer)
    assert A.contacts.get(role="liaison").name == MINUS

    # Indicators: supervision actions and targets (labels kept as typed by the service).
    action = indicator_services.record_supervision(
        actor=users["officer_branch"], institution=A, kind="notice", taken_on=date(2022, 4, 20), reason=DDE
    )
    indicator_services.update_follow_up(actor=officer, action=action, follow_up=MINUS)
    indicator_services.record_supervision(
        actor=users["officer_branch"], institution=B, kind="interview", taken_on=date(2022, 4, 21), reason=TAB
    )
    for scope, indicator, label in (
        ("province", "credit_share", f"{CR} 全省信用贷款占比不低于99%"),
        ("institution", "new_credit_share", f"{TAB} 新发放信用贷款占比不低于99%"),
    ):
        target = Target(
            year=2022,
            scope=scope,
            indicator=indicator,
            comparator="gte",
            basis="fixed",
            value=Decimal("0.99"),
            applies_to="all",
            label=label,
        )
        indicator_services.save_target(actor=admin, target=target)

    # The 四张清单 evaluation: an admin's title, officers' comments on every score, an override with its
    # reason, a bank's evidence with its file name and 公示 channels.
    evaluation = evaluation_services.create_evaluation(
        actor=admin, year=2023, jurisdiction=master["branch"], title=f"{MINUS} 四张清单评估"
    )
    put_indicators(evaluation)
    evaluation_services.fetch_inputs(actor=admin, evaluation=evaluation)
    n = 0
    for member in Member.objects.filter(evaluation=evaluation).select_related("institution"):
        for item in evaluation.items.filter(kind=ItemKind.QUALITATIVE):
            evaluation_services.score(
                actor=users["officer_branch"],
                evaluation=evaluation,
                institution=member.institution,
                item=item,
                value=item.weight - 1,
                comment=PAYLOADS[n % len(PAYLOADS)],
            )
            n += 1
    before = evaluation_selectors.results(evaluation).row_for(A.pk)
    evaluation_services.override_grade(
        actor=users["officer_branch"],
        evaluation=evaluation,
        institution=A,
        grade="encouraged" if before.grade != "encouraged" else "good",
        reason=DDE,
    )
    evaluation_services.add_evidence(
        actor=filer,
        evaluation=evaluation,
        institution=A,
        kind="authorization",
        data=demo_pdf("list"),
        filename=f"{MINUS}.pdf",
        note=HYPERLINK,
    )
    evaluation_services.save_disclosure(
        actor=filer, evaluation=evaluation, institution=A, outlets=10, outlets_disclosed=8, channels=AT
    )
    job = ReportJob.objects.create(
        evaluation=evaluation, status=ReportJob.Status.DONE, total=1, processed=1, created_by=admin
    )
    job.file.save("cards.zip", ContentFile(_zip({"card.pdf": demo_pdf("card")})))

    return {
        **world,
        "A": A,
        "april": april,
        "plan": plan_period(2022),
        "filing": current.filing,
        "evaluation": evaluation,
        "job": job,
    }


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


# --- scanning a workbook -----------------------------------------------------------------------------------


def _cells(data: bytes):
    """(sheet, coordinate, value, data type) of every cell of every sheet, formulas kept as written."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    yield ws.title, cell.coordinate, cell.value, cell.data_type


def _own_formula(value) -> bool:
    """One of the 附件3 template's formulas: only its functions, no payload, no DDE or other-sheet reference."""
    return (
        isinstance(value, str)
        and value.startswith("=")
        and set(re.findall(r"([A-Z][A-Z0-9.]*)\(", value)) <= OWN_FUNCTIONS
        and not re.search(r"[|!@a-z\t\r\n]", value)
        and not any(core in value for core in CORES)
    )


def _problems(label: str, data: bytes, *, formulas: bool) -> tuple[list[str], list[str]]:
    """(cells that are or would become a formula, every text cell) of a workbook."""
    bad, texts = [], []
    for sheet, ref, value, kind in _cells(data):
        where = f"{label} {sheet}!{ref}: {value!r}"
        if isinstance(value, str):
            texts.append(value)
        # Every payload starts with a trigger, so a cell beginning with one is caught here too.
        if kind == "f" or (isinstance(value, str) and value.startswith(TRIGGERS)):
            if not (formulas and kind == "f" and _own_formula(value)):
                bad.append(where)
    return bad, texts


def _is_workbook(response) -> bool:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if "spreadsheetml" in response.get("Content-Type", ""):
        return True
    try:
        return "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(body)).namelist()
    except zipfile.BadZipFile:
        return False


# --- the sweep ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    """One download: who asks for it, and which payloads it must show — `leads` at the start of a cell (so
    only the quote prefix keeps it from being a formula), `holds` inside one."""

    label: str
    route: str
    role: str
    kwargs: dict = field(default_factory=dict)
    query: str = ""
    leads: tuple = ()
    holds: tuple = ()
    own_formulas: bool = False  # the 附件3 template computes 全省 and the growth ratios by formulas


def test_every_excel_export_neutralises_formula_injection(world, client_for, tmp_path):
    A, evaluation = world["A"], world["evaluation"]
    sheet = {"institution_id": A.pk, "period_id": world["april"].pk}
    plan = {"institution_id": A.pk, "period_id": world["plan"].pk}
    march = "?period=2022-03"
    exports = [
        Export("附件4 template", "reporting:template", "filer_a", sheet, leads=(HYPERLINK,)),
        Export(
            "附件3 template", "reporting:template", "filer_a", plan, leads=(HYPERLINK,), own_formulas=True
        ),
        Export("findings", "reporting:findings", "filer_a", sheet, leads=(HYPERLINK,)),
        Export(
            "contacts",
            "reporting:contacts_export",
            "officer_branch",
            leads=(HYPERLINK, AT, "=1+2", "=3+4", DDE, MINUS, PHONE, EMAIL),
        ),
        Export("bulk template", "reporting:bulk_template", "officer_branch", leads=(HYPERLINK, AT)),
        Export(
            "audit log", "audit:export", "pboc_admin", leads=(HYPERLINK, AT), holds=(DDE, MINUS, f"{AT}.xlsx")
        ),
        Export(
            "province indicators",
            "indicators:export_province",
            "officer_branch",
            query=march,
            leads=("\n=3+4 全省信用贷款占比",),  # the label's CR, read back as LF
        ),
        Export(
            "institution indicators",
            "indicators:export_institutions",
            "officer_branch",
            query=march,
            leads=(HYPERLINK, AT, DDE, MINUS, "=1+2", "\t=1+2 新发放信用贷款占比"),
        ),
        Export(
            "evaluation results",
            "evaluation:results_xlsx",
            "pboc_admin",
            {"pk": evaluation.pk},
            leads=(MINUS, HYPERLINK, AT),
            holds=(DDE,),
        ),
        Export(
            "API findings", "api-filing-findings-report", "filer_a", {"pk": world["filing"].pk}, leads=(DDE,)
        ),
        Export("API 附件4 template", "api-filing-template", "filer_a", sheet, leads=(DDE, MINUS, PHONE)),
        Export(
            "API 附件3 template",
            "api-filing-template",
            "filer_a",
            plan,
            leads=(HYPERLINK, MINUS, PHONE),
            own_formulas=True,
        ),
    ]
    assert {e.route for e in exports} == SWEPT

    bad, missing = [], []

    def sweep(export: Export, data: bytes) -> None:
        found, texts = _problems(export.label, data, formulas=export.own_formulas)
        bad.extend(found)
        missing.extend(
            f"{export.label}: no cell starts with the quoted {p!r}"
            for p in export.leads
            if not _leads(texts, p)
        )
        missing.extend(f"{export.label}: no cell holds {p!r}" for p in export.holds if not _holds(texts, p))

    for export in exports:
        response = client_for(export.role).get(reverse(export.route, kwargs=export.kwargs) + export.query)
        assert response.status_code == 200 and response["Content-Type"] == XLSX, (export.label, response)
        sweep(export, response.content)

    out = tmp_path / "evaluation.xlsx"
    call_command("export_evaluation", evaluation=evaluation.pk, format="xlsx", out=str(out))
    command = Export("export_evaluation --format xlsx", "", "", leads=(MINUS, HYPERLINK, AT), holds=(DDE,))
    sweep(command, out.read_bytes())

    assert bad == [], "cells that are or would become formulas:\n" + "\n".join(bad)
    assert missing == [], "payloads that never reached their export:\n" + "\n".join(missing)

    not_workbooks = {
        "reporting:bulk_import": ("officer_branch", {}),
        "reporting:upload": ("filer_a", sheet),
        "api-filing-workbook": ("filer_a", sheet),
        "evaluation:job_download": ("pboc_admin", {"pk": evaluation.pk, "job_id": world["job"].pk}),
    }
    assert set(not_workbooks) == set(NOT_WORKBOOKS)
    for route, (role, kwargs) in not_workbooks.items():
        response = client_for(role).get(reverse(route, kwargs=kwargs))
        assert response.status_code in (200, 405) and not _is_workbook(response), (route, response)


def _leads(texts: list[str], payload: str) -> bool:
    """A cell shows `payload` at its start, neutralised by the quote prefix."""
    return any(t.startswith("'" + payload) for t in texts)


def _holds(texts: list[str], payload: str) -> bool:
    return any(payload in t for t in texts)
