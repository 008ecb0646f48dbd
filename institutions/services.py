"""Writes to master data. Loading is idempotent: re-running updates rows in place by their codes."""

import csv
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from audit import services as audit
from outbox import services as outbox

from . import access, tasks, totp
from .models import ApiToken, Contact, ContactRole, Institution, PbocOffice, Region, User

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
CAMPAIGN_START = date(2021, 1, 1)


def _rows(name: str) -> list[dict[str, str]]:
    with open(FIXTURES / name, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@transaction.atomic
def load_master_data() -> dict[str, int]:
    """Regions (附件3), PBoC offices and the 24 institutions of 附件1, from fixtures/."""
    regions = {}
    for row in _rows("regions.csv"):
        order = int(row["序号"])
        region, _ = Region.objects.update_or_create(
            code=row["行政区划代码"],
            defaults={
                "name": row["区域"],
                "branch_label": row["分行名称"],
                "order": order,
                "is_province": order == 0,
            },
        )
        regions[region.code] = region

    offices: dict[str, PbocOffice] = {}
    for row in _rows("offices.csv"):
        office, _ = PbocOffice.objects.update_or_create(
            code=row["代码"],
            defaults={
                "name": row["名称"],
                "kind": row["类别"],
                "parent": offices.get(row["上级"]) if row["上级"] else None,
                "region": regions.get(row["区域代码"]),
            },
        )
        offices[office.code] = office

    for order, row in enumerate(_rows("institutions.csv"), start=1):
        Institution.objects.update_or_create(
            code=row["代码"],
            defaults={
                "short_name": row["简称"],
                "name": row["全称"],
                "kind": row["类型"],
                "is_local_legal_person": row["地方法人"] == "1",
                "evaluation_group": row["分组"],
                "supervising_office": offices[row["监管机构"]],
                "order": order,
                "active_from": CAMPAIGN_START,
            },
        )
    return {
        "regions": Region.objects.count(),
        "offices": PbocOffice.objects.count(),
        "institutions": Institution.objects.count(),
    }


def _retire_tokens(records, *, by, at) -> None:
    """Mark live token records revoked, then delete their credentials (the record protects its Token)."""

    keys = [r.token_id for r in records]
    ApiToken.objects.filter(pk__in=[r.pk for r in records]).update(token=None, revoked_at=at, revoked_by=by)
    Token.objects.filter(key__in=keys).delete()


@transaction.atomic
def rotate_api_token(*, user) -> str:
    """Issue a new API token for the user's own systems; the old one stops working at once."""

    replaced = list(ApiToken.objects.select_for_update().filter(user=user, token__isnull=False))
    _retire_tokens(replaced, by=user, at=timezone.now())
    Token.objects.filter(user=user).delete()  # a token without a record (none is made so) goes as well
    token = Token.objects.create(user=user)
    record = ApiToken.objects.get(token=token)  # created with the token (signals.py)
    summary = "生成接口令牌"
    if replaced:
        summary = "更换接口令牌（原令牌 " + "、".join(f"{r.key_prefix}…" for r in replaced) + " 已失效）"
    audit.record(
        actor=user,
        action="api_token.rotate" if replaced else "api_token.create",
        obj=record,
        institution=user.institution,
        summary=f"{summary}，新令牌 {record.key_prefix}…",
    )
    return token.key


def sync_contacts(*, institution, values: dict, actor=None) -> int:
    """An approved 附件2 return becomes the institution's contacts (who reminders and notices go to).
    `values` are keyed "<role>.<column>" as the return stores them. Audited old → new."""

    before = {
        f"{c.role}.{name}": getattr(c, name)
        for c in Contact.objects.filter(institution=institution)
        for name in ("department", "name", "title", "office_phone", "mobile", "email")
    }
    changed = 0
    for role in ContactRole.values:
        fields = {
            "department": values.get(f"{role}.department") or "",
            "name": values.get(f"{role}.name") or "",
            "title": values.get(f"{role}.title") or "",
            "office_phone": values.get(f"{role}.office_phone") or "",
            "mobile": values.get(f"{role}.mobile") or "",
            "email": values.get(f"{role}.email") or "",
        }
        if fields["name"]:
            Contact.objects.update_or_create(institution=institution, role=role, defaults=fields)
            changed += 1
    after = {k: v or "" for k, v in values.items() if k.split(".", 1)[0] in ContactRole.values}
    audit.record(
        actor=actor,
        action="contacts.sync",
        institution=institution,
        summary=f"{institution} 联系人按已审核的附件2更新",
        changes=audit.diff(before, after),
    )
    return changed


class TwoFactorError(Exception):
    """A refused second-factor change; `message` says what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def use_totp_code(*, user, code: str, secret: str | None = None) -> bool:
    """Accept `code` for the user once: it must match (this step or one either side) and belong to a later
    time step than the last code accepted. The step is remembered with a conditional UPDATE, so that of two
    requests racing with the same code only one wins. Call inside the caller's transaction when there is one."""

    step = totp.matching_step(user.totp_secret if secret is None else secret, code)
    if step is None:
        return False
    used = User.objects.filter(pk=user.pk, totp_last_step__lt=step).update(totp_last_step=step)
    if used:
        user.totp_last_step = step
    return bool(used)


@transaction.atomic
def enable_totp(*, user, secret: str, code: str) -> None:
    """Turn on the second factor once the user proves their app shows the right code."""

    if not user.is_pboc:
        raise TwoFactorError("两步验证目前面向人民银行经办和管理员。")
    if not use_totp_code(user=user, code=code, secret=secret):
        raise TwoFactorError("验证码不正确：请输入验证器应用当前显示的 6 位数字，并确认手机时间准确。")
    user.totp_secret = secret
    user.save(update_fields=["totp_secret"])
    audit.record(actor=user, action="2fa.enable", obj=user, summary="启用两步验证")


@transaction.atomic
def disable_totp(*, user, code: str) -> None:
    if not use_totp_code(user=user, code=code):
        raise TwoFactorError("验证码不正确（或已使用过），两步验证仍保持开启。")
    user.totp_secret = ""
    user.save(update_fields=["totp_secret"])
    audit.record(actor=user, action="2fa.disable", obj=user, summary="关闭两步验证")


def record_login_failure(*, username: str, ip: str | None, locked: bool = False, busy: bool = False) -> None:
    """A refused password, and the lock-outs it began (throttle.record_failure says which): audited with the
    name as typed, the account when there is one, and the address. Attempts refused while a lock lasts are
    not recorded one by one — the lock's entry stands for them."""

    name = (username or "").strip()[:60]
    account = User._default_manager.filter(username=username).first()
    minutes = max(1, settings.LOGIN_FAILURE_WINDOW_SECONDS // 60)
    audit.record(
        actor=None,
        action="login.failed",
        obj=account,
        summary=f"登录失败：用户名“{name}”" + ("密码不正确" if account else "不存在"),
        changes={"username": name},
    )
    if locked:
        audit.record(
            actor=None,
            action="login.locked",
            obj=account,
            summary=f"用户名“{name}”登录失败次数过多，暂停登录 {minutes} 分钟",
            changes={"username": name},
        )
    if busy:
        audit.record(
            actor=None,
            action="login.address_throttled",
            summary=f"地址 {ip} 登录失败次数过多：{minutes} 分钟内来自该地址的失败登录一律提示稍后再试",
        )


@transaction.atomic
def revoke_api_token(*, actor, token) -> bool:
    """Revoke an issued API token (models.ApiToken): its owner may, and an admin whose jurisdiction covers it
    (access.can_revoke_token). Systems using it are refused from their next request. False if it already was."""

    access.require(access.can_revoke_token(actor, token), "您无权撤销该接口令牌。")
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if not token.is_active:
        return False
    now = timezone.now()
    _retire_tokens([token], by=actor, at=now)
    owner = token.user
    whose = "" if owner.pk == actor.pk else f" {owner.username}（{owner}）的"
    created = timezone.localtime(token.created_at).strftime("%Y-%m-%d %H:%M")
    audit.record(
        actor=actor,
        action="api_token.revoke",
        obj=token,
        institution=token.institution,
        summary=f"撤销{whose}接口令牌 {token.key_prefix}…（生成于 {created}）",
        changes={"status": ["有效", "已撤销"], "revoked_at": [None, now.isoformat()]},
    )
    return True


class PasswordResetError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@transaction.atomic
def request_password_reset(*, actor, user, base_url: str) -> None:
    """An admin has a one-time link e-mailed to the user (tasks.send_password_reset): it sets a new password
    once and expires after settings.PASSWORD_RESET_TIMEOUT. The link itself is made by the worker and is
    stored nowhere; the request is audited."""

    access.require(access.managed_users(actor).filter(pk=user.pk).exists(), "您无权重置该用户的密码。")
    if not user.is_active:
        raise PasswordResetError("该账号已停用，不能重置密码。")
    if not user.email:
        raise PasswordResetError(f"{user.username} 没有登记电子邮箱，无法发送重置链接。")
    outbox.enqueue(tasks.send_password_reset, user.pk, base_url)
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    audit.record(
        actor=actor,
        action="password.reset_link",
        obj=user,
        institution=user.institution,
        summary=f"向 {user.username}（{user}）的邮箱发送重置密码链接（一次有效，{hours} 小时内）",
    )
