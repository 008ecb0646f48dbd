"""Reads of the evaluation app: who sees which evaluation, the engine's frames from the ORM, results (live for
a draft, stored for a published evaluation), and the indicator values the 定量 items read. The report cards
built from them are evaluation.pages'.

Access is decided through `institutions.access` (visible_institutions, is_pboc, is_pboc_admin, can_review,
can_prepare) and nowhere else: the helpers here only combine those answers with the evaluation's state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
from django.db.models import Prefetch, Q
from django.http import Http404

from indicators import selectors as isel
from indicators import storage
from indicators.models import IndicatorMonth
from institutions import access
from institutions.models import Institution, PbocOffice

from . import grading, scoring
from .models import (
    Disclosure,
    Evaluation,
    Evidence,
    GradeOverride,
    Item,
    ItemInput,
    ItemKind,
    Member,
    PeerGroup,
    QualitativeScore,
    Result,
    ResultItem,
    Status,
)

# --- access --------------------------------------------------------------------------------------------------


def _office_ids(user) -> set[int]:
    return access.office_subtree_ids(user.office_id) if user.office_id else set()


def evaluations_for(user):
    """PBoC: evaluations run by their office or below it, or with a member they follow. Banks: the
    evaluations their institution takes part in — the open draft (to file their lists) and published ones;
    never a what-if and never another bank's results."""
    if not user.is_authenticated or not user.is_active:
        return Evaluation.objects.none()
    qs = Evaluation.objects.select_related("jurisdiction", "based_on")
    if access.is_pboc(user):
        if user.role == "sysadmin" or user.is_superuser:
            return qs
        visible = access.visible_institutions(user)
        return qs.filter(
            Q(jurisdiction_id__in=_office_ids(user)) | Q(members__institution__in=visible)
        ).distinct()
    return qs.filter(
        Q(status=Status.PUBLISHED) | Q(status=Status.DRAFT, based_on__isnull=True),
        members__institution__in=access.visible_institutions(user),
    ).distinct()


def evaluation_list(user):
    """The evaluations the user may see, newest year first, drafts before published ones."""
    return evaluations_for(user).order_by("-year", "status", "-id")


