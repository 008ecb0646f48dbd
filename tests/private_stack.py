"""A PostgreSQL and a Redis of the test run's own, on free ports, for what the suite breaks on purpose.

The fault tests stop and restart the services under the portal; doing that to the machine's shared
PostgreSQL or Redis would take down everything else using them. These start private servers in a temporary
directory and stop only those.

`python -m tests.private_stack run -- COMMAND…` runs COMMAND with REDIS_URL pointing at a private
redis-server (unless REDIS_URL is already set), so that two `make test` runs on one machine never share a
Redis database; the test database name is made unique per run in tests/conftest.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _pg_bin() -> Path:
    """The newest PostgreSQL server installed the Debian way (PG_BIN overrides)."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    return versions[-1] if versions else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(what: str, condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not happen within {timeout:.0f} s")


class PrivateRedis:
    """redis-server on a free port, no persistence, in a directory of its own."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="private-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def is_up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> PrivateRedis:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log")]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(f"the private Redis on port {self.port} answering", self.is_up)
        return self

    def stop(self) -> None:
        """As `redis-cli shutdown nosave` would, but only this server."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivatePostgres:
    """A PostgreSQL cluster initialised in a temporary directory, on a free port, trust authentication.

    initdb and the server refuse to run as root; as root they run as the `postgres` OS user."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="private-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            import pwd

            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self._as_postgres = ["runuser", "-u", "postgres", "--"]

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, timeout: float = 120) -> None:
        subprocess.run(
            [*self._as_postgres, *command], check=True, timeout=timeout, capture_output=True, cwd=self.dir
        )

    def init(self) -> PrivatePostgres:
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        return self

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off"
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )
        _wait("the private PostgreSQL accepting connections", self.is_up, 60)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "restart", "-l", str(self.log)
        )
        _wait("the private PostgreSQL accepting connections again", self.is_up, 60)

    def is_up(self) -> bool:
        done = subprocess.run(
            [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"], capture_output=True
        )
        return done.returncode == 0

    def createdb(self, name: str) -> str:
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return self.url(name)

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def run(command: list[str]) -> int:
    env = dict(os.environ)
    redis = None
    if not env.get("REDIS_URL"):
        redis = PrivateRedis().start()
        env["REDIS_URL"] = redis.url
        print(f"==> a private Redis for this run: {redis.url}", file=sys.stderr)
    try:
        return subprocess.run(command, env=env).returncode
    finally:
        if redis is not None:
            redis.close()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:2] != ["run", "--"] or len(arguments) < 3:
        print("usage: python -m tests.private_stack run -- COMMAND…", file=sys.stderr)
        sys.exit(2)
    sys.exit(run(arguments[2:]))
