"""Request and response shapes of the reporting API (/api/v1/), documented in the OpenAPI schema.

Values are sent as numbers or text ("3.85%", "1,234.5", "１２３") and parsed by the service, never here;
they come back as stored: decimal strings ("3.85", "1234.5") so no float noise reaches a bank's system,
and text for the 附件2 联系人. Table returns (附件3, 附件2) key their values "<row>.<column>"; document
returns (工作方案, 经验做法) have no values, only a file.
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from .definitions import FormDefinition, Layout
from .excel import DATA_ROW, derived_codes
from .models import Filing, FilingStatus, FilingVersion, Period, Transition
from .rules import ERROR, WARNING, Finding, unexplained
from .uploads import DOCUMENT_CONTENT_TYPES

# --- shared pieces --------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [{"type": "number"}, {"type": "string"}],
        "nullable": True,
        "description": '数字或文本（如 3.85、"3.85%"、"1,234.5"）；空白或 null 表示未填写。',
    }
)
class RawValueField(serializers.JSONField):
    """A value as the bank typed it; the service parses it and reports what it cannot read (E102). Only a
    number, a text or null, as documented: true, a list or an object is refused here with a 400."""

    def to_internal_value(self, data):
        if isinstance(data, (bool, list, dict)):
            raise serializers.ValidationError("须为数字、文本或 null。")
        return super().to_internal_value(data)


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
    quarter = serializers.IntegerField(allow_null=True, help_text="季度（经验做法）；其他报表为 null。")
    label = serializers.CharField()
    due_on = serializers.DateField()


class PeriodSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)

    class Meta:
        model = Period
        fields = [
            "id",
            "form",
            "year",
            "month",
            "quarter",
            "label",
            "ends_on",
            "opens_on",
            "due_on",
            "closes_on",
        ]


class FieldDefSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="字段代码，报送数值时用作键（表格类报表为“行代码.列代码”）。")
    label = serializers.CharField(help_text="表上的中文名称（“X月”已换成本期月份；表格类为“行 · 列”）。")
    unit = serializers.CharField()
    kind = serializers.CharField(
        help_text="stock 时点余额；ytd 年初至今累计；point 时点指标；plan 计划数；text 文字（联系人）。"
    )
    group = serializers.CharField(help_text="增量 / 扩面 / 降价；表格类报表为所在行的名称。")
    decimals = serializers.IntegerField(help_text="最多保留的小数位数。")
    integer = serializers.BooleanField(help_text="是否必须为整数（户数）。")
    required = serializers.BooleanField(help_text="是否必填。")
    column = serializers.CharField(help_text="在 Excel 模板中的列。")
    cell = serializers.CharField(
        allow_blank=True, help_text="在 Excel 模板中的单元格（如 B6）；无模板的报表为空。"
    )
    row = serializers.CharField(allow_blank=True, help_text="表格类：所在行的代码（地区代码或联系人角色）。")
    row_label = serializers.CharField(allow_blank=True)
    column_code = serializers.CharField(allow_blank=True, help_text="表格类：所在列的代码。")
    text_format = serializers.CharField(
        allow_blank=True, help_text="文字字段的格式：phone 办公电话、mobile 手机、email 邮箱，空为普通文字。"
    )
    max_length = serializers.IntegerField(help_text="文字字段的最大长度。")


class RowDefSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="行代码：附件3 为地区代码（GB/T 2260，420000 为全省），附件2 为联系人角色。"
    )
    label = serializers.CharField()


class ColumnDefSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="列代码；与行代码组成字段代码“行代码.列代码”。")
    label = serializers.CharField()
    unit = serializers.CharField()
    kind = serializers.CharField()
    column = serializers.CharField(help_text="在 Excel 模板中的列。")
    decimals = serializers.IntegerField()
    text_format = serializers.CharField(allow_blank=True)
    max_length = serializers.IntegerField()


class ComputedDefSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="计算列代码；每行的计算值以“行代码.列代码”随数值返回，不需报送。")
    label = serializers.CharField()
    numerator = serializers.CharField()
    denominator = serializers.CharField()
    base = serializers.CharField(
        allow_blank=True, help_text="非空时为 (分子 − 基数) / 分母，否则为 分子 / 分母。"
    )
    unit = serializers.CharField()
    column = serializers.CharField(allow_blank=True)


class DefinitionSerializer(serializers.Serializer):
    form = serializers.CharField()
    edition = serializers.CharField(help_text="表式版本。")
    layout = serializers.ChoiceField(
        choices=[Layout.SHEET, Layout.TABLE, Layout.DOCUMENT],
        help_text="sheet 单行表（附件4）；table 行×列的表格（附件3、附件2）；document 上传文件（工作方案、经验做法）。",
    )
    title = serializers.CharField()
    unit_line = serializers.CharField(allow_blank=True)
    fields = FieldDefSerializer(many=True, help_text="需要报送的字段（document 为空）。")
    rows = RowDefSerializer(many=True, help_text="表格类：全部行，按表上顺序（含合计行）。")
    columns = ColumnDefSerializer(many=True, help_text="表格类：需要填写的列。")
    computed = ComputedDefSerializer(many=True, help_text="表格类：门户计算的列（分母为 0 或空时为 null）。")
    total_row = serializers.CharField(
        allow_blank=True, help_text="表格类：合计行的代码（附件3 全省 = 各地区之和，由门户计算，不需报送）。"
    )
    derived = serializers.ListField(
        child=serializers.CharField(), help_text="门户计算、随数值返回但不需报送的代码（合计行、计算列）。"
    )
    notes = serializers.ListField(child=serializers.CharField(), help_text="表上印的注释。")
    has_template = serializers.BooleanField(help_text="是否有 Excel 模板（template/ 与 workbook/ 可用）。")
    accepts = serializers.ListField(
        child=serializers.CharField(), help_text="document：可上传的文件类型（pdf、docx）；其他为空。"
    )


def _field_data(f, definition: FormDefinition, month: int | None) -> dict:
    cell = f.cell or (f"{f.column}{DATA_ROW}" if definition.layout == Layout.SHEET else "")
    return {
        "code": f.code,
        "label": f.label_for(month),
        "unit": f.unit,
        "kind": f.kind,
        "group": f.group,
        "decimals": f.decimals,
        "integer": f.integer,
        "required": f.required,
        "column": f.column,
        "cell": cell,
        "row": f.row,
        "row_label": f.row_label,
        "column_code": f.column_code,
        "text_format": f.text_format,
        "max_length": f.max_length,
    }


def definition_data(definition: FormDefinition, month: int | None) -> dict:
    is_document = definition.layout == Layout.DOCUMENT
    return {
        "form": definition.form,
        "edition": definition.edition,
        "layout": definition.layout,
        "title": definition.title,
        "unit_line": definition.unit_line,
        "fields": [_field_data(f, definition, month) for f in definition.fields],
        "rows": [{"code": r.code, "label": r.label} for r in definition.rows],
        "columns": [
            {
                "code": c.code,
                "label": c.label,
                "unit": c.unit,
                "kind": c.kind,
                "column": c.column,
                "decimals": c.decimals,
                "text_format": c.text_format,
                "max_length": c.max_length,
            }
            for c in definition.columns
        ],
        "computed": [
            {
                "code": c.code,
                "label": c.label,
                "numerator": c.numerator,
                "denominator": c.denominator,
                "base": c.base,
                "unit": c.unit,
                "column": c.column,
            }
            for c in definition.computed
        ],
        "total_row": definition.total_row,
        "derived": sorted(derived_codes(definition)),
        "notes": list(definition.notes),
        "has_template": definition.form in TEMPLATE_FORMS,
        "accepts": sorted(DOCUMENT_CONTENT_TYPES) if is_document else [],
    }


TEMPLATE_FORMS = {"monitoring", "plan"}  # the returns with an official Excel layout


def value_labels(definition: FormDefinition, month: int | None) -> dict[str, str]:
    """Code → Chinese label for every value a version may hold, the derived ones included
    ("全省 · 2021年末普惠小微贷款余额", "武汉分行 · 2021年末普惠小微贷款增速")."""
    labels = {f.code: f.label_for(month) for f in definition.fields}
    rows = {r.code: r.label for r in definition.rows}
    names = {c.code: c.label for c in (*definition.columns, *definition.computed)}
    for code in sorted(derived_codes(definition)):
        row, column = code.split(".", 1)
        labels[code] = f"{rows[row]} · {names[column]}"
    return labels


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
    reading_notes = serializers.ListField(
        child=serializers.CharField(),
        help_text="读取上传的 Excel 时未读取的内容（如不属于表式的列、合计行），供填报人核对。",
    )

    class Meta(VersionSummarySerializer.Meta):
        fields = [
            *VersionSummarySerializer.Meta.fields,
            "attestation",
            "values",
            "findings",
            "explanations",
            "reading_notes",
        ]

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


class DocumentRefSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="上传时的文件名。")
    type = serializers.ChoiceField(
        choices=sorted(DOCUMENT_CONTENT_TYPES), help_text="pdf 或 docx（按内容判定）。"
    )
    content_type = serializers.CharField()
    size = serializers.IntegerField(allow_null=True, help_text="字节数；文件缺失时为 null。")
    sha256 = serializers.CharField()
    url = serializers.CharField(help_text="下载地址（PDF 可在浏览器中预览）。")


def document_type(version) -> str | None:
    """ "pdf" / "docx" of a document version's stored file (the service names it by its checked type)."""
    name = version.upload.name if version is not None and version.upload else ""
    return next((kind for kind in DOCUMENT_CONTENT_TYPES if name.lower().endswith(f".{kind}")), None)