def get_evaluation(user, pk) -> Evaluation:
    try:
        return evaluations_for(user).get(pk=pk)
    except (Evaluation.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该评估，或您无权查看。") from None


def can_manage(user, evaluation: Evaluation) -> bool:
    """Scheme, grading, 取数, what-if, publishing: a PBoC admin of the organising office (or above it)."""
    if not access.is_pboc_admin(user):
        return False
    return user.role == "sysadmin" or user.is_superuser or evaluation.jurisdiction_id in _office_ids(user)


def is_member(evaluation: Evaluation, institution: Institution) -> bool:
    return Member.objects.filter(evaluation=evaluation, institution=institution).exists()


def can_score(user, evaluation: Evaluation, institution: Institution) -> bool:
    """定性评分 and grade overrides: PBoC officers who follow the institution, while the evaluation is an
    original draft (a what-if only changes the scheme)."""
    return evaluation.is_draft and not evaluation.is_what_if and access.can_review(user, institution)


def can_file_evidence(user, evaluation: Evaluation, institution: Institution) -> bool:
    return evaluation.is_draft and not evaluation.is_what_if and access.can_prepare(user, institution)


def member_institution(user, evaluation: Evaluation, pk) -> Institution:
    """An institution of the evaluation the user may see, else 404."""
    institution = access.get_institution(user, pk)
    if not is_member(evaluation, institution):
        raise Http404("该机构未参加本次评估。")
    return institution


def can_see_card(user, evaluation: Evaluation, institution: Institution) -> bool:
    """A bank sees its own card only once the evaluation is published; PBoC users every institution they
    follow, drafts included."""
    if not access.visible_institutions(user).filter(pk=institution.pk).exists():
        return False
    if access.is_pboc(user):
        return True
    return evaluation.status == Status.PUBLISHED


# --- the engine's inputs from the ORM ------------------------------------------------------------------------


def items_of(evaluation: Evaluation) -> list[Item]:
    return list(evaluation.items.prefetch_related("criteria").order_by("order", "id"))


def item_spec(item: Item) -> scoring.ItemSpec:
    steps = tuple(sorted((Decimal(str(s["min"])), Decimal(str(s["share"]))) for s in (item.steps or [])))
    return scoring.ItemSpec(
        code=item.code,
        name=item.name,
        kind=item.kind,
        weight=item.weight,
        method=item.method,
        floor_share=item.floor_share,
        target=item.target,
        steps=steps,
        criteria=tuple(
            scoring.Criterion(code=c.code, name=c.name, max_points=c.max_points) for c in item.criteria.all()
        ),
    )


def grading_spec(evaluation: Evaluation) -> grading.GradingSpec:
    return grading.GradingSpec(method=evaluation.grading_method, thresholds=tuple(evaluation.thresholds))


def scheme_of(evaluation: Evaluation, items: list[Item] | None = None) -> scoring.Scheme:
    items = items if items is not None else items_of(evaluation)
    groups = tuple(evaluation.groups.order_by("order", "code").values_list("code", "name"))
    return scoring.Scheme(
        total_weight=evaluation.total_weight,
        items=tuple(item_spec(i) for i in items),
        groups=groups,
        grading=grading_spec(evaluation),
    )


def member_frame(evaluation: Evaluation) -> pd.DataFrame:
    rows = Member.objects.filter(evaluation=evaluation).values_list(
        "institution_id", "institution__short_name", "group__code", "institution__order"
    )
    return pd.DataFrame(list(rows), columns=["institution", "name", "group", "order"])


def qualitative_frame(evaluation: Evaluation) -> pd.DataFrame:
    rows = QualitativeScore.objects.filter(evaluation=evaluation).values_list(
        "institution_id", "item__code", "value"
    )
    return pd.DataFrame(list(rows), columns=["institution", "item", "score"])


def input_frame(evaluation: Evaluation) -> pd.DataFrame:
    rows = ItemInput.objects.filter(evaluation=evaluation).values_list(
        "institution_id", "item__code", "value", "reason"
    )
    return pd.DataFrame(list(rows), columns=["institution", "item", "value", "reason"])


def overrides_of(evaluation: Evaluation) -> dict[int, tuple[str, str]]:
    return {
        o.institution_id: (o.grade, o.reason) for o in GradeOverride.objects.filter(evaluation=evaluation)
    }


def compute(evaluation: Evaluation, items: list[Item] | None = None) -> scoring.Outcome:
    """Score the evaluation now from its current scores and inputs (raises scoring.ScoringError)."""
    return scoring.evaluate(
        scheme=scheme_of(evaluation, items),
        members=member_frame(evaluation),
        qualitative=qualitative_frame(evaluation),
        quantitative=input_frame(evaluation),
        overrides=overrides_of(evaluation),
    )


def stored_outcome(evaluation: Evaluation, items: list[Item] | None = None) -> scoring.Outcome:
    """A published evaluation's frozen results in the engine's shape (four queries)."""
    items = items if items is not None else items_of(evaluation)
    scheme = scheme_of(evaluation, items)
    results = list(
        Result.objects.filter(evaluation=evaluation).select_related("group", "institution").order_by("pk")
    )
    parts = {(p.result_id, p.item_id): p for p in ResultItem.objects.filter(result__evaluation=evaluation)}
    frame = pd.DataFrame(
        {
            "name": [r.institution.short_name for r in results],
            "group": [r.group.code for r in results],
            "order": [r.institution.order for r in results],
        },
        index=pd.Index([r.institution_id for r in results], name="institution"),
    )
    inputs = pd.DataFrame(index=frame.index)
    for item in items:
        frame[item.code] = pd.Series(
            [parts[(r.pk, item.pk)].score for r in results], index=frame.index, dtype=object
        )
        if item.kind == ItemKind.QUANTITATIVE:
            inputs[item.code] = pd.Series(
                [parts[(r.pk, item.pk)].input_value for r in results], index=frame.index, dtype=object
            )
    frame["total"] = pd.Series([r.total for r in results], index=frame.index, dtype=object)
    frame = frame.join(grading.published_totals(frame[["group", "total"]]))
    frame["rank"] = [r.rank for r in results]
    frame["computed_grade"] = [r.computed_grade for r in results]
    frame["grade"] = [r.grade for r in results]
    frame["override_reason"] = [r.override_reason for r in results]
    return scoring.Outcome(scheme=scheme, frame=frame, inputs=inputs)


# --- results as pages and reports show them ------------------------------------------------------------------


@dataclass
class Row:
    institution_id: int
    name: str
    group: str
    group_name: str
    total: Decimal
    rank: int
    grade: str
    computed_grade: str
    override_reason: str
    scores: list[Decimal]  # in the order of ResultTable.items
    inputs: dict[str, Decimal | None]

    @property
    def shown_total(self) -> Decimal:
        return scoring.half_up(self.total)

    @property
    def grade_label(self) -> str:
        return grading.GRADE_LABELS[self.grade]

    @property
    def overridden(self) -> bool:
        return bool(self.override_reason)


@dataclass
class ResultTable:
    """附件1 as the engine computed it: rows grouped and sorted as configured, the 定性 and 定量 headings."""

    evaluation: Evaluation
    items: list[Item]
    rows: list[Row] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    live: bool = False
    outcome: scoring.Outcome | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def families(self) -> list[tuple[str, Decimal, list[Item]]]:
        """[("定性", 60, [items]), ("定量", 40, [items])] — the two headings of 附件1."""
        out = []
        for kind, label in ItemKind.choices:
            members = [i for i in self.items if i.kind == kind]
            if members:
                out.append((str(label), sum((i.weight for i in members), Decimal(0)), members))
        return out

    @property
    def ordered_items(self) -> list[Item]:
        return [i for _label, _w, items in self.families for i in items]

    def groups(self) -> list[tuple[str, list[Row]]]:
        out: list[tuple[str, list[Row]]] = []
        for row in self.rows:
            if not out or out[-1][0] != row.group_name:
                out.append((row.group_name, []))
            out[-1][1].append(row)
        return out

    def row_for(self, institution_id: int) -> Row | None:
        return next((r for r in self.rows if r.institution_id == institution_id), None)

    @property
    def overridden(self) -> list[Row]:
        return [r for r in self.rows if r.overridden]

    @property
    def grading_text(self) -> str:
        return grading_spec(self.evaluation).describe()


def _table(evaluation: Evaluation, outcome: scoring.Outcome, items: list[Item], live: bool) -> ResultTable:
    table = ResultTable(evaluation=evaluation, items=items, live=live, outcome=outcome)
    group_names = dict(outcome.scheme.groups)
    ordered = table.ordered_items
    for key, r in outcome.ordered(evaluation.result_order).iterrows():
        table.rows.append(
            Row(
                institution_id=key,
                name=r["name"],
                group=r["group"],
                group_name=group_names.get(r["group"], r["group"]),
                total=r["total"],
                rank=int(r["rank"]),
                grade=r["grade"],
                computed_grade=r["computed_grade"],
                override_reason=r["override_reason"],
                scores=[r[i.code] for i in ordered],
                inputs={c: outcome.inputs.loc[key, c] for c in outcome.inputs.columns},
            )
        )
    table.stats = outcome.group_stats()
    return table


def results(evaluation: Evaluation) -> ResultTable:
    """Stored results of a published (or superseded) evaluation; a draft's computed now. A draft that cannot
    be computed yet comes back with `problems` and no rows."""
    items = items_of(evaluation)
    if evaluation.status != Status.DRAFT:
        return _table(evaluation, stored_outcome(evaluation, items), items, live=False)
    try:
        outcome = compute(evaluation, items)
    except scoring.ScoringError as exc:
        return ResultTable(evaluation=evaluation, items=items, problems=exc.problems, live=True)
    return _table(evaluation, outcome, items, live=True)


def visible_rows(user, table: ResultTable) -> ResultTable:
    """The table restricted to the institutions the user follows (group statistics stay whole-group)."""
    ids = set(access.visible_institutions(user).values_list("pk", flat=True))
    table.rows = [r for r in table.rows if r.institution_id in ids]
    return table


@dataclass
class Change:
    """One institution in a what-if: the published result beside the draft's."""

    name: str
    group_name: str
    before: Row | None
    after: Row | None
    items: list = field(default_factory=list)  # [(item name, published score, draft score)] by item code

    @property
    def delta(self) -> Decimal | None:
        if self.before is None or self.after is None:
            return None
        return self.after.shown_total - self.before.shown_total

    @property
    def grade_changed(self) -> bool:
        return bool(self.before and self.after and self.before.grade != self.after.grade)

    @property
    def rank_changed(self) -> bool:
        return bool(self.before and self.after and self.before.rank != self.after.rank)


def what_if(draft: Evaluation) -> tuple[ResultTable, ResultTable, list[Change]]:
    """The draft computed now beside the published evaluation it was copied from, institution by institution."""
    published = results(draft.based_on)
    current = results(draft)
    before_codes = [i.code for i in published.ordered_items]
    after_codes = [i.code for i in current.ordered_items]
    changes = []
    for before in published.rows:
        after = current.row_for(before.institution_id)
        pairs = []
        for item in current.ordered_items or published.ordered_items:
            old = before.scores[before_codes.index(item.code)] if item.code in before_codes else None
            new = after.scores[after_codes.index(item.code)] if after and item.code in after_codes else None
            pairs.append((item.name, old, new))
        changes.append(Change(before.name, before.group_name, before, after, pairs))
    return published, current, changes


# --- one institution ------------------------------------------------------------------------------------------


def scores_for(evaluation: Evaluation, institution: Institution) -> dict[int, QualitativeScore]:
    return {
        s.item_id: s
        for s in QualitativeScore.objects.filter(
            evaluation=evaluation, institution=institution
        ).select_related("scored_by")
    }


def inputs_for(evaluation: Evaluation, institution: Institution) -> dict[int, ItemInput]:
    return {i.item_id: i for i in ItemInput.objects.filter(evaluation=evaluation, institution=institution)}


def evidence_for(evaluation: Evaluation, institution: Institution):
    return Evidence.objects.filter(evaluation=evaluation, institution=institution).select_related(
        "uploaded_by"
    )


def disclosure_for(evaluation: Evaluation, institution: Institution) -> Disclosure | None:
    return Disclosure.objects.filter(evaluation=evaluation, institution=institution).first()


def override_for(evaluation: Evaluation, institution: Institution) -> GradeOverride | None:
    """The officer's grade override of the institution, with who decided it."""
    return evaluation.overrides.filter(institution=institution).select_related("decided_by").first()


def input_sources(evaluation: Evaluation) -> dict[int, str]:
    """Item id → where its values were read from (the first institution's, in the members' order)."""
    sources: dict[int, str] = {}
    for item_id, source in ItemInput.objects.filter(evaluation=evaluation).values_list("item_id", "source"):
        sources.setdefault(item_id, source)
    return sources


def has_inputs(evaluation: Evaluation) -> bool:
    return ItemInput.objects.filter(evaluation=evaluation).exists()


def draft_what_ifs(evaluation: Evaluation):
    """The what-if copies of an evaluation still being tried, newest first."""
    return evaluation.what_ifs.filter(status=Status.DRAFT).order_by("-id")


def report_jobs_of(evaluation: Evaluation, user, limit: int = 5) -> list:
    """The user's own latest report-card batches of the evaluation."""
    return list(evaluation.jobs.filter(created_by=user)[:limit])


def offices_for_new_evaluation(user):
    """The PBoC offices a PBoC admin may create an evaluation for: their own office and those below it, or
    every office for an admin of no office; none for anyone else."""

    if not access.is_pboc_admin(user):
        return PbocOffice.objects.none()
    if not user.office_id:
        return PbocOffice.objects.order_by("code")
    return PbocOffice.objects.filter(pk__in=access.office_subtree_ids(user.office_id)).order_by("code")


def scoring_progress(evaluation: Evaluation) -> dict[int, int]:
    """{institution_id: number of 定性 items scored}."""
    counts: dict[int, int] = {}
    for inst in QualitativeScore.objects.filter(evaluation=evaluation).values_list(
        "institution_id", flat=True
    ):
        counts[inst] = counts.get(inst, 0) + 1
    return counts


def members_with_groups(evaluation: Evaluation, user=None) -> list[tuple[PeerGroup, list[Member]]]:
    members = Member.objects.filter(evaluation=evaluation).select_related("institution")
    if user is not None:
        members = members.filter(institution__in=access.visible_institutions(user))
    groups = evaluation.groups.order_by("order", "code").prefetch_related(
        Prefetch("members", queryset=members.order_by("institution__order"), to_attr="shown_members")
    )
    return [(g, g.shown_members) for g in groups]


# --- indicators (read from the indicators app's stored values) -------------------------------------------------

NO_VALUE = "该月指标尚未计算，或该机构没有已审核通过的监测表"


def indicator_values(
    *, code: str, year: int, month: int, institution_ids
) -> dict[int, tuple[Decimal | None, str]]:
    """An indicator at a month-end for each institution, from the stored indicators (one query):
    {institution_id: (value, reason)} — value None with the reason when it is undefined or not computed."""
    keys = {str(pk): pk for pk in institution_ids}
    found = {
        keys[s.scope_key]: (s.value, s.reason)
        for s in storage.read(
            IndicatorMonth.objects.filter(
                scope_kind="institution", scope_key__in=list(keys), year=year, month=month
            ),
            [code],
        )
    }
    return {pk: found.get(pk, (None, NO_VALUE)) for pk in keys.values()}


def institution_indicators(institution: Institution, year: int):
    """The institution's stored indicators of `year` and the year before (its targets are checked on them)."""

    return isel.ValueTable.stored(
        Q(scope_kind="institution", scope_key=str(institution.pk), year__in=[year - 1, year])
    )


def indicator_series_many(*, codes: list[str], year: int, scopes: list[tuple[str, str]]) -> dict:
    """Monthly values over `year` of indicators for (scope_kind, scope_key) pairs, in one query:
    {(code, scope): [12 values, None where undefined]}."""
    q = Q()
    for kind, key in scopes:
        q |= Q(scope_kind=kind, scope_key=key)
    out = {(code, scope): [None] * 12 for code in codes for scope in scopes}
    if not scopes or not codes:
        return out
    for s in storage.read(IndicatorMonth.objects.filter(q, year=year), codes):
        out[(s.code, (s.scope_kind, s.scope_key))][s.month - 1] = s.value
    return out
