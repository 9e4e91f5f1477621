"""A local PostgreSQL server of the pipeline's own, for `SALES_KPI_ENGINE=postgres` without a
configured server (SALES_KPI_PG_HOST unset): Debian's package (installed with apt-get when
missing and running as root), a cluster under warehouse/postgres, listening on 127.0.0.1 only,
trust authentication for local connections. It keeps running after the pipeline (stop it with
`python -m orchestration.engines.local_postgres stop`).

PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user the
package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from orchestration.engines.base import Progress

PACKAGE = "postgresql"


def _bin_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _install(progress: Progress | None) -> Path:
    if os.geteuid() != 0:
        raise RuntimeError(
            "PostgreSQL's server is not installed. Install it (Debian/Ubuntu: "
            f"`sudo apt-get install {PACKAGE}`), or point SALES_KPI_PG_HOST at a server."
        )
    if progress:
        progress(f"installing {PACKAGE} from the Debian packages (a local PostgreSQL server)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", PACKAGE], check=True, env=env, capture_output=True
    )
    found = _bin_dir()
    if found is None:
        raise RuntimeError(f"apt-get installed {PACKAGE} but no initdb was found")
    return found


def _as_owner(command: list[str]) -> list[str]:
    """The command run as the cluster's owner: `postgres` when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def ensure_server(data_dir: Path, port: int, user: str, progress: Progress | None = None) -> None:
    """Start the local server (initialising its cluster the first time) unless it runs."""
    data_dir = Path(data_dir).resolve()
    if _listening(port) and (data_dir / "postmaster.pid").exists():
        return
    bin_dir = _bin_dir() or _install(progress)
    if not (data_dir / "PG_VERSION").exists():
        if progress:
            progress(f"initialising a local PostgreSQL cluster in {data_dir}")
        data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(data_dir, "postgres", "postgres")
        subprocess.run(
            _as_owner(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data_dir),
                    "-U",
                    user,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]
            ),
            check=True,
            capture_output=True,
        )
    if _listening(port):
        raise RuntimeError(
            f"Port {port} is taken by another server: set SALES_KPI_PG_PORT to a free port, or "
            "SALES_KPI_PG_HOST (and _PORT) to use that server."
        )
    if progress:
        progress(f"starting the local PostgreSQL server on 127.0.0.1:{port}")
    # TCP on loopback only (no Unix socket: a test's long data path would not fit one).
    options = f"-p {port} -c unix_socket_directories= -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_owner(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data_dir),
                "-o",
                options,
                "-l",
                str(data_dir / "server.log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    deadline = time.monotonic() + 30
    while not _listening(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL did not start: see {data_dir / 'server.log'}")
        time.sleep(0.2)


def stop_server(data_dir: Path) -> None:
    bin_dir = _bin_dir()
    if bin_dir and (Path(data_dir) / "postmaster.pid").exists():
        subprocess.run(
            _as_owner([str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "stop"]),
            check=False,
            capture_output=True,
        )


def main(argv: list[str] | None = None) -> int:
    from orchestration.engines import get_engine

    command = (argv if argv is not None else sys.argv[1:]) or ["start"]
    engine = get_engine("postgres", os.environ.get("SALES_KPI_HOME", Path.cwd()))
    if engine.local_data_dir is None:
        print("SALES_KPI_PG_HOST is set: the pipeline uses that server, not a local one.")
        return 1
    if command[0] == "stop":
        stop_server(engine.local_data_dir)
    else:
        engine.prepare(print)
        print(f"PostgreSQL running: {engine.describe()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
