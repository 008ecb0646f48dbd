from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = _("监测指标")

    def ready(self) -> None:
        # imported here, not above: models can be imported only once the app registry is ready
        from institutions.models import Institution, PbocOffice
        from reporting import events

        from . import dashcache, receivers
        from .models import RefreshRun, SupervisionAction, Target

        # whatever the cached dashboard body shows (dashcache.py)
        for model in (RefreshRun, Target, SupervisionAction, Institution, PbocOffice):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                signal.connect(
                    dashcache.renew_on_commit, sender=model, dispatch_uid=f"dashcache.{model.__name__}.{name}"
                )
        # what reporting announces — filings moved, a workflow step's follow-up, an import's approvals — is
        # heard here and nowhere else: indicators/receivers.py
        events.filings_changed.connect(receivers.filings_changed, dispatch_uid="indicators.filings_changed")
        events.filing_transitioned.connect(
            receivers.filing_transitioned, dispatch_uid="indicators.transitioned"
        )
        events.sheets_approved.connect(receivers.sheets_approved, dispatch_uid="indicators.sheets_approved")
