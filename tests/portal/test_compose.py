"""docker-compose.yml, the Dockerfile, the Makefile and .ci/run describe the same stack.

portal/processes.py declares each long-running process once; `make serve` runs them natively and
docker-compose.yml runs each in its own container. Every assertion here compares two of those files, so
changing one side alone fails.
"""

import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from portal.processes import PROCESSES, REQUIRED_ENV

ROOT = Path(__file__).resolve().parents[2]
PROCESS_SERVICES = sorted(PROCESSES)
WEASYPRINT_LIBRARIES = {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"}
CJK_FONTS = {"fonts-wqy-zenhei", "fonts-wqy-microhei", "fonts-noto-cjk"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "KEY=value" list form
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def _logical_lines(text: str) -> list[str]:
    """Dockerfile/shell text with comments dropped and backslash continuations joined."""
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        if current.strip():
            lines.append(current.strip())
        current = ""
    return lines


def _dockerfile() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in _logical_lines(text)]


def _apt_installed(text: str) -> set[str]:
    """Package names given to `apt-get install` anywhere in the text (options and variables ignored)."""
    packages: set[str] = set()
    for match in re.finditer(r"apt-get install([^&;|]*)", text):
        packages.update(word for word in shlex.split(match.group(1)) if not word.startswith(("-", "$", '"$')))
    return packages


def _serve_recipe() -> list[list[str]]:
    """The `serve` target's commands from the Makefile, with $(PY) spelled as `python`."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"^serve\s*:", line))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        argv = shlex.split(line.strip().replace("$(PY)", "python"))
        while argv and re.match(r"^[A-Z_]+=", argv[0]):  # VAR=value before the command
            argv.pop(0)
        recipe.append(argv)
    return recipe


def _serve_env(command: str) -> dict[str, str]:
    """The VAR=value assignments before `command` in the serve recipe."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"^serve\s*:", line))
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        words = shlex.split(line.strip())
        if command in words:
            return dict(w.split("=", 1) for w in words if re.match(r"^[A-Z_]+=", w))
    return {}


@pytest.mark.parametrize("name", PROCESS_SERVICES)
def test_compose_service_runs_the_declared_process_command(compose, name):
    assert compose["services"][name]["command"] == PROCESSES[name]


@pytest.mark.parametrize("name", PROCESS_SERVICES)
def test_compose_service_passes_every_required_variable(compose, name):
    env = _environment(compose["services"][name])
    missing = [var for var in REQUIRED_ENV if var not in env]
    assert not missing, f"{name} lacks {missing}"


@pytest.mark.parametrize("name", PROCESS_SERVICES)
def test_compose_process_services_are_built_from_the_dockerfile(compose, name):
    build = compose["services"][name]["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    assert (ROOT / context / "Dockerfile").resolve() == (ROOT / "Dockerfile").resolve()


def test_compose_urls_point_at_the_postgres_and_redis_services(compose):
    services = compose["services"]
    assert services["postgres"]["image"].split(":")[1].startswith("15")
    assert services["redis"]["image"].split(":")[1].startswith("7")
    pg_env = _environment(services["postgres"])
    app = urlsplit(_environment(services["migrate"])["APP_DATABASE_URL"])
    for name in [*PROCESS_SERVICES, "migrate"]:
        env = _environment(services[name])
        db = urlsplit(env["DATABASE_URL"])
        assert db.scheme in {"postgres", "postgresql"}
        assert db.hostname == "postgres"
        assert db.path == "/" + pg_env["POSTGRES_DB"]
        if name == "migrate":  # migrations as the tables' owner …
            assert (db.username, db.password) == (pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"])
        else:  # … the processes as the role it grants rows only (audit/privileges.py)
            assert (db.username, db.password) == (app.username, app.password), name
            assert db.username != pg_env["POSTGRES_USER"], name
        redis = urlsplit(env["REDIS_URL"])
        assert redis.scheme == "redis"
        assert redis.hostname == "redis"
        assert env["DEBUG"] in {"0", "false", "False"}


def test_process_services_wait_for_healthy_backends_and_migrations(compose):
    for name in PROCESS_SERVICES:
        depends = compose["services"][name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert compose["services"]["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_long_running_service_has_a_healthcheck(compose):
    for name in [*PROCESS_SERVICES, "postgres", "redis"]:
        assert compose["services"][name]["healthcheck"]["test"], name
    assert "restart" in compose["services"]["migrate"] and compose["services"]["migrate"]["restart"] == "no"


def test_web_port_healthcheck_and_published_port_agree_with_the_gunicorn_bind(compose):
    bind = PROCESSES["web"][PROCESSES["web"].index("--bind") + 1]
    port = bind.rsplit(":", 1)[1]
    web = compose["services"]["web"]
    assert any(str(mapping).endswith(f":{port}") for mapping in web["ports"])
    assert f":{port}/healthz" in " ".join(web["healthcheck"]["test"])
    assert ("EXPOSE", port) in _dockerfile()


def test_compose_migrate_step_is_the_migrate_line_of_make_serve(compose):
    recipe = _serve_recipe()
    migrate = [argv for argv in recipe if "migrate" in argv]
    assert migrate == [compose["services"]["migrate"]["command"]]
    assert migrate[0] == ["python", "manage.py", "migrate", "--noinput"]


def test_migrations_run_as_the_owner_and_grant_the_processes_role_in_make_serve_and_compose(compose):
    env = _serve_env("migrate")
    assert env["DATABASE_URL"] == "$${MIGRATION_DATABASE_URL:-$$DATABASE_URL}"
    assert env["APP_DATABASE_URL"] == "$$DATABASE_URL"
    migrate = _environment(compose["services"]["migrate"])
    assert urlsplit(migrate["APP_DATABASE_URL"]).username != urlsplit(migrate["DATABASE_URL"]).username


def test_makefile_serve_migrates_collects_static_and_runs_all_processes():
    recipe = _serve_recipe()
    assert recipe[-1] == ["python", "-m", "portal.processes", "run-all"]
    assert ["python", "manage.py", "migrate", "--noinput"] in recipe
    assert any(argv[:4] == ["python", "manage.py", "collectstatic", "--noinput"] for argv in recipe)


def test_dockerfile_collects_static_files_at_build_like_make_serve():
    runs = " && ".join(args for instr, args in _dockerfile() if instr == "RUN")
    assert "python manage.py collectstatic --noinput" in runs


def test_dockerfile_installs_a_cjk_font_and_weasyprint_libraries():
    runs = " && ".join(args for instr, args in _dockerfile() if instr == "RUN")
    packages = _apt_installed(runs)
    assert packages & CJK_FONTS, packages
    assert packages >= WEASYPRINT_LIBRARIES, WEASYPRINT_LIBRARIES - packages
    assert "--no-install-recommends" in runs


def test_dockerfile_base_install_user_and_default_command():
    instructions = _dockerfile()
    assert instructions[0] == ("FROM", "python:3.11-slim-bookworm")
    runs = [args for instr, args in instructions if instr == "RUN"]
    assert any(re.search(r"pip install (--\S+ )*\.(\s|$)", args) for args in runs), runs
    users = [args for instr, args in instructions if instr == "USER"]
    assert users and users[-1] not in {"root", "0"}
    cmd = [args for instr, args in instructions if instr == "CMD"]
    assert [yaml.safe_load(c) for c in cmd] == [PROCESSES["web"]]


def test_ci_script_installs_what_the_image_installs():
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    ci_packages = set(re.search(r"packages=\(([^)]*)\)", text).group(1).split())
    image_packages = _apt_installed(" && ".join(a for i, a in _dockerfile() if i == "RUN"))
    assert ci_packages >= WEASYPRINT_LIBRARIES
    assert ci_packages & image_packages & CJK_FONTS
    assert {"chromium", "poppler-utils", "gettext"} <= ci_packages
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111
