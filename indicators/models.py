"""Stored indicator values, their refresh runs, the campaign's targets, the 1-year LPR and the supervision log.

The formulas live in `indicators.indicators`; `indicators.services.refresh` writes `IndicatorMonth` rows — one per
scope and month, every indicator in it (`indicators.storage`) — in bulk, in one transaction, from approved 附件4
sheets: every year, or after an approval only the rows that sheet reaches. Pages and exports read those rows,
so every screen and every workbook shows the same stored number.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.jobs import Job

PROVINCE_KEY = "420000"  # 湖北省 (GB/T 2260), the 全省 row of 附件3


class ScopeKind(models.TextChoices):
    INSTITUTION = "institution", _("机构")
    GROUP = "group", _("评估分组")
    KIND = "kind", _("机构类型")
    PROVINCE = "province", _("全省")


class IndicatorLayout(models.Model):
    """The order of the indicator codes in an `IndicatorMonth`'s values, named by the hash of that order."""

    key = models.CharField(_("键"), max_length=16, primary_key=True)
    codes = models.JSONField(_("指标代码"))

    class Meta:
        verbose_name = _("指标排列")
        verbose_name_plural = _("指标排列")

    def __str__(self) -> str:
        return f"{self.key}（{len(self.codes)} 个指标）"


class IndicatorNotes(models.Model):
    """What a row says beside its values, per code of its layout: why a value is "—" ("" when defined), the
    institutions in the figure and those it applies to. Thousands of rows say the same (every institution
    without a 2024年3月 sheet): kept once, its id the 64-bit hash of its content (indicators.storage)."""

    id = models.BigIntegerField(primary_key=True)
    reasons = models.JSONField(_("无数值原因"))
    contributors = models.JSONField(_("参与计算的机构数"))
    members = models.JSONField(_("范围内机构数"))

    class Meta:
        verbose_name = _("指标说明")
        verbose_name_plural = _("指标说明")

    def __str__(self) -> str:
        return f"#{self.id}"


