"""TRUNCATE of the audit log is refused too (0003 refuses UPDATE and DELETE), for the database owner as well.

Only a superuser can get past these triggers (session_replication_role, which only a superuser may set) —
the test runner and the bench do, on their throwaway databases (audit.privileges.wiping_allowed). The
portal's own processes connect as a role that owns no table and holds no TRUNCATE (audit.privileges)."""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION audit_entry_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '审计记录只能追加，不能清空 (% is append-only)', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry;
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_no_truncate();
"""
ALLOW = """
DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_entry_no_truncate();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID, params=None)  # the % of RAISE is not a parameter


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only_trigger")]
    operations = [migrations.RunPython(forward, backward)]