class FilingDetailSerializer(FilingSerializer):
    values = serializers.SerializerMethodField()
    findings = serializers.SerializerMethodField()
    explanations = serializers.SerializerMethodField()
    receipt_no = serializers.CharField(source="current_version.receipt_no", default="")
    document = serializers.SerializerMethodField()

    class Meta(FilingSerializer.Meta):
        fields = [
            *FilingSerializer.Meta.fields,
            "receipt_no",
            "values",
            "findings",
            "explanations",
            "document",
        ]

    @extend_schema_field(
        serializers.DictField(
            child=serializers.CharField(allow_null=True),
            help_text="字段代码 → 存储的值：数值为十进制数字字符串，联系人为文字，未填写为 null；"
            "表格类还包括门户计算的合计行与计算列（不可计算时为 null）。",
        )
    )
    def get_values(self, obj) -> dict:
        return obj.current_version.values if obj.current_version_id else {}

    @extend_schema_field(DocumentRefSerializer(allow_null=True))
    def get_document(self, obj) -> dict | None:
        """The current file of a document return (工作方案, 经验做法); null for other returns or before any upload."""
        version = obj.current_version if obj.current_version_id else None
        kind = document_type(version)
        if kind is None:
            return None
        try:
            size = version.upload.size
        except OSError:  # the row outlived its file: say so rather than fail the whole detail
            size = None
        return {
            "name": version.upload_name,
            "type": kind,
            "content_type": DOCUMENT_CONTENT_TYPES[kind],
            "size": size,
            "sha256": version.upload_sha256,
            "url": reverse("api-filing-document", args=[obj.pk]),
        }

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


