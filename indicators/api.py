"""/api/v1/indicators/ — the stored indicator values for the banks' and the branch's systems.

The same stored values (`indicators.storage`) the dashboard, the exports and the bulletin read: per
institution, evaluation group, institution kind and the province, per month, each with its shown text (rounded
once, with its unit), the reason when it is "—", the basis (contributors / members) and the data cut-off of the
refresh that wrote it. Scoped through `institutions.access`: a bank sees its own institution's rows, each with its group's
median (withheld when fewer than 3 peers report, so that it never reveals one bank's figure) and nothing of
any peer; PBoC users see their jurisdiction's institutions and every aggregate, as on the dashboard.
"""

from collections import defaultdict

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from institutions import access
from institutions.models import Institution
from portal.api import ErrorSerializer
from reporting.serializers import QueryFilterSerializer

from . import indicators as ind
from . import pages, selectors, storage
from .models import IndicatorLayout, IndicatorMonth, ScopeKind

_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="查询参数有误（见 error.details）。"),
    401: OpenApiResponse(ErrorSerializer, description="未登录或令牌无效。"),
}


class IndicatorSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField(source="unit_label", help_text="亿元、户、%、BP、个百分点、万元；达标类为空")
    group = serializers.CharField(help_text="增量、扩面、降价、两增、计划完成、政策资金")
    formula = serializers.CharField()
    decimals = serializers.IntegerField(source="places", help_text="显示的小数位数（百分比按百分数计）")
    share = serializers.BooleanField(help_text="true：value 为小数，显示为百分比（0.0883 → 8.83%）")
    test = serializers.BooleanField(help_text="true：达标类检验，value 1 为达标、0 为未达标")
    note = serializers.CharField()


class ValueFilterSerializer(QueryFilterSerializer):
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100, help_text="年度")
    month = serializers.IntegerField(required=False, min_value=1, max_value=12, help_text="月份")
    scope_kind = serializers.ChoiceField(
        choices=ScopeKind.choices, required=False, help_text="institution / group / kind / province"
    )
    scope_key = serializers.CharField(
        required=False, max_length=20, help_text="机构 id、评估分组（G1…）、机构类型代码或 420000（全省）"
    )
    code = serializers.ChoiceField(choices=list(ind.CODES), required=False, help_text="指标代码")


class ValueSerializer(serializers.Serializer):
    scope_kind = serializers.CharField()
    scope_key = serializers.CharField()
    scope_label = serializers.CharField(help_text="机构简称、分组、机构类型或“全省”")
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    code = serializers.CharField()
    value = serializers.CharField(allow_null=True, help_text="未舍入的存储值（小数文本）；无法计算为 null")
    text = serializers.CharField(help_text="显示值，按指标的小数位四舍五入一次并带单位；无法计算为“—”")
    unit = serializers.CharField()
    reason = serializers.CharField(help_text="为“—”的原因；有数值时为空")
    contributors = serializers.IntegerField(help_text="数据齐全、参与计算的机构数")
    members = serializers.IntegerField(
        help_text="范围内适用的机构数；contributors < members 时为部分机构的合计"
    )
    basis = serializers.CharField(help_text="汇总范围的“参与/范围内”机构数，如 15/24；机构本身为空")
    group_median = serializers.CharField(
        allow_null=True,
        help_text="机构行：所在评估分组的中位数（组内少于 3 家有数值时为 null）；汇总行为 null",
    )
    group_median_text = serializers.CharField(help_text="组内中位数的显示值，或“—”")
    data_cutoff = serializers.DateTimeField(allow_null=True, help_text="数据截至：写入该值的指标刷新完成时间")
    latest_approval_at = serializers.DateTimeField(
        allow_null=True, help_text="该次刷新纳入的最近一次审核通过时间"
    )


