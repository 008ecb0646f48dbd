"""The campaign's indicators: the registry of formulas (`indicators.py`), computed over approved sheets and
stored one row per scope and month (`storage.py`), refreshed by a Celery task when reporting announces an
approval (`receivers.py`); targets, the LPR, supervision records, the monitoring bulletin, the dashboards and
exports (reads in `selectors.py`, pages in `pages.py`).

May import: the ground floor, `institutions` and `reporting` (its models, definitions and events) — never
`evaluation` (tests/portal/test_layers.py).
"""
