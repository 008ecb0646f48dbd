"""/api/v1/ for returns: everything a bank's or the branch's system can do that a person does in the browser.

Every return goes through the same endpoints: the 附件4 监测表 and the 附件3 投放计划表 (values or an Excel
template), the 附件2 联系人 (values: text), and the document returns 工作方案 / 经验做法 (a PDF or .docx file).

Each view resolves its object through `institutions.access` first — another bank's id is a 404 that
reveals nothing — then calls one function of `reporting.services`, which decides capabilities (403),
validates (400) and detects concurrent edits (409). Refusals come back in the one error shape of
`portal.api`: {"error": {"code", "message", "details"}}, with the findings as details when there are any.
"""

from django.conf import settings
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import services as audit
from institutions import access
from portal.api import ErrorSerializer
from portal.errors import ServiceError

from . import excel, parsing, selectors, services
from .definitions import EDITIONS, Layout, definition_for
from .models import Filing, FilingStatus, Form, Period, VersionSource
from .serializers import (
    BulkApproveInSerializer,
    BulkApproveOutSerializer,
    CheckResultSerializer,
    DefinitionSerializer,
    DiffQuerySerializer,
    DiffSerializer,
    DocumentUploadSerializer,
    ExplanationsInSerializer,
    FilingDetailSerializer,
    FilingFilterSerializer,
    FilingSerializer,
    PeriodSerializer,
    ReopenInDocSerializer,
    ReopenInSerializer,
    ReturnInDocSerializer,
    ReturnInSerializer,
    ReviewInSerializer,
    SavedVersionSerializer,
    SubmitInSerializer,
    SubmitOutSerializer,
    TransitionSerializer,
    ValuesInSerializer,
    VersionDetailSerializer,
    VersionSummarySerializer,
    WorkbookUploadSerializer,
    definition_data,
    document_type,
    grouped_findings,
    value_labels,
)
from .uploads import DOCUMENT_CONTENT_TYPES

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMS_WITH_DEFINITION = sorted({form for form, _edition in EDITIONS})

_ERROR_TEXT = {
    400: "请求被拒绝：数据有误、校验未通过或当前状态不允许（见 error.code 与 error.message）。",
    401: "未登录或令牌无效。",
    403: "您无权执行此操作（如填报人不能提交、银行不能审核）。",
    404: "对象不存在，或您无权查看（其他机构的报表一律返回 404）。",
    409: "冲突：报表已被他人修改（修订号不符）或状态已变化，请重新读取后再操作。",
}


def _errors(*codes: int) -> dict:
    return {code: OpenApiResponse(ErrorSerializer, description=_ERROR_TEXT[code]) for code in (401, *codes)}


def error_response(status_code: int, code: str, message: str, details=None) -> Response:
    return Response({"error": {"code": code, "message": message, "details": details}}, status=status_code)


class ReportingView(APIView):
    """Base of the reporting endpoints."""


class DownloadView(ReportingView):
    """A view answering with a file: errors are JSON whatever the client's Accept header says."""

    def perform_content_negotiation(self, request, force=False):
        renderer = JSONRenderer()
        return renderer, renderer.media_type


# --- lookups through institutions.access -----------------------------------------------------


def _filing(request, pk: int) -> Filing:
    """The filing if the caller may see its institution, else 404."""
    filings = access.scope_by_institution(request.user, Filing.objects.all())
    return get_object_or_404(filings.select_related("institution", "period", "current_version"), pk=pk)


def _institution_period(request, institution_id: int, period_id: int):
    institution = access.get_institution(request.user, institution_id)
    period = get_object_or_404(Period.objects.filter(form__in=FORMS_WITH_DEFINITION), pk=period_id)
    return institution, period


def _saved(version, explanations: dict | None) -> dict:
    posted = {k for k, v in (explanations or {}).items() if v and v.strip()}
    return {
        "filing": version.filing,
        "version": version,
        "ignored_explanations": sorted(posted - set(version.explanations)),
    }


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


# --- periods and the form -----------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        tags=["报送期"],
        operation_id="periods_list",
        summary="报送期列表",
        description="各报表的报送期及开始、截止、关闭日期。",
        responses={200: PeriodSerializer(many=True), **_errors(400)},
    )
)
class PeriodList(generics.ListAPIView):
    serializer_class = PeriodSerializer
    queryset = Period.objects.all()


