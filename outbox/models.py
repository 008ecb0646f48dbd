"""Background work queued by a state change, stored in the same transaction as the change.

A submission, an approval or a new import job must not depend on Redis being up at that instant: the task
is written here with the change, sent to the broker once the transaction commits, and — if the broker was
unreachable — sent again by the beat's `outbox.deliver_pending` when it is back (outbox/services.py).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PendingTask(models.Model):
    name = models.CharField(_("任务"), max_length=100)
    args = models.JSONField(_("参数"), default=list, blank=True)
    kwargs = models.JSONField(_("关键字参数"), default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("发送失败次数"), default=0)
    last_error = models.CharField(_("最近一次失败"), max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("待发送任务")
        verbose_name_plural = _("待发送任务")
        indexes = [
            models.Index(fields=["id"], name="outbox_unsent", condition=models.Q(sent_at__isnull=True))
        ]

    def __str__(self) -> str:
        state = f"已发送 {self.sent_at:%Y-%m-%d %H:%M:%S}" if self.sent_at else "待发送"
        return f"#{self.pk} {self.name}（{state}）"

    @property
    def task_id(self) -> str:
        """The Celery task id: stable across re-sends, so a worker's logs tie each run to its row."""
        return f"outbox-{self.pk}"
