"""The yearly 四张清单 evaluation (附件1 of 武银〔2022〕45号; 004 §(十二)).

An `Evaluation` belongs to a year and a jurisdiction (the PBoC office that runs it). It has `PeerGroup`s
(第1组…) with their `Member` institutions, and a scheme of `Item`s with weights: 定性 items an officer scores
per institution (`QualitativeScore`, optionally by `Criterion`), 定量 items computed from an indicator over
a chosen period (`ItemInput` is the snapshot of that indicator the scores are computed from). Grading is
configured on the evaluation (absolute cut-offs, cut-offs relative to the group mean, or rank quotas); an
officer may override a grade only with a reason (`GradeOverride`).

Banks upload their four lists and evidence of their 公示 (`Evidence`, `Disclosure`). Publishing freezes the
computed scores into `Result` / `ResultItem` rows, unrounded; a published evaluation never changes. A what-if
draft is a copy of a published evaluation (`based_on`); publishing it supersedes the one it was copied from.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.jobs import ResumableJob

# Unrounded scores: 12 decimals is far below anything shown (two) yet exact for the sums people check.
SCORE_DIGITS, SCORE_PLACES = 20, 12


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    SUPERSEDED = "superseded", _("已被取代")


class GradingMethod(models.TextChoices):
    ABSOLUTE = "absolute", _("按总分分数线")
    RELATIVE_MEAN = "relative_mean", _("按与组内平均分之差")
    RANK_QUOTA = "rank_quota", _("按组内排名比例")


class ResultOrder(models.TextChoices):
    LISTED = "listed", _("按附件1机构顺序")
    SCORE = "score", _("按总分从高到低")


class Grade(models.TextChoices):
    """组间评估结果, best first."""

    EXCELLENT = "excellent", _("优秀")
    GOOD = "good", _("良好")
    FAIR = "fair", _("一般")
    ENCOURAGED = "encouraged", _("勉励")


GRADE_ORDER = [Grade.EXCELLENT, Grade.GOOD, Grade.FAIR, Grade.ENCOURAGED]


class ItemKind(models.TextChoices):
    QUALITATIVE = "qualitative", _("定性")
    QUANTITATIVE = "quantitative", _("定量")


class Method(models.TextChoices):
    """How a 定量 item turns an indicator into a score within the institution's group."""

    LINEAR = "linear", _("组内线性插值")
    LINEAR_TARGET = "linear_target", _("组内线性插值（达到目标值即满分）")
    RATIO_TO_BEST = "ratio_best", _("与组内最优值之比")
    RANK = "rank", _("按组内排名")
    STEPS = "steps", _("分档计分")


class InputSource(models.TextChoices):
    INDICATOR = "indicator", _("监测指标")
    REFERENCE = "reference", _("附件1反推（得分等价值）")


class ListKind(models.TextChoices):
    """The four lists (004 §(十二)) and the evidence that they are published at every outlet."""

    AUTHORIZATION = "authorization", _("授权清单")
    CREDIT = "credit", _("授信清单")
    ACCEPTANCE = "acceptance", _("受理回告清单")
    EXEMPTION = "exemption", _("尽职免责清单")
    DISCLOSURE = "disclosure", _("公示材料")


