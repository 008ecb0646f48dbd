"""The returns banks file: each edition's definition, reading values as people type them, the rule
registry, the official workbooks read and written, and every state change of a filing (save, submit,
approve, return, reopen, bulk import) through one set-based write path.

Owns `Period`, `Filing`, `FilingVersion`, `Transition`, `Upload`, `ImportJob`, `Reminder`. Announces what
happened in `events.py` (filings changed, sheets approved, a workflow step's follow-up) for the apps above to
follow. May import: the ground floor and `institutions` — never `indicators` or `evaluation`
(tests/portal/test_layers.py).
"""
