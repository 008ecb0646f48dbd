from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import TokenProxy

from audit.adminlog import AuditedAdmin

from .models import Contact, Institution, PbocOffice, Region, User


@admin.register(Region)
class RegionAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["order", "name", "branch_label", "code", "is_province"]


@admin.register(PbocOffice)
class PbocOfficeAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent"]
    list_filter = ["kind"]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Institution)
class InstitutionAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = [
        "code",
        "short_name",
        "kind",
        "evaluation_group",
        "is_local_legal_person",
        "supervising_office",
    ]
    list_filter = ["evaluation_group", "kind", "is_local_legal_person", "supervising_office"]
    search_fields = ["code", "name", "short_name"]
    inlines = [ContactInline]


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    list_display = ["username", "display_name", "role", "institution", "office", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("角色与归属"), {"fields": ("display_name", "role", "institution", "office")}),
    )


# API tokens are listed and revoked at /accounts/tokens/, audited, showing a key's first characters only;
# DRF's own admin would list every live key in full and delete tokens without an audit row.
admin.site.unregister(TokenProxy)

admin.site.site_header = _("小微企业专项行动门户 · 管理")
admin.site.site_title = _("专项行动门户管理")
admin.site.index_title = _("主数据管理")
