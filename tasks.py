#!/usr/bin/env python3
"""Entry points that need nothing but Python 3.11:

    python3 tasks.py demo   # set up .venv, run the sandbox + sample-data demo
    python3 tasks.py test   # set up .venv, run ruff, mypy and the whole test suite

``.venv`` is created on first use and re-installed when ``pyproject.toml`` changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import venv
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed-from"


def _run(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_text(wanted)


def demo() -> int:
    ensure_venv()
    return subprocess.call([str(BIN / "sticky-sync"), "demo", *sys.argv[2:]], cwd=ROOT)


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def start_postgres() -> tuple[str, Callable[[], None]] | None:
    """A throw-away PostgreSQL cluster for the state-DB tests, if this machine has the
    server binaries (Debian's postgresql package); None otherwise (those tests skip)."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        print("PostgreSQL server binaries not found: PostgreSQL state tests will skip")
        return None
    data = Path(tempfile.mkdtemp(prefix="sticky-pg-"))
    as_user: list[str] = []
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(data, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    try:
        subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-w", "-l", str(data / "log"),
                        "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"],
                       check=True, stdout=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"could not start PostgreSQL ({exc}): PostgreSQL state tests will skip")
        return None

    def stop() -> None:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "fast", "stop"],
                       check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(data, ignore_errors=True)

    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


def test() -> int:
    ensure_venv()
    _run(BIN / "ruff", "check", ".")
    _run(BIN / "mypy")
    env = dict(os.environ)
    postgres = None if "STICKY_SYNC_TEST_PG_URL" in env else start_postgres()
    if postgres is not None:
        env["STICKY_SYNC_TEST_PG_URL"] = postgres[0]
    try:
        return subprocess.call([str(BIN / "python"), "-m", "pytest", *sys.argv[2:]],
                               cwd=ROOT, env=env)
    finally:
        if postgres is not None:
            postgres[1]()


def main() -> int:
    commands = {"demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    try:
        return commands[sys.argv[1]]()
    except subprocess.CalledProcessError as exc:
        return exc.returncode or 1


if __name__ == "__main__":
    raise SystemExit(main())
