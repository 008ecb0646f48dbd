"""Master data edited in the Django admin is audited like every other change: who, when, what (old → new).

Regions, PBoC offices, institutions with their contacts, and users are kept in the admin. `AuditedAdmin`
records each save and delete in the admin's own transaction (the change view is atomic), with the fields
that changed; secrets never enter the log — a password or second-factor change shows as "已更改".
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone

from . import services

SECRET = {"password", "totp_secret"}
IGNORED = {"last_login"}  # moves on every sign-in, which the login audit already records
CHANGED = "已更改"


def snapshot(obj) -> dict:
    """The object's concrete fields as the log shows them: related objects by name, dates as text."""
    out = {}
    for field in obj._meta.concrete_fields:
        if field.name in IGNORED or field.primary_key:
            continue
        if field.name in SECRET:
            out[field.name] = field.value_from_object(obj)  # compared only, never written out
            continue
        if isinstance(field, models.ForeignKey):
            related = getattr(obj, field.name, None)
            out[field.name] = str(related) if related is not None else None
        else:
            value = field.value_from_object(obj)
            if isinstance(value, datetime):  # to the second, in the portal's time zone, as the admin shows it
                value = timezone.localtime(value).isoformat(sep=" ", timespec="seconds")
            out[field.name] = value if isinstance(value, bool | int | str | type(None)) else str(value)
    return out


def changes(old: dict, new: dict) -> dict:
    diff = services.diff(old, new)
    for name in SECRET & set(diff):
        diff[name] = [CHANGED, CHANGED] if old.get(name) else [None, CHANGED]
    return diff


def institution_of(obj):
    """The institution an edited row belongs to: itself for an institution (audit sits below the app that
    defines it, so it is recognised by its label), else the row's `institution`."""
    if obj._meta.label == "institutions.Institution":
        return obj
    return getattr(obj, "institution", None)


def _record(request, obj, verb: str, diff: dict) -> None:
    label = obj._meta.verbose_name
    services.record(
        actor=request.user,
        action=f"{obj._meta.model_name}.{verb}",
        obj=obj,
        institution=institution_of(obj),
        summary={"create": "新增", "update": "修改", "delete": "删除"}[verb] + f"{label}：{obj}",
        changes=diff,
    )


def _saved(request, obj, save) -> None:
    model = type(obj)
    before = model._default_manager.filter(pk=obj.pk).first() if obj.pk else None
    old = snapshot(before) if before is not None else {}
    save()
    diff = changes(old, snapshot(obj))
    if before is None:
        _record(request, obj, "create", diff)
    elif diff:
        _record(request, obj, "update", diff)


def _deleted(request, obj, delete) -> None:
    old = snapshot(obj)
    pk = obj.pk
    delete()
    obj.pk = pk  # the entry names what was deleted
    _record(request, obj, "delete", changes(old, {}))


class AuditedAdmin:
    """Mix into a ModelAdmin: saves and deletes of the object and of its inlines are audited."""

    def save_model(self, request, obj, form, change):
        _saved(request, obj, lambda: super(AuditedAdmin, self).save_model(request, obj, form, change))

    def delete_model(self, request, obj):
        _deleted(request, obj, lambda: super(AuditedAdmin, self).delete_model(request, obj))

    def delete_queryset(self, request, queryset):
        for obj in queryset:  # one entry per object, as for a single delete
            self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            _deleted(request, obj, obj.delete)
        for obj in instances:
            _saved(request, obj, obj.save)
        formset.save_m2m()

    def log_change(self, request, obj, message):
        # The admin's password form saves the user itself and then logs the change; that is the one change
        # that does not pass save_model.
        if request.path.rstrip("/").endswith("/password"):
            _record(request, obj, "update", {"password": [CHANGED, CHANGED]})
        return super().log_change(request, obj, message)
