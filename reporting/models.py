"""Returns that banks file, their versions, and the review workflow.

A `Filing` is one institution's return for one `Period` (e.g. 工商银行 2022年3月 附件4). Every save — web form,
workbook upload, API call — adds an immutable `FilingVersion`; the filing points at its latest one. Each
state change is a `Transition` row plus an audit entry, written by `reporting.services`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import clock
from portal.jobs import ResumableJob


class Form(models.TextChoices):
    MONITORING = "monitoring", _("专项行动进展情况监测表（附件4）")
    PLAN = "plan", _("普惠小微贷款投放计划表（附件3）")
    CONTACTS = "contacts", _("专项行动联系人（附件2）")
    WORK_PLAN = "work_plan", _("专项行动工作方案")
    EXPERIENCE = "experience", _("经验做法")


class Period(models.Model):
    """A reporting period of one form: a month for 附件4 (due the 15th of the next month), a year for 附件3."""

    form = models.CharField(_("报表"), max_length=20, choices=Form.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"), null=True, blank=True)
    quarter = models.PositiveSmallIntegerField(_("季度"), null=True, blank=True)
    ends_on = models.DateField(_("统计截止日"))
    opens_on = models.DateField(_("开始报送日"))
    due_on = models.DateField(_("报送截止日"))
    closes_on = models.DateField(
        _("关闭日"), null=True, blank=True, help_text=_("此后不再接受报送；留空表示不关闭")
    )

    class Meta:
        ordering = ["form", "-year", "-month"]
        verbose_name = _("报送期")
        verbose_name_plural = _("报送期")
        constraints = [
            models.UniqueConstraint(
                fields=["form", "year", "month", "quarter"], name="period_unique", nulls_distinct=False
            ),
            models.CheckConstraint(
                condition=Q(quarter__isnull=True) | Q(quarter__range=(1, 4)), name="period_quarter"
            ),
            models.CheckConstraint(
                condition=Q(month__isnull=True) | Q(month__range=(1, 12)), name="period_month"
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("opens_on")), name="period_due_after_open"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.month:
            return f"{self.year}年{self.month}月"
        if self.quarter:
            return f"{self.year}年第{self.quarter}季度"
        return f"{self.year}年"

    @property
    def key(self) -> str:
        if self.month:
            return f"{self.year}-{self.month:02d}"
        return f"{self.year}-Q{self.quarter}" if self.quarter else str(self.year)

    def is_open(self, on=None) -> bool:
        today = on or clock.today()
        return self.opens_on <= today and (self.closes_on is None or today <= self.closes_on)

    def is_overdue(self, on=None) -> bool:
        return (on or clock.today()) > self.due_on


class FilingStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已通过")


class Filing(models.Model):
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("金融机构"),
        on_delete=models.PROTECT,
        related_name="filings",
    )
    period = models.ForeignKey(
        Period, verbose_name=_("报送期"), on_delete=models.PROTECT, related_name="filings"
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=FilingStatus.choices, default=FilingStatus.DRAFT
    )
    lock_version = models.PositiveIntegerField(_("修订号"), default=0)
    current_version = models.ForeignKey(
        "FilingVersion",
        verbose_name=_("当前版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    first_submitted_at = models.DateTimeField(_("首次提交时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    approved_at = models.DateTimeField(_("通过时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # the statuses that lock a return (`is_locked`), for the write path's and the import's plain copies of it
    LOCKED_STATUSES = frozenset({FilingStatus.APPROVED, FilingStatus.SUBMITTED})

    class Meta:
        ordering = ["period", "institution"]
        verbose_name = _("报表")
        verbose_name_plural = _("报表")
        constraints = [models.UniqueConstraint(fields=["institution", "period"], name="filing_unique")]
        indexes = [models.Index(fields=["period", "status"])]

    def __str__(self) -> str:
        return f"{self.institution} {self.period}"

    @property
    def is_locked(self) -> bool:
        """An approved return is locked; a submitted one waits for review."""
        return self.status in self.LOCKED_STATUSES

    @property
    def is_late(self) -> bool:
        """Late = first submitted after the deadline (Asia/Shanghai calendar day), or not yet and past it."""
        if self.first_submitted_at:
            return clock.local_date(self.first_submitted_at) > self.period.due_on
        return self.period.is_overdue()


class VersionSource(models.TextChoices):
    WEB = "web", _("网页填报")
    EXCEL = "excel", _("Excel 上传")
    API = "api", _("接口报送")
    BULK = "bulk", _("批量导入")
    DEMO = "demo", _("演示数据")


class FilingVersion(models.Model):
    """One immutable state of a return's content: values, uploaded file, findings, explanations."""

    filing = models.ForeignKey(
        Filing, verbose_name=_("报表"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("版本号"))
    edition = models.CharField(_("表式版本"), max_length=10)
    values = models.JSONField(_("数值"), default=dict)
    findings = models.JSONField(_("校验结果"), default=list)
    explanations = models.JSONField(_("预警说明"), default=dict)
    # What the reader of an uploaded workbook set aside and tells the filer (an extra column, a 合计 row).
    reading_notes = models.JSONField(_("读取说明"), default=list, blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=VersionSource.choices)
    upload = models.FileField(_("上传文件"), upload_to="uploads/%Y/%m/", blank=True)
    upload_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    upload_sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("保存时间"), default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    attestation = models.CharField(_("承诺声明"), max_length=300, blank=True)
    receipt_no = models.CharField(_("回执编号"), max_length=40, blank=True)

    class Meta:
        ordering = ["filing", "number"]
        verbose_name = _("报表版本")
        verbose_name_plural = _("报表版本")
        constraints = [
            models.UniqueConstraint(fields=["filing", "number"], name="version_unique"),
            models.UniqueConstraint(
                fields=["receipt_no"], condition=~Q(receipt_no=""), name="receipt_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filing} v{self.number}"

    @property
    def error_count(self) -> int:
        return sum(1 for f in self.findings if f.get("severity") == "error")

    @property
    def warning_count(self) -> int:
        return sum(1 for f in self.findings if f.get("severity") == "warning")


class Transition(models.Model):
    """A workflow step: 草稿 → 已提交 → 已通过 / 已退回 → …, with who, when and why."""

    filing = models.ForeignKey(
        Filing, verbose_name=_("报表"), on_delete=models.CASCADE, related_name="transitions"
    )
    version = models.ForeignKey(
        FilingVersion, verbose_name=_("版本"), on_delete=models.PROTECT, related_name="+"
    )
    from_status = models.CharField(_("原状态"), max_length=20, choices=FilingStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=FilingStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    reason = models.TextField(_("原因"), blank=True)
    field_comments = models.JSONField(_("逐项意见"), default=dict, blank=True)

    class Meta:
        ordering = ["filing", "at", "id"]
        verbose_name = _("流转记录")
        verbose_name_plural = _("流转记录")

    def __str__(self) -> str:
        return f"{self.filing} {self.get_from_status_display()} → {self.get_to_status_display()}"


class ImportJob(ResumableJob):
    """A long job (an officer's bulk workbook import) tracked as a row (portal/jobs.py); the page polls it. An
    import runs twice: first a preview (→ 待确认, nothing stored; `total` and `processed` count the rows),
    then, once the officer has confirmed it with their choices in `result["choices"]`, the import itself
    (→ 已完成)."""

    kind = models.CharField(_("类型"), max_length=20, default="bulk_monitoring")
    upload = models.FileField(_("文件"), upload_to="imports/%Y/%m/")
    upload_name = models.CharField(_("原文件名"), max_length=255)
    upload_sha256 = models.CharField(_("SHA-256"), max_length=64)
    result = models.JSONField(_("结果"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")

    def __str__(self) -> str:
        return f"{self.upload_name}（{self.get_status_display()}）"


class Reminder(models.Model):
    """One reminder, overdue notice or 催报 mail as sent: to whom, when, for which return, by whom (the
    beat's daily reminders have no sender). The officers' page of everything sent reads these."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("截止前提醒")
        OVERDUE = "overdue", _("逾期通知")
        URGE = "urge", _("催报")

    period = models.ForeignKey(Period, verbose_name=_("报送期"), on_delete=models.CASCADE, related_name="+")
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("金融机构"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发送人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    recipients = models.JSONField(_("收件人"), default=list)
    subject = models.CharField(_("主题"), max_length=200)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("催报与提醒")
        verbose_name_plural = _("催报与提醒")
        indexes = [models.Index(fields=["period", "institution"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.institution} {self.period}"
