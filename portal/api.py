"""One error shape for the whole API, with Chinese messages:

{"error": {"code": "validation_error", "message": "…", "details": {...}}}
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, pagination, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from . import errors
from .errors import ServiceError

MESSAGES = {
    exceptions.NotAuthenticated: (
        "not_authenticated",
        "未登录或未提供有效令牌：请在请求头加入 Authorization: Token <令牌>。",
    ),
    exceptions.AuthenticationFailed: ("authentication_failed", "身份验证失败：令牌无效或已停用。"),
    exceptions.PermissionDenied: ("permission_denied", "您无权执行此操作。"),
    exceptions.NotFound: ("not_found", "未找到该对象，或您无权查看。"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "不支持该请求方法。"),
    exceptions.ParseError: ("parse_error", "请求内容无法解析：请检查 JSON 格式。"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "不支持的请求内容类型。"),
    exceptions.Throttled: ("throttled", "请求过于频繁，请稍后再试。"),
    exceptions.ValidationError: ("validation_error", "提交的数据有误，请按提示修改。"),
}


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


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):  # a service's refusal keeps its status, code and details
        return Response(errors.body(exc), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code, message = MESSAGES.get(type(exc), (getattr(exc, "default_code", "error"), None))
    detail = response.data
    if isinstance(exc, exceptions.ValidationError):
        details = detail
    else:
        if isinstance(detail, dict) and "detail" in detail:
            custom = str(detail["detail"])
            if custom and custom != str(type(exc).default_detail):
                message = custom
        details = None
    body = {"error": {"code": code, "message": message or str(exc.detail), "details": details}}
    return Response(body, status=response.status_code, headers=dict(response.items()))


class Pagination(pagination.LimitOffsetPagination):
    """limit/offset paging with a ceiling: an absurd ?limit= is clamped, never passed to the database.

    A limit or offset that is given must be what the schema says — one whole number, limit ≥ 1, offset ≥ 0 —
    or the request is refused with a 400 naming the parameter (DRF's own paginator would quietly read
    `offset=null`, `limit=` or a repeated parameter as the first page)."""

    max_limit = 1000
    default_limit = 100
    MINIMUM = {"limit": 1, "offset": 0}

    def _given(self, request, name: str, minimum: int) -> int | None:
        values = request.query_params.getlist(name)
        if not values:
            return None
        if len(values) == 1 and values[0].isascii() and values[0].isdigit() and int(values[0]) >= minimum:
            return int(values[0])
        raise exceptions.ValidationError({name: [f"须为不小于 {minimum} 的整数，且只能给出一次。"]})

    def get_limit(self, request):
        limit = self._given(request, self.limit_query_param, self.MINIMUM["limit"])
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request):
        offset = self._given(request, self.offset_query_param, self.MINIMUM["offset"])
        return offset or 0

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = self.MINIMUM[parameter["name"]]
        return parameters
