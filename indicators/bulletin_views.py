"""Pages of the month's 监测通报: generate (a Celery job the page follows), edit the drafted text, publish a
version, download it as PDF or Word, and act on its 不到位 list (约谈 / 现场督导 / 通报, a 通报 e-mailed).

PBoC users only (a bank is refused before anything is looked up); a bulletin outside the user's offices is
a 404. Reads through selectors, writes through services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST, require_safe

from institutions import access
from portal import jobs
from portal.errors import ServiceError
from reporting.forms import first_error

from . import bulletin as composer
from . import docx, pdf, selectors, services
from .forms import BulletinMonthForm, BulletinSupervisionForm, BulletinTextForm
from .models import Bulletin, SupervisionKind

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _require_pboc(request) -> None:
    access.require(access.is_pboc(request.user), "只有人民银行用户可以查看和生成监测通报。")


def _bulletin(request, pk) -> Bulletin:
    _require_pboc(request)
    return get_object_or_404(selectors.bulletins_for(request.user), pk=pk)


def _file(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def _filename(b: Bulletin, ext: str) -> str:
    version = f"第{b.version}版" if b.version else "草稿"
    return f"专项行动监测通报{b.year}年{b.month}月（{version}）.{ext}"


@login_required
@require_safe
def bulletins(request):
    """The bulletins of the user's offices, newest month first, and the form that generates one."""
    _require_pboc(request)
    choices = [{**c, "value": f"{c['year']}-{c['month']:02d}"} for c in selectors.month_choices()]
    default = selectors.default_month(choices)
    return render(
        request,
        "indicators/bulletins.html",
        {
            "bulletins": selectors.bulletins_for(request.user)[:200],
            "choices": choices,
            "default": f"{default[0]}-{default[1]:02d}" if default else "",
            "can_generate": bool(request.user.office_id),
        },
    )


@login_required
@require_POST
def bulletin_generate(request):
    _require_pboc(request)
    form = BulletinMonthForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("indicators:bulletins")
    year, month = form.cleaned_data["period"]
    try:
        b = services.request_bulletin(actor=request.user, year=year, month=month)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("indicators:bulletins")
    return redirect("indicators:bulletin", pk=b.pk)


def _with_current_actions(user, b: Bulletin, content: dict, visible: set[int]) -> list[dict]:
    """The 不到位 list as frozen, each row with the supervision of the year as it stands now (the page is
    where the next one is recorded)."""
    rows = [f for f in content.get("failing", []) if f.get("institution_id") in visible]
    actions: dict[int, list] = {}
    ids = [f["institution_id"] for f in rows]
    for a in selectors.supervision_in_year(user, ids, b.year):
        actions.setdefault(a.institution_id, []).append(
            {"date": f"{a.taken_on:%Y-%m-%d}", "kind": a.get_kind_display(), "reason": a.reason}
        )
    return [{**f, "actions": actions.get(f["institution_id"], [])} for f in rows]


@login_required
@require_safe
def bulletin(request, pk):
    b = _bulletin(request, pk)
    content = b.content or {}
    visible = selectors.visible_ids(request.user)
    return render(
        request,
        "indicators/bulletin.html",
        {
            "b": b,
            "progress": _progress(b),
            "content": content,
            "charts": composer.charts(content) if b.is_ready else [],
            "failing": _with_current_actions(request.user, b, content, visible),
            "versions": selectors.published_versions_of_month(request.user, b),
            "kinds": SupervisionKind.choices,
            "today": timezone.localdate(),
        },
    )


def _progress(b: Bulletin) -> jobs.Progress:
    """The bulletin's generation followed as every job is (portal/jobs.py): drafted or published reads as
    done, and its progress is a percentage."""
    status = "done" if b.is_ready else b.status
    return jobs.Progress(
        status=status,
        label=str(b.get_status_display()),
        finished=not b.is_pending,
        percent=b.progress,
        processed=b.progress,
        total=100,
        error=b.error,
    )


@login_required
@require_safe
def bulletin_status(request, pk):
    return jobs.status_json(_progress(_bulletin(request, pk)))


@login_required
@require_POST
def bulletin_save(request, pk):
    b = _bulletin(request, pk)
    form = BulletinTextForm(request.POST, paragraphs=b.paragraphs)
    form.is_valid()  # the paragraphs as typed: the service judges them
    data = form.cleaned_data
    try:
        services.save_bulletin_text(
            actor=request.user,
            bulletin=b,
            texts=data["texts"],
            title=data["title"],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if data["publish"]:
            return bulletin_publish(request, pk)
        messages.success(request, "已保存通报草稿。")
    return redirect("indicators:bulletin", pk=b.pk)


@login_required
@require_POST
def bulletin_publish(request, pk):
    b = _bulletin(request, pk)
    try:
        b = services.publish_bulletin(actor=request.user, bulletin=b)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已发布{b.year}年{b.month}月监测通报第{b.version}版。")
    return redirect("indicators:bulletin", pk=b.pk)


@login_required
@require_safe
def bulletin_pdf(request, pk):
    b = _bulletin(request, pk)
    if not b.is_ready:
        messages.error(request, "通报尚未生成完毕。")
        return redirect("indicators:bulletin", pk=b.pk)
    return _file(pdf.bulletin_pdf(b), "application/pdf", _filename(b, "pdf"))


@login_required
@require_safe
def bulletin_docx(request, pk):
    b = _bulletin(request, pk)
    if not b.is_ready:
        messages.error(request, "通报尚未生成完毕。")
        return redirect("indicators:bulletin", pk=b.pk)
    return _file(docx.bulletin_docx(b), DOCX, _filename(b, "docx"))


@login_required
@require_POST
def bulletin_supervise(request, pk):
    """One step from the 不到位 list to the supervision log (and, for a 通报, the institution's mailbox)."""
    b = _bulletin(request, pk)
    back = reverse("indicators:bulletin", args=[b.pk]) + "#failing"
    form = BulletinSupervisionForm(request.POST)
    valid = form.is_valid()
    inst = access.get_institution(request.user, form.cleaned_data.get("institution"))
    if not valid:
        messages.error(request, first_error(form))
        return redirect(back)
    data = form.cleaned_data
    try:
        services.supervise_from_bulletin(
            actor=request.user,
            bulletin=b,
            institution=inst,
            kind=data["kind"],
            taken_on=data["taken_on"],
            reason=data["reason"],
            email=data["email"],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        sent = "，通报邮件已排队发送" if data["email"] else ""
        messages.success(request, f"已记录对{inst.short_name}的督导{sent}。")
    return redirect(back)