class PeriodDefinition(ReportingView):
    @extend_schema(
        tags=["报送期"],
        operation_id="period_definition",
        summary="本期表式",
        description="本期适用的表式版本与字段：字段代码、中文名称、单位、类别、小数位数，报送数值时以字段代码为键。"
        "layout 说明报表形式：sheet 为单行表（附件4）；table 为行×列的表格（附件3、附件2），字段代码为“行代码.列代码”，"
        "并列出行、列、门户计算的列和合计行；document 为上传文件（工作方案、经验做法），没有字段，accepts 列出可上传的类型。",
        responses={200: DefinitionSerializer, **_errors(404)},
    )
    def get(self, request, period_id: int):
        period = get_object_or_404(Period.objects.filter(form__in=FORMS_WITH_DEFINITION), pk=period_id)
        definition = definition_for(period.form, period.year)
        return Response(DefinitionSerializer(definition_data(definition, period.month)).data)


# --- filings: read ----------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        tags=["报表"],
        operation_id="filings_list",
        summary="报表列表",
        description="您可查看的报表（银行：本机构；人民银行：辖区内机构），可按报送期、状态、机构筛选。"
        "未填报的机构没有报表记录，不在列表中。",
        parameters=[FilingFilterSerializer],
        responses={200: FilingSerializer(many=True), **_errors(400)},
    )
)
class FilingList(generics.ListAPIView):
    serializer_class = FilingSerializer

    def get_queryset(self):
        query = FilingFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = {k: v for k, v in query.validated_data.items() if v not in (None, "")}
        lookups = {"period": "period_id", "institution": "institution_id", "status": "status"}
        return (
            selectors.filings_for_user(self.request.user)
            .filter(**{lookups[k]: v for k, v in filters.items()})
            .order_by("-period__year", "-period__month", "institution__order", "institution__code")
        )


class FilingDetail(ReportingView):
    @extend_schema(
        tags=["报表"],
        operation_id="filing_retrieve",
        summary="报表详情",
        description="当前版本的数值、状态、修订号（lock_version）、版本号、按严重程度分组的校验结果与条数、预警说明、是否逾期。",
        responses={200: FilingDetailSerializer, **_errors(404)},
    )
    def get(self, request, pk: int):
        return Response(FilingDetailSerializer(_filing(request, pk)).data)


class VersionList(ReportingView):
    @extend_schema(
        tags=["报表"],
        operation_id="filing_versions_list",
        summary="版本历史",
        description="报表的全部版本：版本号、来源、保存人与时间、上传文件的 SHA-256、提交人与时间、回执编号、错误与预警条数。",
        responses={200: VersionSummarySerializer(many=True), **_errors(404)},
    )
    def get(self, request, pk: int):
        filing = _filing(request, pk)
        versions = filing.versions.select_related("created_by", "submitted_by").order_by("number")
        return Response(VersionSummarySerializer(versions, many=True).data)


class VersionDetail(ReportingView):
    @extend_schema(
        tags=["报表"],
        operation_id="filing_version_retrieve",
        summary="某一版本",
        description="某一版本的数值、校验结果与预警说明（每个版本保存后不再改变）。",
        responses={200: VersionDetailSerializer, **_errors(404)},
    )
    def get(self, request, pk: int, number: int):
        filing = _filing(request, pk)
        version = get_object_or_404(
            filing.versions.select_related("created_by", "submitted_by"), number=number
        )
        return Response(VersionDetailSerializer(version).data)


class VersionDiff(ReportingView):
    @extend_schema(
        tags=["报表"],
        operation_id="filing_diff",
        summary="版本比较",
        description="逐项比较两个版本的数值：a、b 两版的值及是否有变化。",
        parameters=[DiffQuerySerializer],
        responses={200: DiffSerializer, **_errors(400, 404)},
    )
    def get(self, request, pk: int):
        filing = _filing(request, pk)
        query = DiffQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        a, b = query.validated_data["a"], query.validated_data["b"]
        versions = {v.number: v for v in filing.versions.filter(number__in={a, b})}
        if a not in versions or b not in versions:
            return error_response(
                404, "not_found", f"第 {a if a not in versions else b} 版不存在：请先查看版本历史中的版本号。"
            )
        definition = definition_for(filing.period.form, filing.period.year)
        labels = value_labels(definition, filing.period.month)
        extra = sorted((set(versions[a].values) | set(versions[b].values)) - set(labels))
        rows = []
        for code in [*labels, *extra]:
            left, right = versions[a].values.get(code), versions[b].values.get(code)
            rows.append(
                {
                    "code": code,
                    "label": labels.get(code, code),
                    "a": left,
                    "b": right,
                    "changed": left != right,
                }
            )
        return Response(DiffSerializer({"a": a, "b": b, "fields": rows}).data)