class IndicatorMonth(models.Model):
    """Every indicator of one scope and month (监测指标值): the unrounded values as float64 in the order of
    the layout's codes (NaN when undefined) and, by hash, the notes beside them. `layout_key` and `notes_id`
    name content-addressed rows without a foreign key: the refresh's COPY runs no per-row checks.
    `indicators.storage` writes and reads them."""

    scope_kind = models.CharField(_("范围类型"), max_length=12, choices=ScopeKind.choices)
    scope_key = models.CharField(
        _("范围"), max_length=20, help_text=_("机构编号、评估分组（G1…）、机构类型代码或 420000（全省）")
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"))
    layout_key = models.CharField(_("指标排列"), max_length=16)
    values = models.BinaryField(_("数值（float64）"))
    notes_id = models.BigIntegerField(_("指标说明"))

    class Meta:
        verbose_name = _("指标值")
        verbose_name_plural = _("指标值")
        # One row per scope-month without a unique constraint: the refresh deletes and re-inserts the same keys
        # in one transaction, and each insert's uniqueness check then visits the deleted row — 1.1 s of a
        # national full refresh. The refresh is the only writer, one at a time (its advisory lock), and
        # deletes every key it writes first (tests/indicators/test_indicators_incremental.py checks no key is doubled).
        constraints = [
            models.CheckConstraint(condition=Q(month__range=(1, 12)), name="indicator_month_month")
        ]
        indexes = [
            models.Index(fields=["year", "month", "scope_kind", "scope_key"], name="indicator_month_idx")
        ]

    def __str__(self) -> str:
        return f"{self.scope_kind}:{self.scope_key} {self.year}-{self.month:02d}"


class RefreshRun(Job):
    """A recomputation of the stored indicators (指标刷新), tracked as a row (portal/jobs.py): queued → running
    → done, failed, or skipped (已合并: a later refresh of the same years took it in). It runs in one
    transaction and counts nothing as it goes: `total` and `processed` stay 0 (its bar jumps from 0 to 100);
    `row_count` is what it wrote."""

    class Trigger(models.TextChoices):
        APPROVAL = "approval", _("报表审核通过")
        MANUAL = "manual", _("管理员手动刷新")
        COMMAND = "command", _("命令行")
        STALE = "stale", _("发现数据变化")

    trigger = models.CharField(_("触发方式"), max_length=10, choices=Trigger.choices)
    first_year = models.PositiveSmallIntegerField(_("起始年度"), null=True, blank=True)
    last_year = models.PositiveSmallIntegerField(_("截止年度"), null=True, blank=True)
    # an incremental run: the sheets whose approval (or reopening) it takes in, [[institution_id, form,
    # year, month], …] (month 0 for a yearly form); empty for a refresh of whole years
    changes = models.JSONField(_("变动的报表"), default=list, blank=True)
    filing = models.ForeignKey(
        "reporting.Filing",
        verbose_name=_("触发的报表"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    latest_approval_at = models.DateTimeField(_("纳入的最近审核通过时间"), null=True, blank=True)
    approved_count = models.PositiveIntegerField(_("纳入的已通过报表数"), default=0)
    row_count = models.PositiveIntegerField(_("写入的指标值"), default=0)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("指标刷新记录")
        verbose_name_plural = _("指标刷新记录")

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_trigger_display()}（{self.get_status_display()}）"


class TargetScope(models.TextChoices):
    PROVINCE = "province", _("全省")
    INSTITUTION = "institution", _("各机构")


class TargetBasis(models.TextChoices):
    FIXED = "fixed", _("固定值")
    LAST_YEAR = "last_year", _("上年同期")
    YEAR_START = "year_start", _("上年末（年初）")
    PLAN = "plan", _("附件3投放计划")


class Comparator(models.TextChoices):
    GTE = "gte", _("不低于")
    GT = "gt", _("高于")


class AppliesTo(models.TextChoices):
    ALL = "all", _("全部机构")
    NATIONAL = "national", _("全国性银行在鄂分支机构")
    LOCAL = "local", _("地方法人银行")


class Target(models.Model):
    """A campaign target for a year (年度目标), e.g. 全省新增普惠小微贷款不低于 1700亿元 (004 §一).

    The target is met when `indicator` compares (≥ or >) to the reference: a fixed value, the same indicator
    a year earlier (上年同期) or at 年初, or the institution's 附件3 plan. Institution targets apply to every
    institution of `applies_to`, or to one `institution` when set.
    """

    year = models.PositiveSmallIntegerField(_("年度"))
    scope = models.CharField(_("适用范围"), max_length=12, choices=TargetScope.choices)
    indicator = models.CharField(_("指标"), max_length=40)
    comparator = models.CharField(_("比较"), max_length=3, choices=Comparator.choices, default=Comparator.GTE)
    basis = models.CharField(
        _("比较基准"), max_length=12, choices=TargetBasis.choices, default=TargetBasis.FIXED
    )
    value = models.DecimalField(
        _("目标值"),
        max_digits=20,
        decimal_places=6,
        null=True,
        blank=True,
        help_text=_("按指标的存储单位：金额为亿元，户数为户，占比/增速为小数（30% 填 0.3），BP 为基点"),
    )
    applies_to = models.CharField(
        _("适用机构"), max_length=10, choices=AppliesTo.choices, default=AppliesTo.ALL
    )
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("指定机构"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    label = models.CharField(_("目标表述"), max_length=100)
    source = models.CharField(_("依据"), max_length=60, blank=True)

    class Meta:
        ordering = ["year", "scope", "id"]
        verbose_name = _("年度目标")
        verbose_name_plural = _("年度目标")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "scope", "indicator", "basis", "applies_to", "institution"],
                name="target_unique",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=~Q(basis="fixed") | Q(value__isnull=False), name="target_fixed_has_value"
            ),
            models.CheckConstraint(
                condition=Q(scope="institution") | (Q(institution__isnull=True) & Q(applies_to="all")),
                name="target_province_not_per_institution",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.label}"


class LoanPrimeRate(models.Model):
    """一年期贷款市场报价利率（LPR）in force in a month, kept by the admins; the reference for 利率加点."""

    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"))
    rate = models.DecimalField(_("一年期LPR（%）"), max_digits=6, decimal_places=4)

    class Meta:
        ordering = ["-year", "-month"]
        verbose_name = _("一年期LPR")
        verbose_name_plural = _("一年期LPR")
        constraints = [
            models.UniqueConstraint(fields=["year", "month"], name="lpr_unique"),
            models.CheckConstraint(condition=Q(month__range=(1, 12)), name="lpr_month"),
            models.CheckConstraint(condition=Q(rate__gt=0) & Q(rate__lt=20), name="lpr_plausible"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年{self.month}月 {self.rate}%"


class SupervisionKind(models.TextChoices):
    """004 §(十九): institutions whose work is 不到位 get 约谈, 现场督导 or 通报."""

    INTERVIEW = "interview", _("约谈")
    ONSITE = "onsite", _("现场督导")
    NOTICE = "notice", _("通报")


class SupervisionAction(models.Model):
    """A supervision action an officer took on an institution (督导记录), with its reason and follow-up."""

    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("金融机构"),
        on_delete=models.PROTECT,
        related_name="supervision_actions",
    )
    kind = models.CharField(_("方式"), max_length=10, choices=SupervisionKind.choices)
    taken_on = models.DateField(_("日期"))
    reason = models.TextField(_("原因"))
    follow_up = models.TextField(_("后续跟进"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-taken_on", "-id"]
        verbose_name = _("督导记录")
        verbose_name_plural = _("督导记录")
        indexes = [models.Index(fields=["institution", "taken_on"], name="supervision_inst_date_idx")]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="supervision_has_reason")]

    def __str__(self) -> str:
        return f"{self.institution} {self.taken_on:%Y-%m-%d} {self.get_kind_display()}"


class Bulletin(models.Model):
    """The month's 专项行动监测通报（简报）of a PBoC office's jurisdiction (004 §(十九)(二十)).

    Generated from the stored indicators by a Celery job (queued → running → draft, with progress), the
    numbers frozen in `content` with their data cut-off (数据截至); the officer edits the drafted
    `paragraphs` and publishes. Each publication of a month is a new version (第 N 版) beside the earlier
    ones, never an overwrite; a published bulletin is not edited again."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        FAILED = "failed", _("生成失败")

    office = models.ForeignKey(
        "institutions.PbocOffice", verbose_name=_("辖区"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    version = models.PositiveIntegerField(_("版本"), null=True, blank=True)
    title = models.CharField(_("标题"), max_length=200, blank=True)
    content = models.JSONField(_("数据"), default=dict, blank=True)
    paragraphs = models.JSONField(_("正文段落"), default=list, blank=True)
    data_cutoff = models.DateTimeField(_("数据截至"), null=True, blank=True)
    latest_approval_at = models.DateTimeField(_("纳入的最近审核通过时间"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    error = models.TextField(_("错误"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("生成人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    class Meta:
        ordering = ["-year", "-month", "-created_at", "-id"]
        verbose_name = _("监测通报")
        verbose_name_plural = _("监测通报")
        constraints = [
            models.UniqueConstraint(
                fields=["office", "year", "month", "version"], name="bulletin_one_per_version"
            ),
            models.CheckConstraint(condition=Q(month__range=(1, 12)), name="bulletin_month"),
            models.CheckConstraint(
                condition=~Q(status="published") | (Q(version__isnull=False) & Q(published_at__isnull=False)),
                name="bulletin_published_has_version",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="bulletin_progress"),
        ]

    def __str__(self) -> str:
        version = f" 第{self.version}版" if self.version else ""
        return f"{self.year}年{self.month}月监测通报{version}（{self.get_status_display()}）"

    @property
    def is_ready(self) -> bool:
        return self.status in {self.Status.DRAFT, self.Status.PUBLISHED}

    @property
    def is_pending(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}


class BulletinNotice(models.Model):
    """A 通报 e-mailed to one institution's 附件2 contacts with its own extract of a bulletin (never another
    institution's figures). Written with the supervision record, sent once by the outbox's task."""

    bulletin = models.ForeignKey(Bulletin, on_delete=models.PROTECT, related_name="notices")
    action = models.OneToOneField(SupervisionAction, on_delete=models.PROTECT, related_name="notice")
    institution = models.ForeignKey("institutions.Institution", on_delete=models.PROTECT, related_name="+")
    recipients = models.JSONField(_("收件人"), default=list)
    subject = models.CharField(_("主题"), max_length=200)
    body = models.TextField(_("正文"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("通报邮件")
        verbose_name_plural = _("通报邮件")

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.recipients)}"
