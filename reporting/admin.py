from django.contrib import admin

from audit import services as audit

from . import services
from .models import Filing, ImportJob, Period


@admin.register(Period)
class PeriodAdmin(admin.ModelAdmin):
    """PBoC admins move a period's deadline or close its window here; every change is audited."""

    list_display = ["form", "year", "month", "ends_on", "opens_on", "due_on", "closes_on"]
    list_filter = ["form", "year"]
    list_editable = ["due_on", "closes_on"]
    fields = ["form", "year", "month", "ends_on", "opens_on", "due_on", "closes_on"]

    def get_readonly_fields(self, request, obj=None):
        return ["form", "year", "month", "ends_on", "opens_on"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            services.change_period_window(
                period=Period.objects.get(pk=obj.pk),
                actor=request.user,
                due_on=obj.due_on,
                closes_on=obj.closes_on,
            )
            return
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action="period.add",
            obj=obj,
            summary=f"新增报送期 {obj}",
        )


@admin.register(Filing)
class FilingAdmin(admin.ModelAdmin):
    list_display = ["institution", "period", "status", "submitted_at", "approved_at"]
    list_filter = ["status", "period__year", "institution__evaluation_group"]
    list_select_related = ["institution", "period"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "created_by", "upload_name", "status", "processed", "total"]

    def has_change_permission(self, request, obj=None):
        return False
