"""Read-only views of the evaluation for system admins. Every change goes through evaluation.services (audited),
from the portal's own pages, never through the Django admin."""

from django.contrib import admin

from .models import Evaluation, GradeOverride, QualitativeScore, ReportJob, Result


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnly):
    list_display = ["year", "title", "jurisdiction", "status", "based_on", "published_at"]
    list_filter = ["status", "year"]


@admin.register(QualitativeScore)
class QualitativeScoreAdmin(ReadOnly):
    list_display = ["evaluation", "institution", "item", "value", "scored_by", "scored_at"]
    list_filter = ["evaluation"]


@admin.register(GradeOverride)
class GradeOverrideAdmin(ReadOnly):
    list_display = ["evaluation", "institution", "grade", "reason", "decided_by", "decided_at"]


@admin.register(Result)
class ResultAdmin(ReadOnly):
    list_display = ["evaluation", "institution", "group", "total", "rank", "grade", "computed_grade"]
    list_filter = ["evaluation"]


@admin.register(ReportJob)
class ReportJobAdmin(ReadOnly):
    list_display = ["evaluation", "status", "processed", "total", "created_by", "created_at"]
