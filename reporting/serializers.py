"""Request and response shapes of the reporting API (/api/v1/), documented in the OpenAPI schema.

Values are sent as numbers or text ("3.85%", "1,234.5", "１２３") and parsed by the service, never here;
they come back as decimal strings ("3.85", "1234.5") so no float noise reaches a bank's system.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .definitions import FormDefinition
from .models import Filing, FilingStatus, FilingVersion, Period, Transition
from .rules import ERROR, WARNING, Finding, unexplained

# --- shared pieces --------------------------------------------------------------------------


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="稳定的错误代码，如 has_errors、unexplained、conflict、U105。")
    message = serializers.CharField(help_text="中文说明：错在哪里、怎么改。")
    details = serializers.JSONField(
        allow_null=True,
        help_text="补充信息：校验不通过时为校验结果（finding）列表；请求字段有误时为 {字段: [错误]}；否则为 null。",
    )


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the whole API."""

    error = ErrorBodySerializer()


@extend_schema_field(
    {
        "oneOf": [{"type": "number"}, {"type": "string"}],
        "nullable": True,
        "description": '数字或文本（如 3.85、"3.85%"、"1,234.5"）；空白或 null 表示未填写。',
    }
)
class RawValueField(serializers.JSONField):
    """A value as the bank typed it; the service parses it and reports what it cannot read (E102)."""


@extend_schema_field(
    {
        "type": "string",
        "enum": list(FilingStatus.values),
        "description": "；".join(f"{value} {label}" for value, label in FilingStatus.choices),
    },
    component_name="FilingStatus",
)
class StatusField(serializers.ChoiceField):
    """A FilingStatus, described inline so every status field shares one documented value set."""

    def __init__(self, **kwargs):
        super().__init__(choices=FilingStatus.choices, **kwargs)


class UserRefSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()


class InstitutionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    short_name = serializers.CharField()


class PeriodRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    form = serializers.CharField()
    year = serializers.IntegerField()
    month = serializers.IntegerField(allow_null=True)
    label = serializers.CharField()
    due_on = serializers.DateField()


class PeriodSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)

    class Meta:
        model = Period
        fields = ["id", "form", "year", "month", "label", "ends_on", "opens_on", "due_on", "closes_on"]


class FieldDefSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="字段代码，报送数值时用作键。")
    label = serializers.CharField(help_text="表上的中文名称（“X月”已换成本期月份）。")
    unit = serializers.CharField()
    kind = serializers.CharField(help_text="stock 时点余额；ytd 年初至今累计；point 时点指标。")
    group = serializers.CharField(help_text="增量 / 扩面 / 降价")
    decimals = serializers.IntegerField(help_text="最多保留的小数位数。")
    integer = serializers.BooleanField(help_text="是否必须为整数（户数）。")


class DefinitionSerializer(serializers.Serializer):
    form = serializers.CharField()
    edition = serializers.CharField(help_text="表式版本。")
    title = serializers.CharField()
    unit_line = serializers.CharField()
    fields = FieldDefSerializer(many=True)


def definition_data(definition: FormDefinition, month: int | None) -> dict:
    return {
        "form": definition.form,
        "edition": definition.edition,
        "title": definition.title,
        "unit_line": definition.unit_line,
        "fields": [
            {
                "code": f.code,
                "label": f.label_for(month),
                "unit": f.unit,
                "kind": f.kind,
                "group": f.group,
                "decimals": f.decimals,
                "integer": f.integer,
            }
            for f in definition.fields
        ],
    }


# --- findings -------------------------------------------------------------------------------


class FindingSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="规则编号：E 开头为错误（阻止提交），W 开头为预警（需填写说明）。")
    severity = serializers.ChoiceField(choices=[ERROR, WARNING])
    field = serializers.CharField(allow_null=True, help_text="涉及的字段代码；整表问题为 null。")
    message = serializers.CharField()
    location = serializers.CharField(help_text="位置：工作表单元格（如 附件4!B6）或字段名称。")
    fields = serializers.ListField(child=serializers.CharField())
    key = serializers.CharField(help_text="预警说明的键（规则编号:字段代码）。")


class FindingCountsSerializer(serializers.Serializer):
    error = serializers.IntegerField()
    warning = serializers.IntegerField()
    unexplained = serializers.IntegerField(help_text="尚无说明的预警条数。")


class FindingGroupsSerializer(serializers.Serializer):
    counts = FindingCountsSerializer()
    errors = FindingSerializer(many=True)
    warnings = FindingSerializer(many=True)


def _finding_dict(d: dict) -> dict:
    field = d.get("field")
    return {
        "rule": d["rule"],
        "severity": d["severity"],
        "field": field,
        "message": d.get("message", ""),
        "location": d.get("location", ""),
        "fields": list(d.get("fields") or ()),
        "key": d.get("key") or f"{d['rule']}:{field or '*'}",
    }


