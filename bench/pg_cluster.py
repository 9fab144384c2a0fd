"""A throw-away PostgreSQL server for a benchmark run, started by the bench itself on loopback.

`with PostgresCluster(work_dir) as url: ...` runs initdb in `work_dir/pg`, starts the server on a
free 127.0.0.1 port (Unix socket in the data dir, nothing else listening), creates the database
and yields its SQLAlchemy URL; leaving the block stops the server (the data dir goes with the
bench's temporary dir). When run as root, the server runs as the `postgres` system user, as
PostgreSQL refuses to run as root.

Durability settings are PostgreSQL's defaults (fsync and synchronous_commit on), so a commit is
on disk when it returns — stricter than SQLite's WAL with synchronous=NORMAL that the SQLite runs
use. `max_connections` is raised for N web + N worker processes, each with its own pool.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

DATABASE = "ckb_bench"


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()])
    if found:
        return found[-1]
    ctl = shutil.which("pg_ctl")
    if ctl is None:
        raise RuntimeError("PostgreSQL not found (pg_ctl): apt-get install -y postgresql")
    return Path(ctl).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    def __init__(self, work_dir: Path, max_connections: int = 300):
        self.bin = _pg_bin()
        self.data = Path(work_dir) / "pg"
        self.port = _free_port()
        self.max_connections = max_connections
        self.runas: list[str] = []
        self.started = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://ckb@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *argv: str, as_server_user: bool = True) -> None:
        prefix = self.runas if as_server_user else []
        subprocess.run([*prefix, *argv], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        self.data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
                subprocess.run(["useradd", "-r", "-M", "postgres"], check=True)
            shutil.chown(self.data.parent, "postgres")
            shutil.chown(self.data, "postgres")
            self.runas = ["runuser", "-u", "postgres", "--"]
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "ckb", "-A", "trust")
        options = (f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c max_connections={self.max_connections} "
                   "-c shared_buffers=256MB")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.data / "log"), "-w", "start")
        self.started = True
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "ckb", DATABASE,
                  as_server_user=False)
        return self.url

    def stop(self) -> None:
        if self.started:
            subprocess.run([*self.runas, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.started = False

    def __enter__(self) -> str:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