class IndicatorList(APIView):
    pagination_class = None

    @extend_schema(
        tags=["监测指标"],
        operation_id="indicator_definitions_list",
        summary="指标定义",
        description="门户计算的全部监测指标：代码、名称、单位、类别、公式、显示小数位。",
        responses={200: IndicatorSerializer(many=True), 401: _ERRORS[401]},
    )
    def get(self, request):
        return Response(IndicatorSerializer(list(ind.INDICATORS), many=True).data)


def _visible_values(user):
    """The rows the user may read: a bank its own institution's; PBoC its jurisdiction's and every aggregate
    but a kind that would show one or two institutions outside the jurisdiction (selectors.revealing_kinds)."""
    qs = IndicatorMonth.objects.all()
    if access.is_pboc(user):
        if user.role == "sysadmin" or user.is_superuser:
            return qs
        keys = [str(pk) for pk in access.visible_institutions(user).values_list("pk", flat=True)]
        aggregates = qs.exclude(scope_kind=ScopeKind.INSTITUTION).exclude(
            scope_kind=ScopeKind.KIND, scope_key__in=selectors.revealing_kinds(user)
        )
        return aggregates | qs.filter(scope_kind=ScopeKind.INSTITUTION, scope_key__in=keys)
    keys = [str(pk) for pk in access.visible_institutions(user).values_list("pk", flat=True)]
    return qs.filter(scope_kind=ScopeKind.INSTITUTION, scope_key__in=keys)


class StoredValues:
    """The stored values of a queryset of IndicatorMonth rows, one item per indicator, as a sequence the
    paginator counts and slices: rows in the queryset's order, each row's indicators by code (or just
    `code`). Only the rows of the requested page are read."""

    def __init__(self, queryset, code: str | None = None):
        self.queryset = queryset
        self.code = code
        self._count: int | None = None
        self._width: int | None = None  # items per row, when every row has as many
        self._widths: list[tuple[int, int]] = []  # (first item, items) per row, when rows differ
        self._layouts: dict[str, tuple[str, ...]] = {}

    def _codes(self) -> list[str]:
        if self.code:
            return [self.code]
        return sorted({c for codes in self._layouts.values() for c in codes})

    def _width_of(self, codes: tuple[str, ...]) -> int:
        return (1 if self.code in codes else 0) if self.code else len(codes)

    def count(self) -> int:
        if self._count is None:
            # one layout stored (as after any full refresh): no need to look at the rows for theirs
            keys = set(IndicatorLayout.objects.values_list("key", flat=True)[:2])
            if len(keys) != 1:
                keys = set(self.queryset.order_by().values_list("layout_key", flat=True).distinct())
            self._layouts = storage.layout_codes(keys)
            widths = {k: self._width_of(codes) for k, codes in self._layouts.items()}
            if len(set(widths.values())) <= 1:
                self._width = next(iter(widths.values()), 0)
                self._count = self.queryset.count() * self._width
            else:  # layouts of two registries side by side (before the refresh after a change of indicators)
                total = 0
                for layout in self.queryset.values_list("layout_key", flat=True):
                    self._widths.append((total, widths[layout]))
                    total += widths[layout]
                self._count = total
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[storage.Stored]:
        start, stop = item.start or 0, min(item.stop, self.count())
        if start >= stop:
            return []
        if self._width is not None:
            first, last = start // self._width, (stop - 1) // self._width + 1
            skip = start - first * self._width
        else:
            first = max(i for i, (at, _w) in enumerate(self._widths) if at <= start)
            last = max(i for i, (at, _w) in enumerate(self._widths) if at < stop) + 1
            skip = start - self._widths[first][0]
        codes = self._codes()
        items = list(storage.read(self.queryset[first:last], codes))
        return items[skip : skip + (stop - start)]


