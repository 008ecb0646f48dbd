"""What reporting announces when its data changes, for the apps that follow it to subscribe to.

Reporting imports none of its followers: indicators connects to these signals in its AppConfig.ready
(indicators/receivers.py: the dashboard's cached filing rates renewed, the indicators of approved or reopened
sheets refreshed).
"""

from django.db import transaction
from django.dispatch import Signal

# Filings moved: new versions stored (any way in: web, API, upload, bulk import, demo) or a workflow step
# taken; or periods set up or their window changed. Sent on commit: filings=[Filing ids] (none for periods).
filings_changed = Signal()

# Sheets became approved without a workflow step of their own (an officer's bulk import approving its rows):
# changes=[(institution id, form, year, month)].
sheets_approved = Signal()

# A workflow step's follow-up (reporting.tasks.after_transition): filing=Filing, status=the status it reached.
filing_transitioned = Signal()


def announce(signal: Signal, **payload) -> None:
    """Send `signal` once the current transaction commits (at once outside one): followers never see data
    that a rollback takes back."""
    transaction.on_commit(lambda: signal.send(**payload))
