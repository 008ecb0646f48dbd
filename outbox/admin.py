from django.contrib import admin

from .models import PendingTask


@admin.register(PendingTask)
class PendingTaskAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "created_at", "sent_at", "attempts", "last_error")
    list_filter = ("name", ("sent_at", admin.EmptyFieldListFilter))
    readonly_fields = [f.name for f in PendingTask._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
