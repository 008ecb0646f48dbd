"""The audit log: who did what, when, from where, to which object — append-only.

Owns `AuditEntry` and the sealed hash chain over it (`chain.py`, `verify_audit`), the writing every app calls
(`services.record` / `row` / `record_many`; the client's address comes from `portal.context`), the admin's
change log (`adminlog.py`), the database privileges that make the log append-only (`privileges.py`), and the
audit browser (views, selectors, labels).

May import: the ground floor (`portal`'s shared pieces). Its writing (models, services, adminlog,
privileges) is itself part of the ground floor every app stands on; the browser sits on top and may read
every app's labels and scope by `institutions.access` (tests/portal/test_layers.py).
"""