def _medians(rows: list[storage.Stored]) -> dict:
    """{(institution key, year, month, code): group median} for the institution rows of one page."""
    wanted = [r for r in rows if r.scope_kind == ScopeKind.INSTITUTION]
    if not wanted:
        return {}
    groups = dict(Institution.objects.values_list("pk", "evaluation_group"))
    members = defaultdict(list)
    for pk, group in groups.items():
        members[group].append(str(pk))
    peers = {groups.get(int(r.scope_key)) for r in wanted if r.scope_key.isdigit()}
    keys = [k for g in peers for k in members.get(g, [])]
    values = defaultdict(list)
    for s in storage.read(
        IndicatorMonth.objects.filter(
            scope_kind=ScopeKind.INSTITUTION,
            scope_key__in=keys,
            year__in={r.year for r in wanted},
            month__in={r.month for r in wanted},
        ),
        sorted({r.code for r in wanted}),
    ):
        values[(groups.get(int(s.scope_key)), s.year, s.month, s.code)].append(s.value)
    out = {}
    for r in wanted:
        group = groups.get(int(r.scope_key)) if r.scope_key.isdigit() else None
        indicator = ind.get(r.code) if r.code in ind.REGISTRY else None
        if indicator is None or indicator.test:
            continue
        out[(r.scope_key, r.year, r.month, r.code)] = ind.median(
            values.get((group, r.year, r.month, r.code), [])
        )
    return out


@extend_schema_view(
    get=extend_schema(
        tags=["监测指标"],
        operation_id="indicator_values_list",
        summary="指标值",
        description=(
            "门户存储的监测指标值，与监测指标总览、导出表和监测通报中的数字相同：按机构、评估分组、机构类型、全省，"
            "按月。value 为未舍入的存储值，text 为显示值（只在显示时四舍五入一次，带单位），无法计算时 value 为 null、"
            "text 为“—”、reason 说明原因；contributors / members 为参与计算的机构数和范围内机构数；data_cutoff 为数据截至。"
            "银行只能看到本机构的指标值及所在分组的中位数；人民银行看到辖区内机构和全部汇总。分页：limit / offset。"
        ),
        parameters=[ValueFilterSerializer],
        responses={200: ValueSerializer(many=True), **_ERRORS},
    )
)
class ValueList(generics.ListAPIView):
    serializer_class = ValueSerializer

    def get_queryset(self):
        query = ValueFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = {k: v for k, v in query.validated_data.items() if v not in (None, "")}
        code = filters.pop("code", None)
        return StoredValues(
            _visible_values(self.request.user)
            .filter(**filters)
            .order_by("-year", "-month", "scope_kind", "scope_key", "pk"),
            code,
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = list(page)
        medians = _medians(rows)
        names = dict(
            Institution.objects.filter(
                pk__in=[
                    int(r.scope_key)
                    for r in rows
                    if r.scope_kind == ScopeKind.INSTITUTION and r.scope_key.isdigit()
                ]
            ).values_list("pk", "short_name")
        )
        cutoffs = {year: selectors.as_of(year) for year in {r.year for r in rows}}
        data = []
        for r in rows:
            indicator = ind.REGISTRY.get(r.code)
            institution = r.scope_kind == ScopeKind.INSTITUTION
            median = medians.get((r.scope_key, r.year, r.month, r.code))
            as_of = cutoffs[r.year]
            data.append(
                {
                    "scope_kind": r.scope_kind,
                    "scope_key": r.scope_key,
                    "scope_label": pages.scope_label(r.scope_kind, r.scope_key, names)
                    if not institution or r.scope_key.isdigit()
                    else r.scope_key,
                    "year": r.year,
                    "month": r.month,
                    "code": r.code,
                    "value": None if r.value is None else str(r.value),
                    "text": indicator.text(r.value, with_unit=True) if indicator else "—",
                    "unit": indicator.unit_label if indicator else "",
                    "reason": r.reason,
                    "contributors": r.contributors,
                    "members": r.members,
                    "basis": "" if institution else f"{r.contributors}/{r.members}",
                    "group_median": None if median is None else str(median),
                    "group_median_text": indicator.text(median, with_unit=True) if indicator else "—",
                    "data_cutoff": as_of.finished_at,
                    "latest_approval_at": as_of.latest_approval_at,
                }
            )
        return self.get_paginated_response(ValueSerializer(data, many=True).data)
