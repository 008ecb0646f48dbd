"""What the audit browser shows people: an action's name instead of its code (`filing.return` → 退回报表) and
a change as old → new in words (`['submitted', 'returned']` → 已提交 → 已退回). The log keeps the codes."""

from django.apps import apps
from django.utils.translation import gettext_lazy as _

from evaluation.grading import GRADE_LABELS
from evaluation.models import Status
from reporting.definitions import EDITIONS
from reporting.models import FilingStatus

ACTIONS = {
    "login": _("登录"),
    "logout": _("退出登录"),
    "login.failed": _("登录失败"),
    "login.locked": _("账户锁定"),
    "login.address_throttled": _("登录受限（来源地址）"),
    "2fa.enable": _("开启两步验证"),
    "2fa.disable": _("关闭两步验证"),
    "password.change": _("修改密码"),
    "password.reset": _("重置密码"),
    "password.reset_link": _("发送重置密码链接"),
    "api_token.create": _("生成 API 令牌"),
    "api_token.rotate": _("更换 API 令牌"),
    "api_token.revoke": _("撤销 API 令牌"),
    "filing.save": _("保存报表"),
    "filing.upload": _("上传报表"),
    "filing.upload_rejected": _("上传被拒"),
    "filing.document": _("上传文件"),
    "filing.submit": _("提交报表"),
    "filing.approve": _("审核通过"),
    "filing.return": _("退回报表"),
    "filing.reopen": _("重新打开报表"),
    "filing.import_approve": _("批量导入并通过"),
    "filing.import_replace": _("批量导入替换"),
    "import.start": _("开始批量导入"),
    "import.preview": _("批量导入预览"),
    "import.confirm": _("确认批量导入"),
    "import.rejected": _("批量导入被拒"),
    "period.add": _("新增报送期"),
    "period.window": _("调整报送期"),
    "period.urge": _("催报"),
    "contacts.sync": _("同步联系人"),
    "contact.create": _("新增联系人"),
    "user.update": _("修改用户"),
    "institution.update": _("修改金融机构"),
    "region.delete": _("删除区域"),
    "indicators.refresh": _("刷新监测指标"),
    "indicators.target.save": _("保存目标"),
    "indicators.target.delete": _("删除目标"),
    "indicators.lpr.save": _("保存LPR"),
    "supervision.record": _("记录督导"),
    "supervision.follow_up": _("更新整改跟进"),
    "bulletin.generate": _("生成监测通报"),
    "bulletin.edit": _("修改监测通报"),
    "bulletin.publish": _("发布监测通报"),
    "bulletin.notice": _("发送通报邮件"),
    "evaluation.create": _("新建评估"),
    "evaluation.scheme": _("修改评估方案"),
    "evaluation.member": _("调整评估分组"),
    "evaluation.fetch": _("读取定量指标"),
    "evaluation.score": _("评分"),
    "evaluation.override": _("调整评级"),
    "evaluation.override_cleared": _("取消评级调整"),
    "evaluation.evidence": _("上传清单材料"),
    "evaluation.evidence_removed": _("删除清单材料"),
    "evaluation.disclosure": _("填报公示情况"),
    "evaluation.publish": _("发布评估结果"),
    "evaluation.what_if": _("模拟测算"),
    "evaluation.what_if_discarded": _("放弃模拟测算"),
    "evaluation.reference": _("载入附件1"),
    "evaluation.cards": _("生成评估报告"),
    "download.audit": _("下载审计日志"),
    "download.contacts": _("下载联系人"),
    "download.findings": _("下载校验结果"),
    "download.indicators": _("下载监测指标"),
    "download.report_cards": _("下载评估报告"),
}
# master data edited in the Django admin (audit/adminlog.py): "<model>.<verb>"
VERBS = {"create": _("新增"), "update": _("修改"), "delete": _("删除")}

KEYS = {
    "status": _("状态"),
    "reason": _("原因"),
    "comments": _("逐项意见"),
    "filename": _("文件名"),
    "message": _("说明"),
    "group": _("分组"),
    "grade": _("评级"),
    "kind": _("类型"),
    "file": _("文件"),
    "link": _("链接"),
    "rate": _("利率"),
    "follow_up": _("整改跟进"),
    "due_on": _("截止日"),
    "closes_on": _("关闭日"),
    "taken_on": _("日期"),
    "recipients": _("收件人"),
    "subject": _("主题"),
    "institutions": _("金融机构"),
    "replace": _("替换"),
    "approve": _("同时通过"),
    "username": _("用户名"),
}


def _states() -> dict:
    return {**dict(FilingStatus.choices), **dict(Status.choices), **GRADE_LABELS}


def _fields() -> dict:
    """Field codes of the returns (loan_balance → 普惠小微贷款余额…), from the forms' definitions."""

    out = {}
    for definition in EDITIONS.values():
        for field in getattr(definition, "fields", ()):
            out.setdefault(field.code, field.label.replace("X月末", ""))
    return out


def action_label(code: str) -> str:
    if code in ACTIONS:
        return str(ACTIONS[code])
    model, _dot, verb = code.rpartition(".")
    if verb in VERBS and model:
        for candidate in apps.get_models():
            if candidate._meta.model_name == model:
                return f"{VERBS[verb]}{candidate._meta.verbose_name}"
    return code


def _value(value, states: dict) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(value, str):
        return str(states.get(value, value))
    if isinstance(value, list):
        return "、".join(_value(v, states) for v in value) or "—"
    if isinstance(value, dict):
        return "；".join(f"{k}：{_value(v, states)}" for k, v in value.items()) or "—"
    return str(value)


def changes_display(changes) -> list[tuple[str, str]]:
    """[(what, old → new or the value)] for the audit browser; secrets were never logged."""
    if not isinstance(changes, dict):
        return []
    states, fields = _states(), None
    out = []
    for key, value in changes.items():
        if key in KEYS:
            label = str(KEYS[key])
        else:
            fields = fields if fields is not None else _fields()
            label = fields.get(key) or fields.get(key.rsplit(".", 1)[-1], key)
        if isinstance(value, list) and len(value) == 2 and not any(isinstance(v, list | dict) for v in value):
            text = f"{_value(value[0], states)} → {_value(value[1], states)}"
        else:
            text = _value(value, states)
        out.append((label, text))
    return out