class Evaluation(models.Model):
    """四张清单工作评估 of one year in one jurisdiction (e.g. 2021年 湖北省, run by 武汉分行)."""

    year = models.PositiveSmallIntegerField(_("年度"))
    jurisdiction = models.ForeignKey(
        "institutions.PbocOffice",
        verbose_name=_("组织评估的人民银行机构"),
        on_delete=models.PROTECT,
        related_name="evaluations",
    )
    title = models.CharField(_("名称"), max_length=100)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    based_on = models.ForeignKey(
        "self",
        verbose_name=_("模拟测算所依据的已发布评估"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="what_ifs",
    )
    total_weight = models.DecimalField(_("满分"), max_digits=6, decimal_places=2, default=100)
    grading_method = models.CharField(
        _("评级方法"), max_length=16, choices=GradingMethod.choices, default=GradingMethod.RELATIVE_MEAN
    )
    # 优秀 / 良好 / 一般 cut-offs (勉励 takes the rest). Points for ABSOLUTE, points above (negative: below)
    # the group mean for RELATIVE_MEAN, the share of the group for RANK_QUOTA (0.2 = 20%).
    excellent_threshold = models.DecimalField(_("优秀线"), max_digits=8, decimal_places=4)
    good_threshold = models.DecimalField(_("良好线"), max_digits=8, decimal_places=4)
    fair_threshold = models.DecimalField(_("一般线"), max_digits=8, decimal_places=4)
    result_order = models.CharField(
        _("结果表排序"), max_length=10, choices=ResultOrder.choices, default=ResultOrder.LISTED
    )
    note = models.TextField(_("说明"), blank=True)
    lock_version = models.PositiveIntegerField(_("修订号"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
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
        ordering = ["-year", "-id"]
        verbose_name = _("四张清单评估")
        verbose_name_plural = _("四张清单评估")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "jurisdiction"],
                condition=Q(status="published"),
                name="evaluation_one_published_per_year",
            ),
            models.UniqueConstraint(
                fields=["year", "jurisdiction"],
                condition=Q(status="draft", based_on__isnull=True),
                name="evaluation_one_original_draft_per_year",
            ),
            models.CheckConstraint(condition=Q(year__range=(2000, 2100)), name="evaluation_year"),
            models.CheckConstraint(condition=Q(total_weight__gt=0), name="evaluation_total_weight_positive"),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="evaluation_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_draft(self) -> bool:
        return self.status == Status.DRAFT

    @property
    def is_what_if(self) -> bool:
        return self.based_on_id is not None

    @property
    def thresholds(self) -> tuple:
        return (self.excellent_threshold, self.good_threshold, self.fair_threshold)


class PeerGroup(models.Model):
    """评估分组 (第1组 …): institutions are scored and graded against the others of their group."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="groups")
    code = models.CharField(_("代码"), max_length=10)
    name = models.CharField(_("名称"), max_length=30)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["evaluation", "order", "code"]
        verbose_name = _("评估分组")
        verbose_name_plural = _("评估分组")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "code"], name="peer_group_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    """An institution evaluated in a group; an institution is in at most one group of an evaluation."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="members")
    group = models.ForeignKey(
        PeerGroup, verbose_name=_("分组"), on_delete=models.CASCADE, related_name="members"
    )
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("金融机构"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["group__order", "institution__order"]
        verbose_name = _("参评机构")
        verbose_name_plural = _("参评机构")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "institution"], name="member_once_per_evaluation"),
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.institution}"