class QueryFilterSerializer(serializers.Serializer):
    """Query filters: a parameter that is given must carry a value (`?status=` is refused, not read as "no
    filter"), as the schema's types say."""

    def to_internal_value(self, data):
        blank = {
            name: ["不能为空：不筛选时请省略该参数。"] for name in self.fields if data.get(name, None) == ""
        }
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)


class FilingFilterSerializer(QueryFilterSerializer):
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
        help_text='字段代码 → 数值。可以是数字或文本（"3.85%"、"1,234"），由服务端解析；缺少的字段视为未填写。'
        "表格类报表中门户计算的代码（合计行、计算列，见表式的 derived）可以带上，但不会保存，由门户重新计算。",
    )
    explanations = ExplanationsField()

    def validate(self, attrs):
        definition = self.context["definition"]
        if definition.layout == Layout.DOCUMENT:
            raise serializers.ValidationError(
                {"values": ["该报表报送的是文件，不是数值：请用 document/ 上传 PDF 或 Word（.docx）文件。"]}
            )
        return attrs

    def validate_values(self, values):
        definition = self.context["definition"]
        derived = derived_codes(definition)
        values = {code: value for code, value in values.items() if code not in derived}
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


class UploadLockVersionMixin(serializers.Serializer):
    """A multipart form has no null: the revision is a number or left out."""

    lock_version = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="可选：您读取时的修订号。已被他人修改时返回 409，避免覆盖他人的修改。",
    )


class WorkbookUploadSerializer(UploadLockVersionMixin):
    file = serializers.FileField(
        allow_empty_file=True,  # an empty file is refused by the service (U101), with its audit entry
        help_text="填写好的 .xlsx 模板（从 template/ 下载）。",
    )


class DocumentUploadSerializer(UploadLockVersionMixin):
    file = serializers.FileField(
        allow_empty_file=True,  # an empty file is refused by the service (D101), with its audit entry
        help_text="工作方案或经验做法：PDF 或 Word（.docx）文件，按内容判定类型；不接受加密、含脚本或宏的文件。",
    )


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


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 2000, "pattern": r"\S"})
class ReasonField(serializers.CharField):
    """As documented: a reason with at least one character that is not a space. The views read it leniently
    (missing or blank is left to the service, which answers with its own code, reason_required)."""


@extend_schema_serializer(component_name="ReturnIn")
class ReturnInDocSerializer(LockVersionMixin):
    """The request body of return/ as the schema documents it."""

    reason = ReasonField(help_text="退回原因（必填）。")
    field_comments = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=1000),
        required=False,
        help_text="可选：字段代码 → 逐项意见。",
    )


@extend_schema_serializer(component_name="ReopenIn")
class ReopenInDocSerializer(LockVersionMixin):
    """The request body of reopen/ as the schema documents it."""

    reason = ReasonField(help_text="重新打开的原因（必填）。")


class BulkApproveInSerializer(serializers.Serializer):
    filings = serializers.ListField(
        child=serializers.IntegerField(),
        allow_empty=False,
        min_length=1,  # allow_empty alone does not reach the schema (minItems)
        max_length=1000,
        help_text="报表 id 列表。",
    )


class BulkApproveOutSerializer(serializers.Serializer):
    approved = serializers.ListField(child=serializers.IntegerField(), help_text="本次审核通过的报表 id。")
    skipped = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="未处理的报表 id：不是“已提交”，或有错误/预警，需逐一审核。",
    )
    not_found = serializers.ListField(child=serializers.IntegerField(), help_text="不存在或您无权查看的 id。")
