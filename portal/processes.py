"""The portal's long-running processes, declared once.

`make serve` runs them natively (`python -m portal.processes run-all`); docker-compose.yml runs each
one in its own container with the same command line — tests/portal/test_compose.py keeps the two in step.
"""

import os
import signal
import subprocess
import sys

PROCESSES: dict[str, list[str]] = {
    "web": [
        "gunicorn",
        "portal.wsgi:application",
        "--bind",
        "0.0.0.0:8000",
        "--workers",
        "4",
        "--access-logfile",
        "-",
    ],
    "worker": ["celery", "-A", "portal", "worker", "--loglevel", "INFO", "--concurrency", "2"],
    "beat": [
        "celery",
        "-A",
        "portal",
        "beat",
        "--loglevel",
        "INFO",
        "--schedule",
        "/tmp/celerybeat-schedule",
    ],
}

# The embedded default (`make run`): Django's development server and one Celery worker with its beat inside,
# over the file broker of portal/settings.py (EMBEDDED_WORKER=1, no Redis, SQLite under var/).
EMBEDDED: dict[str, list[str]] = {
    "web": ["python", "manage.py", "runserver", "127.0.0.1:8000"],
    "worker": [
        "celery",
        "-A",
        "portal",
        "worker",
        "--beat",
        "--pool",
        "solo",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "WARNING",
        "--schedule",
        "var/celerybeat-schedule",
    ],
}

# Variables every process needs; docker-compose.yml must pass each of them to each service.
REQUIRED_ENV = ["DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"]


def _executable(argv: list[str]) -> list[str]:
    bindir = os.path.dirname(sys.executable)
    candidate = os.path.join(bindir, argv[0])
    return [candidate if os.path.exists(candidate) else argv[0], *argv[1:]]


def run_all() -> int:
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        print(f"make serve 需要环境变量：{', '.join(missing)}（见 .env.example）。", file=sys.stderr)
        return 2
    return _supervise(PROCESSES, os.environ)


def run_embedded() -> int:
    env = {**os.environ, "EMBEDDED_WORKER": "1"}
    return _supervise(EMBEDDED, env)


def _supervise(processes: dict[str, list[str]], env) -> int:
    """Run every process until one ends (or a signal comes), then stop the others."""
    children = [subprocess.Popen(_executable(argv), env=env) for argv in processes.values()]

    def stop(*_args):
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(child.poll() is None for child in children):
            try:
                children[0].wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
    finally:
        stop()
        for child in children:
            child.wait()
    return max((child.returncode or 0) for child in children)


if __name__ == "__main__":
    commands = {"run-all": run_all, "run-embedded": run_embedded}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print("用法：python -m portal.processes run-all | run-embedded", file=sys.stderr)
        sys.exit(2)
    sys.exit(commands[sys.argv[1]]())
