"""What reporting announces when its data changes, for the apps that follow it to subscribe to.

Reporting imports none of its followers: indicators connects to these signals in its AppConfig.ready (to renew
the dashboard's cached filing rates and to refresh the indicators of approved sheets).
"""

from django.db import transaction
from django.dispatch import Signal

# New versions were stored (any way in: web, API, upload, bulk import, demo), sent on commit:
# filings=[Filing ids].
filings_changed = Signal()


def announce(signal: Signal, **payload) -> None:
    """Send `signal` once the current transaction commits (at once outside one): followers never see data
    that a rollback takes back."""
    transaction.on_commit(lambda: signal.send(**payload))
