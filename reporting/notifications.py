"""Who is told what by e-mail. Addresses come from users' accounts and the 附件2 contacts."""

from django.conf import settings
from django.core.mail import send_mass_mail
from django.urls import reverse

from institutions.models import Contact, Institution, Role, User

from .models import Filing, FilingStatus, Reminder


def bank_addresses(institution: Institution) -> list[str]:
    users = (
        User.objects.filter(institution=institution, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    contacts = (
        Contact.objects.filter(institution=institution).exclude(email="").values_list("email", flat=True)
    )
    return sorted(set(users) | set(contacts))


def officer_addresses(institution: Institution) -> list[str]:
    """Officers whose jurisdiction covers the institution (its office and the offices above it)."""
    office_ids, office = [], institution.supervising_office
    while office is not None:
        office_ids.append(office.pk)
        office = office.parent
    return sorted(
        set(
            User.objects.filter(role=Role.PBOC_OFFICER, office_id__in=office_ids, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


def transition_messages(filing: Filing, status: str) -> list[tuple[str, str, list[str]]]:
    """(subject, body, recipients) for a workflow step."""
    version = filing.current_version
    last = filing.transitions.order_by("-at", "-id").first()
    if status == FilingStatus.SUBMITTED:
        return [
            (
                f"[专项行动门户] {filing} 已提交，请审核",
                f"{filing} 已由 {version.submitted_by} 于 {version.submitted_at:%Y-%m-%d %H:%M} 提交，回执编号 {version.receipt_no}。",
                officer_addresses(filing.institution),
            ),
            (
                f"[专项行动门户] 回执：{filing} 已提交",
                f"贵机构 {filing} 已提交，回执编号 {version.receipt_no}。人民银行审核后将另行通知。",
                bank_addresses(filing.institution),
            ),
        ]
    if status == FilingStatus.APPROVED:
        return [
            (
                f"[专项行动门户] {filing} 已审核通过",
                f"贵机构 {filing}（第 {version.number} 版）已审核通过。",
                bank_addresses(filing.institution),
            )
        ]
    if status == FilingStatus.RETURNED:
        comments = "\n".join(f"- {k}：{v}" for k, v in (last.field_comments or {}).items()) if last else ""
        reason = last.reason if last else ""
        return [
            (
                f"[专项行动门户] {filing} 被退回，请修改后重新报送",
                f"退回原因：{reason}\n{comments}\n请登录门户查看并重新报送。",
                bank_addresses(filing.institution),
            )
        ]
    return []


def send(messages: list[tuple[str, str, list[str]]]) -> int:
    batch = [(s, b, settings.DEFAULT_FROM_EMAIL, to) for s, b, to in messages if to]
    return send_mass_mail(batch, fail_silently=False) if batch else 0


SHORT_NAMES = {
    "monitoring": "监测表",
    "plan": "普惠小微贷款投放计划表",
    "contacts": "专项行动联系人表",
    "work_plan": "专项行动工作方案",
    "experience": "经验做法",
}


def sheet_link(institution, period) -> str:
    return settings.PORTAL_URL + reverse("reporting:sheet", args=[institution.pk, period.pk])


def reminders(
    period, institutions, *, kind: str, sender=None
) -> list[tuple[object, tuple[str, str, list[str]]]]:
    """(institution, (subject, body, recipients)) of a reminder before the deadline, an overdue notice or an
    officer's 催报 — each with the link to the institution's sheet; a 催报 goes in copy to its sender."""
    out = []
    what = SHORT_NAMES.get(period.form, period.get_form_display())
    for institution in institutions:
        link = f"\n填报页面：{sheet_link(institution, period)}"
        if kind == "urge":
            subject = f"[专项行动门户] 催报：{institution} {period} {what}尚未提交"
            body = (
                f"{period} {what}报送截止日为 {period.due_on:%Y-%m-%d}，贵机构尚未提交。"
                f"人民银行 {sender} 请贵机构尽快报送。{link}"
            )
            to = bank_addresses(institution) + ([sender.email] if sender is not None and sender.email else [])
        elif kind == "overdue":
            subject = f"[专项行动门户] 逾期提醒：{institution} {period} {what}尚未提交"
            body = f"{period} {what}报送截止日为 {period.due_on:%Y-%m-%d}，贵机构尚未提交，请尽快报送。{link}"
            to = bank_addresses(institution) + officer_addresses(institution)
        else:
            subject = f"[专项行动门户] 提醒：{period} {what}请于 {period.due_on:%m月%d日} 前提交"
            body = f"{period} {what}报送截止日为 {period.due_on:%Y-%m-%d}，贵机构尚未提交，请按时报送。{link}"
            to = bank_addresses(institution)
        out.append((institution, (subject, body, sorted(set(to)))))
    return out


def send_reminders(period, institutions, *, kind: str, sender=None) -> int:
    """Send and record (Reminder rows) the reminders of one period to these institutions; the number sent."""

    pairs = reminders(period, institutions, kind=kind, sender=sender)
    sent = send([message for _institution, message in pairs])
    Reminder.objects.bulk_create(
        Reminder(
            period=period,
            institution=institution,
            kind=kind,
            sent_by=sender,
            recipients=to,
            subject=subject[:200],
        )
        for institution, (subject, _body, to) in pairs
        if to
    )
    return sent


def import_replaced_messages(job) -> list[tuple[str, str, list[str]]]:
    """One mail per bank whose own sheet a confirmed bulk import replaced (the officer chose to, with a reason)."""
    replaced = (job.result or {}).get("replaced") or []
    reason = ((job.result or {}).get("choices") or {}).get("reason", "")
    filings = Filing.objects.filter(pk__in=[r["filing"] for r in replaced]).select_related(
        "institution", "period", "current_version"
    )
    was = {r["filing"]: r["was"] for r in replaced}
    out = []
    for filing in filings:
        kept = FilingStatus(was[filing.pk]).label
        out.append(
            (
                f"[专项行动门户] {filing} 已由人民银行批量导入替换",
                f"人民银行 {job.created_by} 于 {job.finished_at or job.created_at:%Y-%m-%d %H:%M} 以批量导入"
                f"（{job.upload_name}）替换了贵机构 {filing} 的{kept}，现为第 {filing.current_version.number} 版"
                f"（{filing.get_status_display()}）。\n原因：{reason}\n请登录门户查看；如有异议，请联系人民银行经办。",
                bank_addresses(filing.institution),
            )
        )
    return out