class Item(models.Model):
    """评估项目 with its weight (分值). A 定量 item reads `indicator_code` at `indicator_year`-`indicator_month`
    and scores it by `method`; `floor_share` × weight is the lowest score (60% in 2021)."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="items")
    code = models.SlugField(_("代码"), max_length=30)
    name = models.CharField(_("名称"), max_length=40)
    kind = models.CharField(_("类别"), max_length=12, choices=ItemKind.choices)
    weight = models.DecimalField(_("分值"), max_digits=6, decimal_places=2)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    method = models.CharField(_("计分方法"), max_length=16, choices=Method.choices, blank=True)
    floor_share = models.DecimalField(
        _("保底得分比例"),
        max_digits=5,
        decimal_places=4,
        default=0,
        help_text=_("组内最低者得分占分值的比例，如 0.6 即 60%"),
    )
    target = models.DecimalField(
        _("目标值"),
        max_digits=20,
        decimal_places=6,
        null=True,
        blank=True,
        help_text=_("按指标的存储单位：增速、占比填小数（30% 填 0.3）"),
    )
    steps = models.JSONField(
        _("分档"),
        default=list,
        blank=True,
        help_text=_('[{"min": "0.3", "share": "1"}, …]：指标不低于 min 得分值 × share，低于各档得保底分'),
    )
    indicator_code = models.CharField(_("指标"), max_length=40, blank=True)
    indicator_year = models.PositiveSmallIntegerField(_("取数年度"), null=True, blank=True)
    indicator_month = models.PositiveSmallIntegerField(_("取数月份"), null=True, blank=True)

    class Meta:
        ordering = ["evaluation", "order", "id"]
        verbose_name = _("评估项目")
        verbose_name_plural = _("评估项目")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "code"], name="item_unique_code"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="item_weight_positive"),
            models.CheckConstraint(
                condition=Q(floor_share__gte=0, floor_share__lte=1), name="item_floor_share"
            ),
            models.CheckConstraint(
                condition=(Q(kind="qualitative") & Q(method=""))
                | (Q(kind="quantitative") & ~Q(method="") & ~Q(indicator_code="")),
                name="item_method_matches_kind",
            ),
            models.CheckConstraint(
                condition=~Q(method="linear_target") | Q(target__isnull=False), name="item_target_needed"
            ),
            models.CheckConstraint(
                condition=Q(indicator_month__isnull=True) | Q(indicator_month__range=(1, 12)),
                name="item_indicator_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.weight.normalize():f}）"

    @property
    def is_quantitative(self) -> bool:
        return self.kind == ItemKind.QUANTITATIVE


class Criterion(models.Model):
    """A sub-criterion of a 定性 item (e.g. 公示渠道, 审批权限下放); their maxima add up to the item's weight."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="criteria")
    code = models.SlugField(_("代码"), max_length=30)
    name = models.CharField(_("名称"), max_length=40)
    max_points = models.DecimalField(_("分值"), max_digits=6, decimal_places=2)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["item", "order", "id"]
        verbose_name = _("评分要点")
        verbose_name_plural = _("评分要点")
        constraints = [
            models.UniqueConstraint(fields=["item", "code"], name="criterion_unique_code"),
            models.CheckConstraint(condition=Q(max_points__gt=0), name="criterion_points_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.max_points.normalize():f}）"


class QualitativeScore(models.Model):
    """An officer's score of one 定性 item for one institution, with the comment that explains it."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="scores")
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("金融机构"), on_delete=models.PROTECT, related_name="+"
    )
    value = models.DecimalField(_("得分"), max_digits=6, decimal_places=2)
    criteria = models.JSONField(_("分项得分"), default=dict, blank=True)
    comment = models.TextField(_("评分意见"), blank=True)
    lock_version = models.PositiveIntegerField(_("修订号"), default=0)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评分人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    scored_at = models.DateTimeField(_("评分时间"), auto_now=True)

    class Meta:
        ordering = ["item__order", "institution__order"]
        verbose_name = _("定性评分")
        verbose_name_plural = _("定性评分")
        constraints = [
            models.UniqueConstraint(fields=["item", "institution"], name="score_once_per_item"),
            models.CheckConstraint(condition=Q(value__gte=0), name="score_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.institution} {self.item.name} {self.value}"


class ItemInput(models.Model):
    """The indicator value a 定量 item is scored from, as read when the officer fetched it (取数) — a snapshot,
    so a later refresh of the indicators never changes an evaluation behind its officers' backs."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="inputs")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="inputs")
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("金融机构"), on_delete=models.PROTECT, related_name="+"
    )
    value = models.DecimalField(_("指标值"), max_digits=24, decimal_places=12, null=True, blank=True)
    reason = models.CharField(_("无数值原因"), max_length=300, blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=InputSource.choices)
    fetched_at = models.DateTimeField(_("取数时间"), auto_now=True)

    class Meta:
        ordering = ["item__order", "institution__order"]
        verbose_name = _("定量指标取数")
        verbose_name_plural = _("定量指标取数")
        constraints = [
            models.UniqueConstraint(fields=["item", "institution"], name="input_once_per_item"),
            models.CheckConstraint(
                condition=Q(value__isnull=False) | ~Q(reason=""), name="input_null_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution} {self.item.name} {self.value}"


class GradeOverride(models.Model):
    """An officer's decision to give an institution another grade than the rule's, with the reason."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="overrides")
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("金融机构"), on_delete=models.PROTECT, related_name="+"
    )
    grade = models.CharField(_("调整后的评估结果"), max_length=12, choices=Grade.choices)
    reason = models.TextField(_("调整理由"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("调整人"), on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("调整时间"), auto_now=True)

    class Meta:
        verbose_name = _("评估结果调整")
        verbose_name_plural = _("评估结果调整")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "institution"], name="override_once"),
            models.CheckConstraint(condition=~Q(reason=""), name="override_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.institution} → {self.get_grade_display()}"


class Result(models.Model):
    """An institution's published result: the unrounded total, its rank in the group and its grade."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="results")
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("金融机构"), on_delete=models.PROTECT, related_name="+"
    )
    group = models.ForeignKey(PeerGroup, verbose_name=_("分组"), on_delete=models.CASCADE, related_name="+")
    total = models.DecimalField(_("总分"), max_digits=SCORE_DIGITS, decimal_places=SCORE_PLACES)
    rank = models.PositiveSmallIntegerField(_("组内排名"))
    computed_grade = models.CharField(_("按规则的评估结果"), max_length=12, choices=Grade.choices)
    grade = models.CharField(_("评估结果"), max_length=12, choices=Grade.choices)
    override_reason = models.TextField(_("调整理由"), blank=True)

    class Meta:
        ordering = ["group__order", "institution__order"]
        verbose_name = _("评估结果")
        verbose_name_plural = _("评估结果")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "institution"], name="result_once"),
            models.CheckConstraint(
                condition=Q(grade=models.F("computed_grade")) | ~Q(override_reason=""),
                name="result_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution} {self.total} {self.get_grade_display()}"


class ResultItem(models.Model):
    """One item's unrounded score in a published result, with the indicator value it came from."""

    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    score = models.DecimalField(_("得分"), max_digits=SCORE_DIGITS, decimal_places=SCORE_PLACES)
    input_value = models.DecimalField(_("指标值"), max_digits=24, decimal_places=12, null=True, blank=True)

    class Meta:
        verbose_name = _("项目得分")
        verbose_name_plural = _("项目得分")
        constraints = [models.UniqueConstraint(fields=["result", "item"], name="result_item_once")]

    def __str__(self) -> str:
        return f"{self.result.institution} {self.item.name} {self.score}"


class Evidence(models.Model):
    """A bank's list or 公示 evidence: a checked PDF/DOCX, or a link to where the list is published."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="evidence")
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("金融机构"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类别"), max_length=16, choices=ListKind.choices)
    file = models.FileField(_("文件"), upload_to="evaluation/evidence/%Y/", blank=True)
    file_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    file_type = models.CharField(_("文件类型"), max_length=4, blank=True)
    file_sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    link = models.URLField(_("公示链接"), max_length=500, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["institution__order", "kind", "-uploaded_at"]
        verbose_name = _("清单与公示材料")
        verbose_name_plural = _("清单与公示材料")
        constraints = [
            models.CheckConstraint(condition=~Q(file="") | ~Q(link=""), name="evidence_file_or_link"),
        ]

    def __str__(self) -> str:
        return f"{self.institution} {self.get_kind_display()} {self.file_name or self.link}"


class Disclosure(models.Model):
    """公示覆盖情况: how many of the bank's lending outlets display the four lists, and through which channels."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="disclosures")
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("金融机构"), on_delete=models.PROTECT, related_name="+"
    )
    outlets = models.PositiveIntegerField(_("普惠小微贷款经营网点数"))
    outlets_disclosed = models.PositiveIntegerField(_("已公示四张清单的网点数"))
    channels = models.CharField(_("公示渠道"), max_length=200, blank=True)
    lock_version = models.PositiveIntegerField(_("修订号"), default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填报人"), on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("公示覆盖情况")
        verbose_name_plural = _("公示覆盖情况")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "institution"], name="disclosure_once"),
            models.CheckConstraint(
                condition=Q(outlets_disclosed__lte=models.F("outlets")), name="disclosure_within_outlets"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution} {self.outlets_disclosed}/{self.outlets}"

    @property
    def coverage(self):
        """已公示网点 ÷ 网点; None ("—") when the bank reports no outlets."""
        return Decimal(self.outlets_disclosed) / Decimal(self.outlets) if self.outlets else None


class ReportJob(ResumableJob):
    """Generating every report card of an evaluation as one ZIP, tracked as a row (portal/jobs.py); the page
    polls it. `total` is the number of cards, `processed` those built so far."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="jobs")
    file = models.FileField(_("压缩包"), upload_to="evaluation/cards/%Y/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("评估报告生成任务")
        verbose_name_plural = _("评估报告生成任务")
        constraints = [
            models.CheckConstraint(condition=Q(processed__lte=models.F("total")), name="report_job_progress"),
        ]

    def __str__(self) -> str:
        return f"{self.evaluation} #{self.pk}（{self.get_status_display()}）"
