"""The portal's long-running processes, declared once.

`make serve` runs them natively (`python -m portal.processes run-all`); docker-compose.yml runs each
one in its own container with the same command line — tests/test_compose.py keeps the two in step.
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
    children = [subprocess.Popen(_executable(argv)) for argv in PROCESSES.values()]

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
    if sys.argv[1:] != ["run-all"]:
        print("用法：python -m portal.processes run-all", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_all())
