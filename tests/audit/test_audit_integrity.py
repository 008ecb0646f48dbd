"""The audit log cannot be wiped: TRUNCATE is refused by a trigger, the portal's own database role owns no
table and may only read and append audit rows (audit/privileges.py), and the hash chain (audit/chain.py,
`manage.py verify_audit`) finds an entry removed or changed behind the triggers' back."""

from datetime import timedelta

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import chain
from audit import services as audit
from audit.models import AuditEntry, AuditSeal
from audit.privileges import wiping_allowed


def test_the_database_refuses_truncate_of_the_audit_log_even_for_its_owner(transactional_db):
    assert connection.vendor == "postgresql"
    audit.record(actor=None, action="test", summary="试验")
    for table in ("audit_auditentry", "audit_auditseal"):
        with (
            pytest.raises(DatabaseError, match="只能追加"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"TRUNCATE {table}")
    assert AuditEntry.objects.count() == 1


def test_the_portals_role_cannot_truncate_alter_update_or_delete_audit_rows(app_role):
    audit.record(actor=None, action="test", summary="试验")
    app = psycopg2.connect(
        host=app_role.hostname,
        port=app_role.port,
        dbname=app_role.path[1:],
        user=app_role.username,
        password=app_role.password,
    )
    app.autocommit = True
    refused = []
    try:
        with app.cursor() as cursor:
            cursor.execute("SELECT summary FROM audit_auditentry")  # it reads the log …
            assert cursor.fetchall() == [("试验",)]
            cursor.execute(  # … and appends to it, as every service does
                "INSERT INTO audit_auditentry (at, actor_label, action, object_type, object_id, summary, changes)"
                " VALUES (now(), '系统', 'test', '', '', '追加', '{}')"
            )
            cursor.execute("SELECT count(*) FROM reporting_filing")  # ordinary tables: read and write
            for statement in (
                "TRUNCATE audit_auditentry",
                "ALTER TABLE audit_auditentry DISABLE TRIGGER USER",
                "DELETE FROM audit_auditentry",
                "UPDATE audit_auditentry SET summary = '篡改'",
                "TRUNCATE reporting_filing",
                "ALTER TABLE reporting_filing DISABLE TRIGGER ALL",
                "DROP TABLE audit_auditseal",
                "SET session_replication_role = replica",
            ):
                try:
                    cursor.execute(statement)
                except psycopg2.Error as exc:
                    refused.append((statement, exc.pgcode))
                else:
                    pytest.fail(f"the portal's role could run: {statement}")
    finally:
        app.close()
    assert len(refused) == 8
    assert all(code == "42501" for _statement, code in refused)  # insufficient_privilege, every one
    assert list(AuditEntry.objects.order_by("id").values_list("summary", flat=True)) == ["试验", "追加"]


def written(n: int, ago: timedelta) -> list[AuditEntry]:
    for i in range(n):
        audit.record(actor=None, action="test", summary=f"第 {i} 条")
    with wiping_allowed(connection), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET at = at - %s", [ago])
    return list(AuditEntry.objects.order_by("pk"))


def test_the_chain_seals_what_is_old_enough_and_verifies(db):
    written(5, timedelta(minutes=10))
    audit.record(actor=None, action="test", summary="刚写的")  # too young: left for the next tick
    link = chain.seal()
    assert link.rows == 5 and chain.seal() is None
    report = chain.verify()
    assert report.ok and (report.sealed_rows, report.unsealed_rows) == (5, 1) and report.head == link.digest


def test_an_entry_removed_behind_the_triggers_back_is_reported(db):
    entries = written(5, timedelta(minutes=10))
    chain.seal()
    with wiping_allowed(connection), connection.cursor() as cursor:  # what an owner disabling triggers can do
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entries[2].pk])
    report = chain.verify()
    assert not report.ok and f"#{entries[2].pk}" in report.problems[0] and "缺失" in report.problems[0]
    with pytest.raises(CommandError):
        call_command("verify_audit")


def test_an_entry_changed_behind_the_triggers_back_is_reported(db):
    entries = written(3, timedelta(minutes=10))
    chain.seal()
    with wiping_allowed(connection), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET summary = '篡改' WHERE id = %s", [entries[0].pk])
    assert any("被改动" in problem for problem in chain.verify().problems)


def test_a_seal_never_spans_an_entry_it_cannot_vouch_for(db):
    old = written(2, timedelta(minutes=10))
    young = audit.record(actor=None, action="test", summary="年轻")
    later_old = audit.record(actor=None, action="test", summary="较晚提交")
    with wiping_allowed(connection), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET at = %s WHERE id = %s",
            [timezone.now() - timedelta(hours=1), later_old.pk],
        )
    link = chain.seal()
    assert (link.last_id, link.rows) == (old[-1].pk, 2)  # the old entry after the young one waits
    assert link.last_id < young.pk
    assert AuditSeal.objects.count() == 1