class TransitionList(ReportingView):
    @extend_schema(
        tags=["报表"],
        operation_id="filing_transitions_list",
        summary="流转记录",
        description="提交、通过、退回、重新打开等每一步：操作人、时间、原因与逐项意见。",
        responses={200: TransitionSerializer(many=True), **_errors(404)},
    )
    def get(self, request, pk: int):
        filing = _filing(request, pk)
        steps = filing.transitions.select_related("actor", "version").order_by("at", "id")
        return Response(TransitionSerializer(steps, many=True).data)


class FindingsReport(DownloadView):
    @extend_schema(
        tags=["报表"],
        operation_id="filing_findings_report",
        summary="校验结果 Excel",
        description="当前版本（或 ?version= 指定版本）的校验结果，导出为 Excel：错误在前，预警在后。",
        parameters=[OpenApiParameter("version", int, required=False, description="版本号；缺省为当前版本")],
        responses={(200, XLSX): OpenApiTypes.BINARY, **_errors(400, 404)},
    )
    def get(self, request, pk: int):
        filing = _filing(request, pk)
        number = request.query_params.get("version")
        if number:
            version = get_object_or_404(filing.versions, number=number if number.isdigit() else -1)
        elif filing.current_version is None:
            raise ServiceError("尚未填报任何数据，暂无校验结果。", code="no_version")
        else:
            version = filing.current_version
        definition = definition_for(filing.period.form, filing.period.year)
        labels = value_labels(definition, filing.period.month)
        rows = [
            {
                "severity": d["severity"],
                "rule": d["rule"],
                "location": d.get("location", ""),
                "field": labels.get(d.get("field"), d.get("field") or ""),
                "message": d.get("message", ""),
            }
            for d in version.findings
        ]
        title = f"{filing.institution.name} {filing.period.label} 校验结果（第 {version.number} 版）"
        data = excel.findings_report(title, rows)
        audit.record_download(
            request, what="findings", name=title, obj=filing, institution=filing.institution
        )
        return _xlsx(
            data, f"{filing.institution.short_name}-{filing.period.key}-v{version.number}-校验结果.xlsx"
        )


# --- filling in -------------------------------------------------------------------------------


class SaveValues(ReportingView):
    @extend_schema(
        tags=["填报"],
        operation_id="filing_values_save",
        summary="报送数值（JSON）",
        description='保存一个新版本：values 为 字段代码 → 数值，可为数字或文本（"3.85%"、"1,234"），由服务端解析；'
        "explanations 为预警说明。有错误也会保存（草稿可不完整），但不能提交。返回新版本及其校验结果。"
        "带上 lock_version 可防止覆盖他人的修改（不符返回 409）。",
        request={"application/json": ValuesInSerializer},
        responses={201: SavedVersionSerializer, **_errors(400, 403, 404, 409)},
    )
    def post(self, request, institution_id: int, period_id: int):
        institution, period = _institution_period(request, institution_id, period_id)
        access.require_capability(request.user, institution, access.PREPARE)
        definition = definition_for(period.form, period.year)
        body = ValuesInSerializer(data=request.data, context={"definition": definition})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        version = services.save_version(
            institution=institution,
            period=period,
            actor=request.user,
            raw=data["values"],
            source=VersionSource.API,
            explanations=data.get("explanations"),
            expected_lock_version=data.get("lock_version"),
        )
        return Response(SavedVersionSerializer(_saved(version, data.get("explanations"))).data, status=201)


class CheckValues(ReportingView):
    @extend_schema(
        tags=["填报"],
        operation_id="filing_values_check",
        summary="试校验（不保存）",
        description="用与保存相同的规则校验一组数值，只返回解析后的数值和校验结果，不保存任何内容。",
        request={"application/json": ValuesInSerializer},
        responses={200: CheckResultSerializer, **_errors(400, 404)},
    )
    def post(self, request, institution_id: int, period_id: int):
        institution, period = _institution_period(request, institution_id, period_id)
        definition = definition_for(period.form, period.year)
        body = ValuesInSerializer(data=request.data, context={"definition": definition})
        body.is_valid(raise_exception=True)
        _definition, values, findings = services.check(
            institution=institution, period=period, raw=body.validated_data["values"]
        )
        result = {
            "values": parsing.values_to_json(values),
            "findings": grouped_findings(
                [f.as_dict() for f in findings], body.validated_data.get("explanations") or {}
            ),
        }
        return Response(CheckResultSerializer(result).data)


