"""Admins browse the audit log with filters and export it (Excel)."""

import io
import json

import openpyxl
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from institutions import access
from institutions.selectors import visible_in_order
from portal.exports import safe_text

from . import labels, selectors, services

EXPORT_LIMIT = 50_000


class FilterForm(forms.Form):
    action = forms.CharField(required=False, label=_("操作"))
    category = forms.ChoiceField(
        required=False,
        label=_("类别"),
        choices=[("", _("全部类别")), ("access", _("登录与账户")), ("download", _("下载机密数据"))],
    )
    actor = forms.CharField(required=False, label=_("操作人"))
    institution = forms.CharField(required=False, label=_("金融机构"))
    text = forms.CharField(required=False, label=_("摘要包含"))
    since = forms.DateField(required=False, label=_("起始日期"))
    until = forms.DateField(required=False, label=_("截止日期"))


def _filtered(request):
    access.require(access.is_pboc_admin(request.user), "审计日志仅供人民银行管理员查看。")
    form = FilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    return form, selectors.entries_for(request.user, **{k: v for k, v in filters.items() if v})


@login_required
@require_safe
def audit_log(request):
    form, entries = _filtered(request)
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    institutions = visible_in_order(request.user)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {
            "form": form,
            "page": page,
            "actions": sorted(((a, labels.action_label(a)) for a in selectors.actions()), key=lambda p: p[1]),
            "institutions": institutions,
            "querystring": params.urlencode(),
        },
    )


@login_required
@require_safe
def audit_export(request):
    form, entries = _filtered(request)
    shown = {k: str(v) for k, v in (form.cleaned_data if form.is_valid() else {}).items() if v}
    services.record_download(
        request, what="audit", name="审计日志" + (f"（筛选：{shown}）" if shown else "（全部）")
    )
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "审计日志"
    sheet.append(["时间", "操作人", "操作", "金融机构", "对象", "摘要", "变更（旧→新）", "IP 地址"])
    for e in entries[:EXPORT_LIMIT]:
        sheet.append(
            [
                timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"),
                safe_text(e.actor_label),
                e.action,
                safe_text(str(e.institution or "")),
                f"{e.object_type} {e.object_id}".strip(),
                safe_text(e.summary),
                safe_text(json.dumps(e.changes, ensure_ascii=False)[:30000]),
                e.ip or "",
            ]
        )
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEFGH", (20, 24, 22, 14, 26, 60, 60, 16), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = "attachment; filename*=UTF-8''%E5%AE%A1%E8%AE%A1%E6%97%A5%E5%BF%97.xlsx"
    return response