def grouped_findings(findings: list[dict], explanations: dict) -> dict:
    """Findings of a version split by severity, with counts (errors block, warnings need explaining)."""
    rows = [_finding_dict(d) for d in findings]
    missing = unexplained([Finding.from_dict(d) for d in findings], explanations or {})
    errors = [r for r in rows if r["severity"] == ERROR]
    warnings = [r for r in rows if r["severity"] == WARNING]
    return {
        "counts": {"error": len(errors), "warning": len(warnings), "unexplained": len(missing)},
        "errors": errors,
        "warnings": warnings,
    }


# --- versions -------------------------------------------------------------------------------


def _user(user) -> dict | None:
    if user is None:
        return None
    return {"username": user.username, "display_name": str(user)}


class VersionSummarySerializer(serializers.ModelSerializer):
    source_label = serializers.CharField(source="get_source_display")
    created_by = serializers.SerializerMethodField()
    submitted_by = serializers.SerializerMethodField()
    error_count = serializers.IntegerField()
    warning_count = serializers.IntegerField()

    class Meta:
        model = FilingVersion
        fields = [
            "number",
            "edition",
            "source",
            "source_label",
            "created_by",
            "created_at",
            "upload_name",
            "upload_sha256",
            "submitted_by",
            "submitted_at",
            "receipt_no",
            "error_count",
            "warning_count",
        ]
        extra_kwargs = {"upload_sha256": {"help_text": "上传文件的 SHA-256（仅 Excel 上传的版本有）。"}}

    @extend_schema_field(UserRefSerializer(allow_null=True))
    def get_created_by(self, obj) -> dict | None:
        return _user(obj.created_by)

    @extend_schema_field(UserRefSerializer(allow_null=True))
    def get_submitted_by(self, obj) -> dict | None:
        return _user(obj.submitted_by)


class VersionDetailSerializer(VersionSummarySerializer):
    values = serializers.DictField(
        child=serializers.CharField(allow_null=True), help_text="字段代码 → 十进制数字字符串；未填写为 null。"
    )
    findings = serializers.SerializerMethodField()
    explanations = serializers.DictField(child=serializers.CharField(), help_text="预警键 → 说明。")
    attestation = serializers.CharField()

    class Meta(VersionSummarySerializer.Meta):
        fields = [*VersionSummarySerializer.Meta.fields, "attestation", "values", "findings", "explanations"]

    @extend_schema_field(FindingGroupsSerializer)
    def get_findings(self, obj) -> dict:
        return grouped_findings(obj.findings, obj.explanations)


# --- filings --------------------------------------------------------------------------------


class FilingSerializer(serializers.ModelSerializer):
    institution = InstitutionRefSerializer()
    period = PeriodRefSerializer()
    status = StatusField()
    status_label = serializers.CharField(source="get_status_display")
    version = serializers.IntegerField(source="current_version.number", allow_null=True, default=None)
    is_late = serializers.BooleanField(help_text="逾期：首次提交晚于截止日，或尚未提交且已过截止日。")
    error_count = serializers.IntegerField(source="current_version.error_count", default=0)
    warning_count = serializers.IntegerField(source="current_version.warning_count", default=0)

    class Meta:
        model = Filing
        fields = [
            "id",
            "institution",
            "period",
            "status",
            "status_label",
            "lock_version",
            "version",
            "is_late",
            "error_count",
            "warning_count",
            "first_submitted_at",
            "submitted_at",
            "approved_at",
            "updated_at",
        ]
        extra_kwargs = {"lock_version": {"help_text": "修订号：修改或审核时可带上，已被他人修改则返回 409。"}}


class FilingDetailSerializer(FilingSerializer):
    values = serializers.SerializerMethodField()
    findings = serializers.SerializerMethodField()
    explanations = serializers.SerializerMethodField()
    receipt_no = serializers.CharField(source="current_version.receipt_no", default="")

    class Meta(FilingSerializer.Meta):
        fields = [*FilingSerializer.Meta.fields, "receipt_no", "values", "findings", "explanations"]

    @extend_schema_field(serializers.DictField(child=serializers.CharField(allow_null=True)))
    def get_values(self, obj) -> dict:
        return obj.current_version.values if obj.current_version_id else {}

    @extend_schema_field(FindingGroupsSerializer)
    def get_findings(self, obj) -> dict:
        version = obj.current_version
        return grouped_findings(version.findings if version else [], version.explanations if version else {})

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_explanations(self, obj) -> dict:
        return obj.current_version.explanations if obj.current_version_id else {}


class FilingRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = StatusField()
    status_label = serializers.CharField(source="get_status_display")
    lock_version = serializers.IntegerField()


class FilingFilterSerializer(serializers.Serializer):
    period = serializers.IntegerField(required=False, help_text="报送期 id")
    status = StatusField(required=False, help_text="状态")
    institution = serializers.IntegerField(required=False, help_text="机构 id")


class TransitionSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.number")
    from_status = StatusField()
    to_status = StatusField()
    from_status_label = serializers.CharField(source="get_from_status_display")
    to_status_label = serializers.CharField(source="get_to_status_display")
    actor = serializers.SerializerMethodField()
    field_comments = serializers.DictField(child=serializers.CharField(), help_text="字段代码 → 逐项意见。")

    class Meta:
        model = Transition
        fields = [
            "version",
            "from_status",
            "from_status_label",
            "to_status",
            "to_status_label",
            "actor",
            "at",
            "reason",
            "field_comments",
        ]

    @extend_schema_field(UserRefSerializer)
    def get_actor(self, obj) -> dict:
        return _user(obj.actor)


class DiffFieldSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    a = serializers.CharField(allow_null=True)
    b = serializers.CharField(allow_null=True)
    changed = serializers.BooleanField()


class DiffSerializer(serializers.Serializer):
    a = serializers.IntegerField(help_text="版本号 a")
    b = serializers.IntegerField(help_text="版本号 b")
    fields = DiffFieldSerializer(many=True)


class DiffQuerySerializer(serializers.Serializer):
    a = serializers.IntegerField(min_value=1, help_text="版本号 a")
    b = serializers.IntegerField(min_value=1, help_text="版本号 b")


# --- writes ---------------------------------------------------------------------------------


class LockVersionMixin(serializers.Serializer):
    lock_version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        help_text="可选：您读取时的修订号。已被他人修改时返回 409，避免覆盖他人的修改。",
    )


class ExplanationsField(serializers.DictField):
    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.CharField(allow_blank=True, max_length=2000))
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", "预警键（如 W401:weighted_rate）→ 说明。只保留与本版预警对应的非空说明。"
        )
        super().__init__(**kwargs)


class ValuesInSerializer(LockVersionMixin):
    values = serializers.DictField(
        child=RawValueField(allow_null=True),
        help_text='字段代码 → 数值。可以是数字或文本（"3.85%"、"1,234"），由服务端解析；缺少的字段视为未填写。',
    )
    explanations = ExplanationsField()

    def validate_values(self, values):
        definition = self.context["definition"]
        unknown = sorted(set(values) - set(definition.codes))
        if unknown:
            raise serializers.ValidationError(
                f"未知的字段代码：{'、'.join(unknown)}。本表的字段代码为：{'、'.join(definition.codes)}。"
            )
        return values


class CheckResultSerializer(serializers.Serializer):
    values = serializers.DictField(child=serializers.CharField(allow_null=True))
    findings = FindingGroupsSerializer()


class SavedVersionSerializer(serializers.Serializer):
    filing = FilingRefSerializer()
    version = VersionDetailSerializer()
    ignored_explanations = serializers.ListField(
        child=serializers.CharField(),
        help_text="未保存的说明键：本版没有对应的预警（如数据修改后预警已消失）。",
    )


class WorkbookUploadSerializer(LockVersionMixin):
    file = serializers.FileField(help_text="填写好的 .xlsx 模板（从 template/ 下载）。")


class ExplanationsInSerializer(LockVersionMixin):
    explanations = ExplanationsField(
        required=True,
        help_text="预警键 → 说明。与当前版本的说明合并：未列出的沿用原说明，传空字符串可删除某条说明。",
    )


class SubmitInSerializer(LockVersionMixin):
    confirm = serializers.BooleanField(
        required=False,
        default=False,
        help_text="确认声明：本表数据真实、准确、完整，并代表本机构提交。须为 true。",
    )


class SubmitOutSerializer(serializers.Serializer):
    filing = FilingRefSerializer()
    version = serializers.IntegerField()
    receipt_no = serializers.CharField(help_text="回执编号")
    submitted_at = serializers.DateTimeField()
    attestation = serializers.CharField()


class ReviewInSerializer(LockVersionMixin):
    pass


class ReturnInSerializer(LockVersionMixin):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text="退回原因（必填）。"
    )
    field_comments = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=1000),
        required=False,
        default=dict,
        help_text="可选：字段代码 → 逐项意见。",
    )


class ReopenInSerializer(LockVersionMixin):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text="重新打开的原因（必填）。"
    )


class BulkApproveInSerializer(serializers.Serializer):
    filings = serializers.ListField(
        child=serializers.IntegerField(), allow_empty=False, max_length=1000, help_text="报表 id 列表。"
    )


class BulkApproveOutSerializer(serializers.Serializer):
    approved = serializers.ListField(child=serializers.IntegerField(), help_text="本次审核通过的报表 id。")
    skipped = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="未处理的报表 id：不是“已提交”，或有错误/预警，需逐一审核。",
    )
    not_found = serializers.ListField(child=serializers.IntegerField(), help_text="不存在或您无权查看的 id。")
