"""A throwaway PostgreSQL cluster for the group tests: initdb and pg_ctl on a temporary folder
and a free port, stopped (and its folder removed) when the tests end.

PostgreSQL refuses to run as root, so under root (CI, the shared machines) the cluster belongs
to an unprivileged account (``postgres`` from the Debian package, else ``nobody``). The server
listens on 127.0.0.1 only and asks for a password (scram-sha-256), so the tests exercise the
credentials path the users take.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

USER = "outcomes_test"
PASSWORD = "s3cret-test-only"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str

    def url(self, dbname: str = "postgres", *, with_password: bool = True) -> str:
        auth = f"{self.user}:{self.password}" if with_password else self.user
        return f"postgresql://{auth}@{self.host}:{self.port}/{dbname}"


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else Debian's versioned folder."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _runner() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that runs a program as the cluster's owner."""
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            account = pwd.getpwnam(name)
            return ["runuser", "-u", name, "--"], account
    raise RuntimeError("running as root and no unprivileged account (postgres, nobody) exists")


@contextlib.contextmanager
def running_server() -> Iterator[Server]:
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (initdb, pg_ctl)")
    prefix, account = _runner()
    # Not under pytest's tmp folder: that is private to root, and the server runs as another user.
    base = Path(tempfile.mkdtemp(prefix="outcomes-pg-"))
    data = base / "data"
    pwfile = base / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if account is not None:
        os.chown(base, account.pw_uid, account.pw_gid)
        os.chown(pwfile, account.pw_uid, account.pw_gid)
    log = base / "server.log"
    try:
        subprocess.run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", USER, "--pwfile", str(pwfile),
             "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"],
            check=True, capture_output=True, text=True, timeout=120,
        )
        # Another process may take the free port before the server binds it: try a few.
        for attempt in range(3):
            port = _free_port()
            # A test cluster: durability off, so it starts and writes fast.
            options = (f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off -c full_page_writes=off"
                       " -c synchronous_commit=off -c max_connections=40")
            started = subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                 "-w", "-t", "60", "start"],
                capture_output=True, text=True, timeout=90,
            )
            if started.returncode == 0:
                break
            if attempt == 2:
                raise subprocess.CalledProcessError(started.returncode, "pg_ctl start",
                                                    started.stdout, started.stderr)
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr or exc.stdout or ""
        if log.exists():
            detail += log.read_text()
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {detail.strip()}") from exc
    try:
        yield Server("127.0.0.1", port, USER, PASSWORD)
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], capture_output=True, timeout=60, check=False)
        shutil.rmtree(base, ignore_errors=True)