class UploadWorkbook(ReportingView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=["填报"],
        operation_id="filing_workbook_upload",
        summary="上传 Excel 模板（监测表、投放计划表）",
        description="上传填写好的 .xlsx 模板（字段 file）：附件4 监测表或附件3 投放计划表。文件须为本机构、本报送期的模板；"
        "不是安全的 .xlsx、不是本门户模板、机构或年度/月份不符时返回 400 并说明原因，只留下审计记录，不保存任何数据。"
        "计划表只读取各分行的数值，全省合计与增速由门户计算。校验结果中的位置为单元格（如 监测表!B5、计划表!C6）。"
        "联系人和文件类报表没有 Excel 模板。",
        request={"multipart/form-data": WorkbookUploadSerializer},
        responses={201: SavedVersionSerializer, **_errors(400, 403, 404, 409)},
    )
    def post(self, request, institution_id: int, period_id: int):
        institution, period = _institution_period(request, institution_id, period_id)
        access.require_capability(request.user, institution, access.PREPARE)
        body = WorkbookUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        name = upload.name or "upload.xlsx"
        received = services.read_limited(upload, settings.UPLOAD_MAX_BYTES)
        version = services.save_workbook(
            institution=institution,
            period=period,
            actor=request.user,
            data=received.data,
            filename=name,
            sha256=received.sha256,
            size=received.size,
            expected_lock_version=body.validated_data.get("lock_version"),
        )
        return Response(SavedVersionSerializer(_saved(version, None)).data, status=201)


class Template(DownloadView):
    @extend_schema(
        tags=["填报"],
        operation_id="filing_template",
        summary="下载 Excel 模板",
        description="本机构本期的 Excel 模板（.xlsx）：附件4 监测表或附件3 投放计划表；已有数据时预先填入当前版本的数值"
        "（计划表的全省合计与增速为公式）。联系人和文件类报表没有 Excel 模板，返回 400（no_template）。",
        responses={(200, XLSX): OpenApiTypes.BINARY, **_errors(400, 404)},
    )
    def get(self, request, institution_id: int, period_id: int):
        institution, period = _institution_period(request, institution_id, period_id)
        definition = definition_for(period.form, period.year)
        if period.form not in (Form.MONITORING, Form.PLAN):
            how = (
                "请通过 document/ 上传 PDF 或 Word（.docx）文件"
                if definition.layout == Layout.DOCUMENT
                else "请通过 values/ 报送，或在网页上填写"
            )
            raise ServiceError(
                f"该报表没有 Excel 模板（{period.get_form_display()}）：{how}。", code="no_template"
            )
        filing = (
            Filing.objects.filter(institution=institution, period=period)
            .select_related("current_version")
            .first()
        )
        values = {}
        if filing is not None and filing.current_version is not None:
            stored = parsing.values_from_json(filing.current_version.values, definition)
            values = {code: v for code, v in stored.items() if code in definition.codes}
        filer, phone = selectors.template_contact(institution, request.user)
        if period.form == Form.PLAN:
            data = excel.plan_template(
                definition, institution_name=institution.short_name, values=values, filer=filer, phone=phone
            )
            return _xlsx(data, f"{institution.short_name}-{period.key}-附件3投放计划表.xlsx")
        data = excel.monitoring_template(
            definition,
            institution_name=institution.name,
            year=period.year,
            month=period.month,
            values=values,
            filer=filer,
            phone=phone,
        )
        return _xlsx(data, f"{institution.short_name}-{period.key}-附件4监测表.xlsx")


