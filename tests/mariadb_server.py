"""A real, throwaway MariaDB server for tests and benchmarks: temp datadir, loopback, free port."""
from __future__ import annotations

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


def available() -> bool:
    return shutil.which("mariadbd") is not None or Path("/usr/sbin/mariadbd").exists()


class MariaDBServer:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="ticklake-mariadb-"))
        self.port = _free_port()
        self.socket = str(self.dir / "mysqld.sock")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> "MariaDBServer":
        data = self.dir / "data"
        install = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
        subprocess.run([install, f"--datadir={data}", "--user=root", "--auth-root-authentication-method=normal",
                        "--skip-test-db"], check=True, capture_output=True)
        mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
        self.log = self.dir / "error.log"
        self.proc = subprocess.Popen([
            mariadbd, "--no-defaults", f"--datadir={data}", "--user=root", "--bind-address=127.0.0.1",
            f"--port={self.port}", f"--socket={self.socket}", f"--pid-file={self.dir / 'mysqld.pid'}",
            f"--log-error={self.log}", "--skip-log-bin", "--innodb-buffer-pool-size=256M",
            "--innodb-flush-log-at-trx-commit=0", "--performance-schema=OFF", "--max-allowed-packet=256M",
            "--skip-name-resolve"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    if self.query("select 1") == "1":
                        return self
            except OSError:
                pass
            time.sleep(0.3)
        tail = self.log.read_text()[-2000:] if self.log.exists() else "(no log)"
        self.stop()
        raise RuntimeError(f"MariaDB did not start on port {self.port}:\n{tail}")

    def client(self, *args: str) -> list[str]:
        exe = shutil.which("mariadb") or shutil.which("mysql") or "/usr/bin/mariadb"
        return [exe, "--protocol=TCP", "-h", "127.0.0.1", "-P", str(self.port), "-u", "root", *args]

    def query(self, sql: str) -> str:
        r = subprocess.run(self.client("-N", "-B", "-e", sql), capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(r.stderr.strip())
        return r.stdout.strip()

    def load_dump(self, path: Path) -> None:
        """`mariadb < dump` (gunzipped on the fly for .gz)."""
        if str(path).endswith(".gz"):
            gz = subprocess.Popen(["gzip", "-dc", str(path)], stdout=subprocess.PIPE)
            r = subprocess.run(self.client("--max-allowed-packet=256M"), stdin=gz.stdout, capture_output=True)
            gz.wait()
        else:
            with open(path, "rb") as f:
                r = subprocess.run(self.client("--max-allowed-packet=256M"), stdin=f, capture_output=True)
        if r.returncode:
            raise RuntimeError(f"loading {path}: {r.stderr.decode()[-500:]}")

    SYSTEM_DATABASES = ("mysql", "information_schema", "performance_schema", "sys")

    def reset(self) -> "MariaDBServer":
        """Drop every user database, so each test starts from an empty server."""
        names = self.query("select schema_name from information_schema.schemata").split()
        drops = "".join(f"drop database `{n}`;" for n in names if n not in self.SYSTEM_DATABASES)
        if drops:
            self.query(drops)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
