"""A real, throwaway PostgreSQL server for tests: temp datadir, loopback, free port (initdb + postgres
from the system's postgresql package, as mariadb_server.py does for MariaDB). PostgreSQL refuses to
run as root: as root, the server runs as the `postgres` system user (the package creates it)."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return versions[-1] if versions else None


def available() -> bool:
    if _bin("initdb") is None or _bin("postgres") is None:
        return False
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return False
    return True


class PostgresServer:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="ticklake-pg-"))
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None
        self.user = "ticklake"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        return ["runuser", "-u", "postgres", "--", *argv]

    def start(self, timeout_s: float = 60.0) -> "PostgresServer":
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        data = self.dir / "data"
        subprocess.run(self._as_owner([_bin("initdb"), "-D", str(data), "-U", self.user, "--auth=trust",
                                       "--no-sync", "-E", "UTF8", "--locale=C"]), check=True, capture_output=True)
        self.log = self.dir / "server.log"
        self.proc = subprocess.Popen(self._as_owner([
            _bin("postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(self.port), "-k", str(self.dir),
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", f"log_directory={self.dir}", "-c", "logging_collector=off"]),
            stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                import psycopg2

                psycopg2.connect(self.url, connect_timeout=2).close()
                return self
            except Exception:
                time.sleep(0.3)
        tail = self.log.read_text()[-2000:] if self.log.exists() else "(no log)"
        self.stop()
        raise RuntimeError(f"PostgreSQL did not start on port {self.port}:\n{tail}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()          # smart shutdown; the runuser wrapper forwards the signal
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
