"""Django admin for what PBoC admins keep by hand: the year's targets and the 1-year LPR (every change goes
through indicators.services and is audited), plus read-only views of refresh runs and the supervision log.
Who may do what is decided by institutions.access, not by per-model permission rows."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from institutions import access
from portal.errors import ServiceError

from . import indicators as ind
from . import services
from .models import LoanPrimeRate, RefreshRun, SupervisionAction, Target


class PbocAdminOnly:
    def has_module_permission(self, request):
        return access.is_pboc_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return access.is_pboc_admin(request.user)

    def has_add_permission(self, request):
        return access.is_pboc_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return access.is_pboc_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return access.is_pboc_admin(request.user)


class ReadOnly(PbocAdminOnly):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TargetForm(forms.ModelForm):
    indicator = forms.ChoiceField(
        label=_("指标"),
        choices=[(i.code, f"{i.label}（{i.unit_label or '检验'}）") for i in ind.INDICATORS if not i.test],
    )

    class Meta:
        model = Target
        fields = [
            "year",
            "scope",
            "indicator",
            "comparator",
            "basis",
            "value",
            "applies_to",
            "institution",
            "label",
            "source",
        ]

    def clean(self):
        cleaned = super().clean()
        probe = Target(**{k: cleaned.get(k) for k in ("scope", "indicator", "basis", "value")})
        try:
            services.validate_target(probe)
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from None
        return cleaned


@admin.register(Target)
class TargetAdmin(PbocAdminOnly, admin.ModelAdmin):
    form = TargetForm
    list_display = ["year", "scope", "label", "indicator_label", "comparator", "basis", "value", "applies_to"]
    list_filter = ["year", "scope", "basis"]

    @admin.display(description=_("指标"))
    def indicator_label(self, obj):
        indicator = ind.REGISTRY.get(obj.indicator)
        return indicator.label if indicator else obj.indicator

    def save_model(self, request, obj, form, change):
        services.save_target(actor=request.user, target=obj)

    def delete_model(self, request, obj):
        services.delete_target(actor=request.user, target=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(LoanPrimeRate)
class LoanPrimeRateAdmin(PbocAdminOnly, admin.ModelAdmin):
    list_display = ["year", "month", "rate"]
    list_filter = ["year"]

    def has_delete_permission(self, request, obj=None):
        return False  # a month's LPR is corrected, never removed

    def save_model(self, request, obj, form, change):
        services.save_lpr(actor=request.user, lpr=obj)
        messages.info(request, _("已提交该年度监测指标的刷新。"))


@admin.register(RefreshRun)
class RefreshRunAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "pk",
        "trigger",
        "status",
        "first_year",
        "last_year",
        "created_at",
        "finished_at",
        "latest_approval_at",
        "row_count",
        "duration_ms",
    ]
    list_filter = ["status", "trigger"]
    actions = ["refresh_all"]

    @admin.action(description=_("立即刷新全部年度的监测指标"))
    def refresh_all(self, request, queryset):
        run = services.request_refresh(trigger="manual", actor=request.user)
        self.message_user(request, _("已提交刷新任务 #%(id)s。") % {"id": run.pk})

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SupervisionAction)
class SupervisionActionAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["taken_on", "institution", "kind", "reason", "recorded_by"]
    list_filter = ["kind", "institution"]

    def get_queryset(self, request):
        return access.scope_by_institution(request.user, super().get_queryset(request))
