"""Who may do what to the tables on PostgreSQL.

The portal's web and worker processes connect as an *application role* that owns no table: it may read and
write rows (SELECT, INSERT, UPDATE, DELETE), but never TRUNCATE, ALTER (so never DISABLE TRIGGER), DROP,
and on the audit tables only SELECT and INSERT. Migrations run as the tables' owner. `migrate`, run as the
owner with APP_DATABASE_URL naming the application role (make serve, docker-compose.yml's migrate service),
creates that role when it is missing and grants it exactly this after every migration (apps.py).
"""

from contextlib import contextmanager
from urllib.parse import unquote, urlsplit

from django.db import transaction

APPEND_ONLY = ("audit_auditentry", "audit_auditseal")


class RoleError(Exception):
    pass


def _ident(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def grant_app_role(connection, app_url: str, *, log=print) -> str | None:
    """Create (if missing) and grant the application role named by `app_url`; the role's name, or None
    when the URL is the connection's own role (one role for everything: nothing to separate)."""
    if connection.vendor != "postgresql":
        return None
    parts = urlsplit(app_url)
    role, password = unquote(parts.username or ""), unquote(parts.password or "")
    if not role:
        raise RoleError("APP_DATABASE_URL 中没有用户名（应用连接所用的数据库角色）。")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database(), current_schema()")
        owner, database, schema = cursor.fetchone()
        if role == owner:
            log(
                f"APP_DATABASE_URL 与迁移使用同一角色 {role}：未分离权限（生产环境请使用不拥有表的应用角色）。"
            )
            return None
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        found = cursor.fetchone()
        if found is None:
            if password:
                cursor.execute(f"CREATE ROLE {_ident(connection, role)} LOGIN PASSWORD %s", [password])
            else:
                cursor.execute(f"CREATE ROLE {_ident(connection, role)} LOGIN")
            log(f"已创建应用角色 {role}。")
        elif found[0]:
            raise RoleError(f"应用角色 {role} 是超级用户：请改用普通角色，否则审计日志的保护对它无效。")
        app, db, sc = _ident(connection, role), _ident(connection, database), _ident(connection, schema)
        by = _ident(connection, owner)
        for statement in (
            f"GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {app}",
            f"GRANT USAGE ON SCHEMA {sc} TO {app}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {sc} FROM {app}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {sc} TO {app}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {sc} TO {app}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {by} IN SCHEMA {sc} GRANT SELECT, INSERT, UPDATE, DELETE "
            f"ON TABLES TO {app}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {by} IN SCHEMA {sc} GRANT USAGE, SELECT ON SEQUENCES TO {app}",
        ):
            cursor.execute(statement)
        for table in APPEND_ONLY:
            cursor.execute(f"REVOKE UPDATE, DELETE ON {_ident(connection, table)} FROM {app}")
    log(f"应用角色 {role}：可读写数据行；不能清空或修改表结构；审计表只能读取和追加。")
    return role


@contextmanager
def wiping_allowed(connection):
    """For throwaway databases only (the test runner's flush, the bench): inside this transaction the
    append-only triggers do not fire. Only a superuser may set session_replication_role, so the portal's
    roles cannot do this."""
    with transaction.atomic(using=connection.alias):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        yield
