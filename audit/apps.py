import os

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from .privileges import grant_app_role


def _grant_app_role(sender, using, verbosity=1, **kwargs):
    """After `migrate` run as the tables' owner: the application role gets exactly its privileges
    (audit/privileges.py), new tables included. Nothing happens without APP_DATABASE_URL."""
    url = os.environ.get("APP_DATABASE_URL")
    if not url:
        return

    grant_app_role(connections[using], url, log=print if verbosity else (lambda *_: None))


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("审计日志")

    def ready(self):
        # post_migrate is sent for every app once all migrations have run; the audit app's is enough.
        post_migrate.connect(_grant_app_role, sender=self, dispatch_uid="audit.grant_app_role")