class UploadDocument(ReportingView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=["填报"],
        operation_id="filing_document_upload",
        summary="上传文件（工作方案、经验做法）",
        description="上传工作方案或经验做法（字段 file）：PDF 或 Word（.docx），按文件内容判定类型，不看扩展名。"
        "空文件、超过大小上限、旧版 .doc、加密、含脚本/宏/外部模板的文件返回 400，error.code 为 D101–D113，"
        "只留下审计记录。每次上传保存为一个新版本。带上 lock_version 可防止覆盖他人的修改（不符返回 409）。",
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: SavedVersionSerializer, **_errors(400, 403, 404, 409)},
    )
    def post(self, request, institution_id: int, period_id: int):
        institution, period = _institution_period(request, institution_id, period_id)
        access.require_capability(request.user, institution, access.PREPARE)
        body = DocumentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        received = services.read_limited(upload, settings.UPLOAD_MAX_BYTES)
        version = services.save_document(
            institution=institution,
            period=period,
            actor=request.user,
            data=received.data,
            filename=upload.name or "document",
            sha256=received.sha256,
            size=received.size,
            expected_lock_version=body.validated_data.get("lock_version"),
            source=VersionSource.API,
        )
        return Response(SavedVersionSerializer(_saved(version, None)).data, status=201)


class DocumentFile(DownloadView):
    @extend_schema(
        tags=["报表"],
        operation_id="filing_document",
        summary="下载文件（工作方案、经验做法）",
        description="当前版本（或 ?version= 指定版本）上传的文件：PDF 以 inline 方式返回，可在浏览器中预览；"
        "Word（.docx）作为附件下载。不是文件类报表或尚未上传时返回 404。",
        parameters=[OpenApiParameter("version", int, required=False, description="版本号；缺省为当前版本")],
        responses={
            (200, DOCUMENT_CONTENT_TYPES["pdf"]): OpenApiTypes.BINARY,
            (200, DOCUMENT_CONTENT_TYPES["docx"]): OpenApiTypes.BINARY,
            **_errors(404),
        },
    )
    def get(self, request, pk: int):
        filing = _filing(request, pk)
        if definition_for(filing.period.form, filing.period.year).layout != Layout.DOCUMENT:
            return error_response(
                404, "not_found", f"{filing.period.get_form_display()}不是文件类报表，没有上传的文件。"
            )
        number = request.query_params.get("version")
        if number:
            version = filing.versions.filter(number=int(number) if number.isdigit() else -1).first()
        else:
            version = filing.current_version
        kind = document_type(version)
        if kind is None:
            return error_response(404, "not_found", "尚未上传文件（或该版本不存在）。")
        stem = (version.upload_name or f"{filing.institution.short_name}-{filing.period.key}").rsplit(".", 1)[
            0
        ]
        audit.record_download(
            request,
            what="documents",
            name=f"{filing.institution.short_name} {filing.period.label} 第 {version.number} 版文件（接口）",
            obj=version,
            institution=filing.institution,
        )
        response = FileResponse(
            version.upload.open("rb"),
            content_type=DOCUMENT_CONTENT_TYPES[kind],
            as_attachment=kind != "pdf",
            filename=f"{stem}.{kind}",  # the type the content was checked to be, whatever the name said
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class Explanations(ReportingView):
    @extend_schema(
        tags=["填报"],
        operation_id="filing_explanations_save",
        summary="填写预警说明",
        description="以当前版本的数值保存一个新版本，并附上预警说明。说明与当前版本的说明合并：未列出的沿用，"
        "传空字符串可删除。只保留与本版预警对应的说明，其余列在 ignored_explanations 中。",
        request={"application/json": ExplanationsInSerializer},
        responses={201: SavedVersionSerializer, **_errors(400, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        filing = _filing(request, pk)
        access.require_capability(request.user, filing.institution, access.PREPARE)
        body = ExplanationsInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        current = filing.current_version
        if definition_for(filing.period.form, filing.period.year).layout == Layout.DOCUMENT:
            # a new version from the current values would drop the file: documents have no warnings anyway
            raise ServiceError("文件类报表没有预警，不需要填写说明。", code="not_applicable")
        if current is None:
            raise ServiceError("尚未填报任何数据，请先报送数值或上传监测表。", code="no_version")
        posted = body.validated_data["explanations"]
        lock_version = body.validated_data.get("lock_version")
        version = services.save_version(
            institution=filing.institution,
            period=filing.period,
            actor=request.user,
            raw=current.values,
            source=VersionSource.API,
            explanations={**current.explanations, **posted},
            # the values were read just now: if anyone saved since, refuse rather than overwrite their values
            expected_lock_version=filing.lock_version if lock_version is None else lock_version,
        )
        return Response(SavedVersionSerializer(_saved(version, posted)).data, status=201)


# --- workflow ---------------------------------------------------------------------------------


class Submit(ReportingView):
    @extend_schema(
        tags=["审核流程"],
        operation_id="filing_submit",
        summary="提交",
        description="分管领导（签批人）提交当前版本，须 confirm=true。有错误（has_errors）或预警未说明（unexplained）"
        "时返回 400，details 列出相关校验结果。成功返回回执编号。",
        request={"application/json": SubmitInSerializer},
        responses={200: SubmitOutSerializer, **_errors(400, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        filing = _filing(request, pk)
        access.require_capability(request.user, filing.institution, access.SUBMIT)
        body = SubmitInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = services.submit(
            filing=filing,
            actor=request.user,
            confirm=body.validated_data.get("confirm", False),
            expected_lock_version=body.validated_data.get("lock_version"),
        )
        filing.refresh_from_db()
        result = {
            "filing": filing,
            "version": version.number,
            "receipt_no": version.receipt_no,
            "submitted_at": version.submitted_at,
            "attestation": version.attestation,
        }
        return Response(SubmitOutSerializer(result).data)


class Approve(ReportingView):
    @extend_schema(
        tags=["审核流程"],
        operation_id="filing_approve",
        summary="审核通过",
        description="人民银行经办审核通过已提交的报表，报表随即锁定。已被他人处理时返回 409。",
        request={"application/json": ReviewInSerializer},
        responses={200: FilingSerializer, **_errors(400, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        filing = _filing(request, pk)
        access.require_capability(request.user, filing.institution, access.REVIEW)
        body = ReviewInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        filing = services.approve(
            filing=filing,
            actor=request.user,
            expected_lock_version=body.validated_data.get("lock_version"),
        )
        return Response(FilingSerializer(filing).data)


class Return(ReportingView):
    @extend_schema(
        tags=["审核流程"],
        operation_id="filing_return",
        summary="退回",
        description="人民银行经办退回已提交的报表，必须填写退回原因，可附逐项意见（字段代码 → 意见）。",
        request={"application/json": ReturnInDocSerializer},
        responses={200: FilingSerializer, **_errors(400, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        filing = _filing(request, pk)
        access.require_capability(request.user, filing.institution, access.REVIEW)
        body = ReturnInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        filing = services.return_filing(
            filing=filing,
            actor=request.user,
            reason=body.validated_data["reason"],
            field_comments=body.validated_data["field_comments"],
            expected_lock_version=body.validated_data.get("lock_version"),
        )
        return Response(FilingSerializer(filing).data)


class Reopen(ReportingView):
    @extend_schema(
        tags=["审核流程"],
        operation_id="filing_reopen",
        summary="重新打开",
        description="人民银行经办重新打开已通过的报表（退回机构更正），必须填写原因。",
        request={"application/json": ReopenInDocSerializer},
        responses={200: FilingSerializer, **_errors(400, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        filing = _filing(request, pk)
        access.require_capability(request.user, filing.institution, access.REVIEW)
        body = ReopenInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        filing = services.reopen(
            filing=filing,
            actor=request.user,
            reason=body.validated_data["reason"],
            expected_lock_version=body.validated_data.get("lock_version"),
        )
        return Response(FilingSerializer(filing).data)


class BulkApprove(ReportingView):
    @extend_schema(
        tags=["审核流程"],
        operation_id="filings_bulk_approve",
        summary="批量审核通过",
        description="一次通过多张没有任何错误和预警的已提交报表；其余报表跳过，留待逐一审核。"
        "返回通过、跳过及不存在（或无权查看）的报表 id。",
        request={"application/json": BulkApproveInSerializer},
        responses={200: BulkApproveOutSerializer, **_errors(400, 403)},
    )
    def post(self, request):
        body = BulkApproveInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = list(dict.fromkeys(body.validated_data["filings"]))
        filings = list(
            access.scope_by_institution(request.user, Filing.objects.filter(pk__in=ids))
            .select_related("institution", "period", "current_version")
            .order_by("pk")
        )
        before = {f.pk: f.status for f in filings}
        services.bulk_approve(filings=filings, actor=request.user)
        after = dict(Filing.objects.filter(pk__in=before).values_list("pk", "status"))
        approved = [
            pk
            for pk in ids
            if before.get(pk) == FilingStatus.SUBMITTED and after.get(pk) == FilingStatus.APPROVED
        ]
        result = {
            "approved": approved,
            "skipped": [pk for pk in ids if pk in before and pk not in approved],
            "not_found": [pk for pk in ids if pk not in before],
        }
        return Response(BulkApproveOutSerializer(result).data, status=status.HTTP_200_OK)
