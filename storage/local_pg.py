"""A local PostgreSQL cluster for trying the bot and for the tests: `python -m storage.local_pg DIR`
starts one in DIR (creating it on first use) and prints its URL; `--stop` stops it.

The server binaries come from the machine (PATH, or Debian's /usr/lib/postgresql/N/bin). The
server refuses to run as root, so under root it runs as the `postgres` user (DIR is given to
it). It listens on 127.0.0.1 only, trusts local connections (a cluster for trying things, not
for production), and keeps its socket in DIR.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

PORT_FILE = "port"


class ClusterError(RuntimeError):
    """Why a cluster could not be started (one line)."""


def binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version, reverse=True)
    return candidates[0] if candidates else None


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user(directory: Path) -> list[str]:
    """The command prefix that runs the server's tools as a user it accepts."""
    if os.geteuid() != 0:
        return []
    try:
        import pwd

        pw = pwd.getpwnam("postgres")
    except KeyError:
        raise ClusterError("running as root and there is no 'postgres' user to run the server") from None
    for path in [directory, *directory.rglob("*")]:
        os.chown(path, pw.pw_uid, pw.pw_gid)
    return ["runuser", "-u", "postgres", "--"]


def start(directory: Path, port: int | None = None, *, fast: bool = False) -> str:
    """Start (initialising on first use) the cluster in `directory`; its URL. `fast`: fsync off
    (throw-away clusters of the tests: a crash may lose them, which does not matter there)."""
    initdb, pg_ctl = binary("initdb"), binary("pg_ctl")
    if not initdb or not pg_ctl:
        raise ClusterError("PostgreSQL server binaries (initdb, pg_ctl) not found (Debian: apt-get install postgresql)")
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / "data"
    port_file = directory / PORT_FILE
    if port is None:
        port = int(port_file.read_text()) if port_file.exists() else free_port()
    port_file.write_text(str(port))
    run = _as_user(directory)
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    status = subprocess.run([*run, pg_ctl, "-D", str(data), "status"], capture_output=True, timeout=30)
    if data.exists() and status.returncode == 0:
        return url
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1"
    if fast:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    try:
        if not (data / "PG_VERSION").exists():
            subprocess.run([*run, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"],
                           check=True, capture_output=True, timeout=120)
        subprocess.run([*run, pg_ctl, "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w", "start"],
                       check=True, capture_output=True, timeout=120)
    except subprocess.CalledProcessError as exc:
        detail = " ".join((exc.stderr or b"").decode(errors="replace").split())[-300:]
        raise ClusterError(f"could not start PostgreSQL in {directory}: {detail}") from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise ClusterError(f"could not start PostgreSQL in {directory}: {exc}") from None
    return url


def stop(directory: Path) -> None:
    pg_ctl = binary("pg_ctl")
    data = directory.resolve() / "data"
    if pg_ctl and data.exists():
        subprocess.run([*_as_user(directory.resolve()), pg_ctl, "-D", str(data), "-m", "fast", "stop"],
                       capture_output=True, timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m storage.local_pg", description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--stop", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.stop:
            stop(args.directory)
            return 0
        print(start(args.directory))
    except ClusterError as exc:
        print(f"local_pg: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
