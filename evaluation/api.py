"""/api/v1/evaluations/ — the 四张清单 evaluation for the branch's and banks' systems: list evaluations, read the
result table (PBoC) or one's own result (banks, after publication), and score a 定性 item (PBoC officers).

Each view resolves the evaluation through `evaluation.selectors` (which scopes by `institutions.access`; another
jurisdiction's evaluation is a 404) and calls the same services as the pages. Refusals come back in the one
error shape of `portal.api`: {"error": {"code", "message", "details"}} — 400 bad input (which and why), 403,
404, 409 when another officer changed the score since `lock_version`.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from institutions import access
from portal.api import ErrorSerializer

from . import grading, scoring, selectors, services
from .models import ItemKind, Status

_ERRORS = {
    400: "请求被拒绝：得分超出范围、评估已发布锁定等（见 error.message）。",
    401: "未登录或令牌无效。",
    403: "您无权执行此操作（如银行评分、经办为不跟踪的机构评分）。",
    404: "评估或机构不存在，或您无权查看。",
    409: "冲突：该项评分已被他人修改（lock_version 不符），请重新读取后再保存。",
}


def _errors(*codes: int) -> dict:
    return {code: OpenApiResponse(ErrorSerializer, description=_ERRORS[code]) for code in (401, *codes)}


class EvaluationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    year = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField(help_text="draft 草稿 / published 已发布 / superseded 已被取代")
    what_if_of = serializers.IntegerField(
        source="based_on_id", allow_null=True, help_text="模拟测算所依据的评估编号"
    )
    jurisdiction = serializers.CharField(source="jurisdiction.name")
    published_at = serializers.DateTimeField(allow_null=True)
    lock_version = serializers.IntegerField()


class ItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text="qualitative 定性 / quantitative 定量")
    weight = serializers.DecimalField(max_digits=6, decimal_places=2)
    method = serializers.CharField(
        help_text="定量计分方法：linear / linear_target / ratio_best / rank / steps"
    )


class RowSerializer(serializers.Serializer):
    institution_id = serializers.IntegerField()
    name = serializers.CharField()
    group = serializers.CharField(source="group_name")
    total = serializers.CharField(help_text="总分，两位小数（四舍五入）")
    total_unrounded = serializers.CharField(help_text="未舍入总分（12 位小数）")
    rank = serializers.IntegerField(help_text="组内排名，同分同名次")
    grade = serializers.CharField(help_text="组间评估结果：优秀 / 良好 / 一般 / 勉励")
    rule_grade = serializers.CharField(help_text="按评级规则的结果（调整前）")
    override_reason = serializers.CharField(help_text="调整理由；未调整为空")
    scores = serializers.DictField(child=serializers.CharField(), help_text="项目代码 → 得分（两位小数）")


class ResultsSerializer(serializers.Serializer):
    evaluation = EvaluationSerializer()
    live = serializers.BooleanField(help_text="true：草稿按当前评分实时计算，未发布")
    grading = serializers.CharField(help_text="评级规则")
    items = ItemSerializer(many=True)
    rows = RowSerializer(many=True)
    problems = serializers.ListField(child=serializers.CharField(), help_text="草稿尚不能计算的原因")


class ScoreInSerializer(serializers.Serializer):
    value = serializers.CharField(
        required=False, allow_blank=True, help_text="项目得分（0 至分值，最多两位小数）"
    )
    criteria = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="按评分要点打分：要点代码 → 得分；项目得分为各要点之和",
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    lock_version = serializers.IntegerField(
        required=False, allow_null=True, help_text="读取时的修订号（尚无评分为 0）；与当前不符时返回 409"
    )


class ScoreOutSerializer(serializers.Serializer):
    institution_id = serializers.IntegerField()
    item = serializers.CharField(source="item.code")
    value = serializers.DecimalField(max_digits=6, decimal_places=2)
    criteria = serializers.DictField(child=serializers.CharField())
    comment = serializers.CharField()
    lock_version = serializers.IntegerField()


def _rows(table) -> list[dict]:
    codes = [i.code for i in table.ordered_items]
    return [
        {
            "institution_id": r.institution_id,
            "group_name": r.group_name,
            "name": r.name,
            "total": scoring.text(r.total),
            "total_unrounded": f"{r.total}",
            "rank": r.rank,
            "grade": r.grade_label,
            "rule_grade": grading.GRADE_LABELS[r.computed_grade],
            "override_reason": r.override_reason,
            "scores": {c: scoring.text(s) for c, s in zip(codes, r.scores, strict=True)},
        }
        for r in table.rows
    ]


class EvaluationView(APIView):
    """Base of the evaluation endpoints; a service's refusal is answered by portal.api.exception_handler."""


class EvaluationList(EvaluationView):
    @extend_schema(
        tags=["四张清单评估"],
        operation_id="evaluation_list",
        summary="评估列表",
        description="人民银行：本机构及下级组织的评估、跟踪机构参加的评估（含草稿与模拟测算）；银行：本行参加的评估。",
        responses={200: EvaluationSerializer(many=True), **_errors()},
    )
    def get(self, request):
        return Response(EvaluationSerializer(selectors.evaluations_for(request.user), many=True).data)


class EvaluationResults(EvaluationView):
    @extend_schema(
        tags=["四张清单评估"],
        operation_id="evaluation_results",
        summary="评估结果表",
        description=(
            "附件1 版式的结果：每家机构的分组、组间评估结果（含调整理由）、总分、组内排名和各项得分。"
            "人民银行看到所跟踪机构的行；银行只能在发布后看到本行一行。草稿按当前评分实时计算（live=true）。"
        ),
        responses={200: ResultsSerializer, **_errors(404)},
    )
    def get(self, request, pk: int):
        evaluation = selectors.get_evaluation(request.user, pk)
        if not access.is_pboc(request.user) and evaluation.status != Status.PUBLISHED:
            return Response(
                {"error": {"code": "not_published", "message": "评估结果发布后方可查看。", "details": None}},
                status=404,
            )
        table = selectors.visible_rows(request.user, selectors.results(evaluation))
        data = {
            "evaluation": evaluation,
            "live": table.live,
            "grading": table.grading_text,
            "items": table.ordered_items,
            "rows": _rows(table),
            "problems": table.problems if access.is_pboc(request.user) else [],
        }
        return Response(ResultsSerializer(data).data)


class Score(EvaluationView):
    @extend_schema(
        tags=["四张清单评估"],
        operation_id="evaluation_score",
        summary="定性评分",
        description=(
            "人民银行经办为所跟踪机构的一个定性项目评分：填写项目得分，或按评分要点打分（得分为各要点之和），"
            "可附评分意见。得分须在 0 至分值之间；评估发布后锁定。带上读取时的 lock_version，避免覆盖他人的评分。"
        ),
        request=ScoreInSerializer,
        responses={200: ScoreOutSerializer, **_errors(400, 403, 404, 409)},
    )
    def put(self, request, pk: int, institution_id: int, item_code: str):
        evaluation = selectors.get_evaluation(request.user, pk)
        institution = selectors.member_institution(request.user, evaluation, institution_id)
        item = get_object_or_404(evaluation.items, code=item_code, kind=ItemKind.QUALITATIVE)
        body = ScoreInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = services.score(
            actor=request.user,
            evaluation=evaluation,
            institution=institution,
            item=item,
            value=body.validated_data.get("value"),
            criteria=body.validated_data.get("criteria"),
            comment=body.validated_data.get("comment", ""),
            expected_lock_version=body.validated_data.get("lock_version"),
        )
        return Response(ScoreOutSerializer(row).data)
