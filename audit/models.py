"""The audit log: who did what, when, to which object, with old → new values. Append-only."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.PROTECT
    )
    actor_label = models.CharField(_("操作人（记录时）"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=60, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=40, blank=True)
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("金融机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    summary = models.CharField(_("摘要"), max_length=300)
    changes = models.JSONField(_("变更（旧→新）"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.summary}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("审计记录只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计记录只能追加，不能删除。")


class AuditSeal(models.Model):
    """A link of the hash chain over the audit log (audit.seal): the entries with ids in (previous seal's
    last_id, last_id], which ids were there, and SHA-256 over the previous link's digest and each entry.
    `manage.py verify_audit` recomputes the chain: an entry deleted, changed or slipped in after sealing —
    by anyone, the tables' owner with the triggers disabled included — no longer matches its link."""

    first_id = models.BigIntegerField(_("起始编号"))
    last_id = models.BigIntegerField(_("截止编号"), unique=True)
    ids = models.JSONField(_("所含编号（区间）"), default=list)
    rows = models.PositiveIntegerField(_("条数"))
    previous = models.CharField(_("上一环摘要"), max_length=64, unique=True)
    digest = models.CharField(_("摘要"), max_length=64, unique=True)
    sealed_at = models.DateTimeField(_("封存时间"), auto_now_add=True)

    class Meta:
        ordering = ["last_id"]
        verbose_name = _("审计日志封存")
        verbose_name_plural = _("审计日志封存")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"#{self.first_id}–#{self.last_id} {self.digest[:12]}…"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("审计封存只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计封存只能追加，不能删除。")
