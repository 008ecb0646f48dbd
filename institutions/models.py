"""Master data: regions, PBoC offices, institutions, their contacts, and the portal's users."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """附件3 的行：全省 and its 17 prefecture-level regions, in the seed's order (GB/T 2260 codes)."""

    code = models.CharField(_("行政区划代码"), max_length=6, unique=True)
    name = models.CharField(_("区域"), max_length=20, unique=True)
    branch_label = models.CharField(_("分行名称"), max_length=30)
    order = models.PositiveSmallIntegerField(_("顺序"), unique=True)
    is_province = models.BooleanField(_("全省合计行"), default=False)

    class Meta:
        ordering = ["order"]
        verbose_name = _("区域")
        verbose_name_plural = _("区域")

    def __str__(self) -> str:
        return self.name


class PbocOffice(models.Model):
    """人民银行分支机构: 武汉分行 → 营业管理部 / 中心支行 / 直管市支行."""

    class Kind(models.TextChoices):
        BRANCH = "branch", _("分行")
        OPERATIONS = "operations", _("营业管理部")
        CENTRAL_SUB = "central_sub", _("中心支行")
        SUB = "sub", _("支行")

    code = models.CharField(_("代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=60, unique=True)
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区域"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("人民银行分支机构")
        verbose_name_plural = _("人民银行分支机构")

    def __str__(self) -> str:
        return self.name


class InstitutionKind(models.TextChoices):
    LARGE_STATE = "large_state", _("大型商业银行")
    JOINT_STOCK = "joint_stock", _("股份制商业银行")
    POLICY = "policy", _("政策性银行")
    CITY_COMMERCIAL = "city_commercial", _("城市商业银行")
    RURAL_COMMERCIAL = "rural_commercial", _("农村商业银行")
    RURAL_CREDIT = "rural_credit", _("农村信用社")
    PRIVATE = "private", _("民营银行")


class EvaluationGroup(models.TextChoices):
    """附件1 的分组: 5 large state banks; 14 national joint-stock and policy institutions; 5 local banks."""

    G1 = "G1", _("第1组")
    G2 = "G2", _("第2组")
    G3 = "G3", _("第3组")


class Institution(models.Model):
    """A reporting institution (金融机构), e.g. 工商银行湖北省分行."""

    code = models.CharField(_("机构代码"), max_length=20, unique=True)
    name = models.CharField(_("机构全称"), max_length=100, unique=True)
    short_name = models.CharField(_("机构简称"), max_length=30, unique=True)
    kind = models.CharField(_("机构类型"), max_length=20, choices=InstitutionKind.choices)
    is_local_legal_person = models.BooleanField(_("地方法人机构"), default=False)
    evaluation_group = models.CharField(_("评估分组"), max_length=2, choices=EvaluationGroup.choices)
    supervising_office = models.ForeignKey(
        PbocOffice, verbose_name=_("监管（调度）机构"), on_delete=models.PROTECT, related_name="institutions"
    )
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    active_from = models.DateField(_("纳入日期"))
    active_to = models.DateField(_("退出日期"), null=True, blank=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("金融机构")
        verbose_name_plural = _("金融机构")
        constraints = [
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=models.F("active_from")),
                name="institution_active_range",
            )
        ]

    def __str__(self) -> str:
        return self.short_name


class ContactRole(models.TextChoices):
    """附件2 的三行."""

    LEADER = "leader", _("分管行领导")
    HEAD = "head", _("牵头部门负责人")
    LIAISON = "liaison", _("牵头部门联系人")


class Contact(models.Model):
    """专项行动联系人 (附件2): one row per role per institution."""

    institution = models.ForeignKey(
        Institution, verbose_name=_("金融机构"), on_delete=models.CASCADE, related_name="contacts"
    )
    role = models.CharField(_("角色"), max_length=10, choices=ContactRole.choices)
    department = models.CharField(_("部门"), max_length=60)
    name = models.CharField(_("姓名"), max_length=30)
    title = models.CharField(_("职务"), max_length=30)
    office_phone = models.CharField(_("办公电话"), max_length=30, blank=True)
    mobile = models.CharField(_("手机"), max_length=20, blank=True)
    email = models.EmailField(_("金融服务平台邮箱"), blank=True)

    class Meta:
        ordering = ["institution", "role"]
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        constraints = [models.UniqueConstraint(fields=["institution", "role"], name="contact_one_per_role")]

    def __str__(self) -> str:
        return f"{self.institution} {self.get_role_display()} {self.name}"


class Role(models.TextChoices):
    BANK_FILER = "bank_filer", _("银行填报人")
    BANK_SIGNER = "bank_signer", _("银行分管领导")
    PBOC_OFFICER = "pboc_officer", _("人民银行经办")
    PBOC_ADMIN = "pboc_admin", _("人民银行管理员")
    SYSADMIN = "sysadmin", _("系统管理员")


BANK_ROLES = {Role.BANK_FILER, Role.BANK_SIGNER}
PBOC_ROLES = {Role.PBOC_OFFICER, Role.PBOC_ADMIN}


class User(AbstractUser):
    """A person: belongs to one institution (bank roles) or one PBoC office (PBoC roles)."""

    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.BANK_FILER)
    display_name = models.CharField(_("姓名"), max_length=30, blank=True)
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("金融机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    office = models.ForeignKey(
        PbocOffice,
        verbose_name=_("人民银行分支机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    totp_secret = models.CharField(_("两步验证密钥"), max_length=64, blank=True, editable=False)
    # The time step (Unix time ÷ 30 s) of the last second-factor code accepted: a code is good once.
    totp_last_step = models.PositiveBigIntegerField(_("最近使用的验证码时间步"), default=0, editable=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role__in=["bank_filer", "bank_signer"], institution__isnull=False, office__isnull=True)
                    | Q(
                        role__in=["pboc_officer", "pboc_admin"],
                        institution__isnull=True,
                        office__isnull=False,
                    )
                    | Q(role="sysadmin", institution__isnull=True)
                ),
                name="user_role_affiliation",
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_bank(self) -> bool:
        return self.role in BANK_ROLES

    @property
    def is_pboc(self) -> bool:
        return self.role in PBOC_ROLES or self.role == Role.SYSADMIN

    @property
    def is_pboc_admin(self) -> bool:
        return self.role in {Role.PBOC_ADMIN, Role.SYSADMIN}

    @property
    def affiliation(self) -> str:
        if self.institution_id:
            return str(self.institution)
        if self.office_id:
            return str(self.office)
        return ""


class ApiToken(models.Model):
    """An API token as it was issued: to whom, for which institution (or PBoC office), when, its last use and
    its revocation.

    The credential itself is DRF's authtoken Token (one live token per user). This row is created with it
    (institutions/signals.py, whatever creates the Token) and outlives it, so revoked and replaced tokens
    stay listed; `token` is empty exactly when the token was revoked (services.revoke_api_token).
    institutions/authentication.py refuses a token whose user no longer belongs where it was issued for.
    """

    token = models.OneToOneField(
        "authtoken.Token",
        verbose_name=_("令牌"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,  # a live token is revoked through the service, which records who and when
        related_name="record",
    )
    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.PROTECT, related_name="api_tokens"
    )
    institution = models.ForeignKey(
        Institution, verbose_name=_("金融机构"), null=True, blank=True, on_delete=models.PROTECT
    )
    office = models.ForeignKey(
        PbocOffice, verbose_name=_("人民银行分支机构"), null=True, blank=True, on_delete=models.PROTECT
    )
    key_prefix = models.CharField(_("令牌前缀"), max_length=8)
    created_at = models.DateTimeField(_("生成时间"), db_index=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, verbose_name=_("撤销人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        constraints = [
            models.CheckConstraint(
                condition=Q(token__isnull=True, revoked_at__isnull=False)
                | Q(token__isnull=False, revoked_at__isnull=True),
                name="api_token_live_or_revoked",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user.username} {self.key_prefix}…"

    @property
    def is_active(self) -> bool:
        return self.token_id is not None

    def issued_for(self, user: User) -> bool:
        """Whether the user still belongs where this token was issued for."""
        return self.institution_id == user.institution_id and self.office_id == user.office_id
