"""A private PostgreSQL server for the tests and the local DuckLake demo.

Debian's `postgresql` package, started with `initdb` + `pg_ctl` on a loopback port with its
data in a folder of our own (no system service, no network beyond 127.0.0.1). Run as root,
the server runs as the `postgres` user (PostgreSQL refuses root).

    python -m pipelines.lake.local_server start FOLDER [--port N]   # prints the exports
    python -m pipelines.lake.local_server stop FOLDER
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PUBLISHER = "oligo"  # the superuser initdb creates; owns the catalog
READER = "oligo_reader"  # read-only role for every reader
LAKE_DB = "oligo_lake"
DAGSTER_DB = "dagster"


class PostgresMissing(RuntimeError):
    """Debian's postgresql package is not installed (make postgres installs it)."""


@dataclass(frozen=True)
class LocalServer:
    folder: Path
    port: int

    def libpq(self, dbname: str, user: str = PUBLISHER) -> str:
        return f"dbname={dbname} host=127.0.0.1 port={self.port} user={user}"

    def environment(self) -> dict[str, str]:
        """The settings that select the DuckLake target on this server."""
        return {
            "OLIGO_PUBLISH_TARGET": "ducklake",
            "OLIGO_LAKE_CATALOG": self.libpq(LAKE_DB),
            "OLIGO_LAKE_READER_CATALOG": self.libpq(LAKE_DB, READER),
            "OLIGO_DAGSTER_DB": DAGSTER_DB,
        }

    def sql(self, statement: str, dbname: str = "postgres", user: str = PUBLISHER) -> list:
        import psycopg2  # in the lock for dagster-postgres

        con = psycopg2.connect(self.libpq(dbname, user))
        try:
            con.autocommit = True
            with con.cursor() as cursor:
                cursor.execute(statement)
                return cursor.fetchall() if cursor.description else []
        finally:
            con.close()


def binaries() -> Path:
    """The folder of initdb/pg_ctl: Debian keeps them out of PATH, under a version."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").is_file():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise PostgresMissing("PostgreSQL is not installed: `make postgres` (as root) installs "
                          "Debian's postgresql package")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def start(folder: Path, port: int | None = None) -> LocalServer:
    """initdb (first time) and start a server on 127.0.0.1:`port`, with the lake and
    Dagster databases and the read-only reader role."""
    folder = Path(folder).resolve()
    bin_dir = binaries()
    port = port or free_port()
    data = folder / "pgdata"
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    if not (data / "PG_VERSION").exists():
        subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust",
                                        "-U", PUBLISHER, "-E", "UTF8", "--no-sync"]),
                       check=True, capture_output=True, text=True)
    port_file = folder / "port"
    status = subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "status"]),
                            capture_output=True)
    if status.returncode == 0 and port_file.exists():  # already running: reuse it
        port = int(port_file.read_text())
    else:
        options = f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off"
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
                                        "-l", str(folder / "server.log"), "-w", "start"]),
                       check=True, capture_output=True, text=True)
        port_file.write_text(str(port))
    server = LocalServer(folder, port)
    existing = {row[0] for row in server.sql("SELECT datname FROM pg_database")}
    for name in (LAKE_DB, DAGSTER_DB):
        if name not in existing:
            server.sql(f"CREATE DATABASE {name}")
    grant_reader(server)
    return server


def grant_reader(server: LocalServer) -> None:
    """A login role that can only read the catalog: SELECT on its tables (also on the
    tables DuckLake adds later, e.g. for inlined data) and read-only transactions."""
    if not server.sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{READER}'"):
        server.sql(f"CREATE ROLE {READER} LOGIN")
    server.sql(f"ALTER ROLE {READER} SET default_transaction_read_only = on")
    for statement in (
        f"GRANT CONNECT ON DATABASE {LAKE_DB} TO {READER}",
        f"GRANT USAGE ON SCHEMA public TO {READER}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READER}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {PUBLISHER} IN SCHEMA public "
        f"GRANT SELECT ON TABLES TO {READER}",
    ):
        server.sql(statement, dbname=LAKE_DB)


def stop(folder: Path) -> None:
    data = Path(folder).resolve() / "pgdata"
    if (data / "postmaster.pid").exists():
        subprocess.run(_as_server_user([str(binaries() / "pg_ctl"), "-D", str(data), "-m",
                                        "fast", "-w", "stop"]), check=True, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.lake.local_server")
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--port", type=int, default=55432)
    args = parser.parse_args(argv)
    try:
        if args.action == "stop":
            stop(args.folder)
            return 0
        server = start(args.folder, args.port)
    except (PostgresMissing, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        print(f"local PostgreSQL: {exc} {detail}".strip(), file=sys.stderr)
        return 2
    for key, value in server.environment().items():
        print(f"export {key}='{value}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
