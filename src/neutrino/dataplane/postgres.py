"""A private PostgreSQL cluster run by neutrino itself: the tests' throwaway database, and the
lab's controller database (``lab demo --db postgresql``).

``PostgresCluster(directory=None, host="127.0.0.1", port=None, netns=None).start()`` runs
``initdb`` into ``directory`` (default: a fresh temporary one, removed again by ``stop``) and
starts ``postgres`` from the Debian binaries (``/usr/lib/postgresql/<version>/bin``) as a child
process whose PID is kept. It listens on a unix socket inside that directory and on ``host`` at
``port`` (default: a free one), inside network namespace ``netns`` when given (``ip netns exec``
execs, so the PID stays the postmaster's). A temporary directory is on tmpfs (``/dev/shm``) when
there is one and the cluster runs with durability off (fsync=off): its data is thrown away; a
given directory keeps durability on. ``stop()`` shuts the server down by that PID (SIGINT = fast
shutdown, then SIGKILL if it lingers) and returns once it is gone; it is idempotent and also
registered with ``atexit``. ``create_role`` and ``create_database`` make what a server uses.

Root may not run PostgreSQL: as root the directory is given to the ``postgres`` system user,
``initdb`` runs through ``runuser -u postgres --`` and the server is started with that user's
uid/gid (directly, or by ``setpriv`` after ``ip netns exec``; ``runuser`` would fork a watching
parent that ignores SIGINT, so the PID we keep would not be the postmaster's). Any system-wide
cluster (``pg_ctlcluster``) is ignored. Should this process die without ``stop()``, the server
is told to shut down too (parent-death signal, via ``setpriv``); start the cluster from the main
thread, as pytest fixtures are.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SERVER_SETTINGS = {
    "max_connections": "200",
    "shared_buffers": "64MB",
    "unix_socket_permissions": "0777",
    "log_min_messages": "warning",
    "timezone": "UTC",
}
THROWAWAY_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.name  # /usr/lib/postgresql/<version>/bin
    return tuple(int(p) for p in re.findall(r"\d+", version)) or (0,)


def find_bindir() -> Path | None:
    """The newest PostgreSQL server binaries: Debian's versioned dirs, then ``pg_config``."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    candidates = [Path(p) for p in found]
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(Path(out.stdout.strip()))
    for bindir in candidates:
        if all(os.access(bindir / exe, os.X_OK) for exe in ("initdb", "postgres")):
            return bindir
    return None


def _scratch_dir() -> str | None:
    """Where the cluster lives: tmpfs (/dev/shm) when usable, as CREATE DATABASE copies a few
    megabytes per test and a slow disk makes that cost 0.1-0.3 s; else the usual temp dir."""
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) and os.stat(shm).st_mode & 0o001:
        return shm
    return None


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries (or no user to run them as) on this machine."""


class PostgresCluster:
    """One private cluster: ``start()``, ``create_database(name) -> url``, ``stop()``."""

    superuser = "postgres"

    def __init__(
        self,
        bindir: Path | None = None,
        *,
        directory: Path | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        netns: str | None = None,
    ) -> None:
        """``directory``: where the cluster lives (kept by ``stop``; default a temporary one,
        removed by ``stop``); ``host``/``port``: the TCP address (port default: a free one,
        probed in this process's namespace, so give one with ``netns``); ``netns``: the
        network namespace the server runs in."""
        self.bindir = bindir or find_bindir()
        self.directory = Path(directory) if directory is not None else None
        self.host = host
        self.netns = netns
        self._fixed_port = port
        self.tmpdir: Path | None = None
        self.port: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._run_as: pwd.struct_passwd | None = None
        self._version: int | None = None

    # --- availability -------------------------------------------------------------------------

    def unavailable_reason(self) -> str | None:
        """Why this machine cannot run the cluster, or None if it can."""
        if self.bindir is None:
            return (
                "PostgreSQL server binaries not found (no initdb/postgres under "
                "/usr/lib/postgresql/*/bin); install the Debian package 'postgresql' "
                "(./dev test does it)"
            )
        try:
            import psycopg  # noqa: F401
        except ImportError:
            return "the psycopg driver is not installed (pip install -e '.[postgres]')"
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root but there is no 'postgres' system user to run PostgreSQL as"
            if shutil.which("runuser") is None:
                return "running as root but runuser(1) is missing"
        return None

    @property
    def available(self) -> bool:
        return self.unavailable_reason() is None

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def socket_dir(self) -> Path:
        assert self.tmpdir is not None, "cluster not started"
        return self.tmpdir

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> PostgresCluster:
        reason = self.unavailable_reason()
        if reason:
            raise PostgresUnavailable(reason)
        assert self.proc is None, "already started"
        atexit.register(self.stop)
        try:
            self._initdb()
            last_error: Exception | None = None
            for _attempt in range(1 if self._fixed_port else 3):  # a probed port may be taken meanwhile
                try:
                    self._start_server()
                    return self
                except RuntimeError as exc:
                    last_error = exc
            raise RuntimeError(f"PostgreSQL did not start: {last_error}")
        except BaseException:
            self.stop()
            raise

    def _user_cmd(self, argv: list[str]) -> list[str]:
        if self._run_as is None:
            return argv
        return ["runuser", "-u", self._run_as.pw_name, "--", *argv]

    def _initdb(self) -> None:
        assert self.bindir is not None
        if self.directory is not None:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.tmpdir = self.directory
        else:
            self.tmpdir = Path(tempfile.mkdtemp(prefix="neutrino-pg-", dir=_scratch_dir()))
        if os.geteuid() == 0:
            self._run_as = pwd.getpwnam("postgres")
            os.chown(self.tmpdir, self._run_as.pw_uid, self._run_as.pw_gid)
            for parent in self.tmpdir.resolve().parents:
                if not os.stat(parent).st_mode & 0o001:
                    raise RuntimeError(
                        f"{self.tmpdir}: the postgres user cannot reach it ({parent} is not "
                        "searchable by others: chmod o+x, or choose another directory)"
                    )
        data = self.tmpdir / "data"
        if (data / "PG_VERSION").exists():  # a kept directory: the cluster is there already
            return
        cmd = self._user_cmd([
            str(self.bindir / "initdb"),
            "-D", str(data),
            "-U", self.superuser,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ])
        out = subprocess.run(
            cmd, cwd=self.tmpdir, capture_output=True, text=True, timeout=120, env=self._env()
        )
        if out.returncode != 0:
            raise RuntimeError(f"initdb failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C", TZ="UTC")
        if self._run_as is not None:
            env.update(HOME=self._run_as.pw_dir, USER=self._run_as.pw_name, LOGNAME=self._run_as.pw_name)
        return env

    def _start_server(self) -> None:
        assert self.bindir is not None and self.tmpdir is not None
        self.port = self._fixed_port or _free_port(self.host)
        argv = [str(self.bindir / "postgres"), "-D", str(self.tmpdir / "data"),
                "-p", str(self.port), "-k", str(self.tmpdir)]
        settings = dict(SERVER_SETTINGS, listen_addresses=self.host)
        if self.directory is None:
            settings.update(THROWAWAY_SETTINGS)
        if str(self.tmpdir).startswith("/dev/shm/"):
            # segments as files in the data dir (already RAM): nothing outlives the directory
            settings["dynamic_shared_memory_type"] = "mmap"
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        ids: dict[str, object] = {}
        if self.netns is not None:
            # ip netns exec needs root's capabilities: setpriv drops to the postgres user after
            # it (each execs in turn, so the PID stays the server's)
            user = []
            if self._run_as is not None:
                user = [f"--reuid={self._run_as.pw_uid}", f"--regid={self._run_as.pw_gid}", "--clear-groups"]
            argv = ["ip", "netns", "exec", self.netns, "setpriv", *user, "--pdeathsig", "INT", "--", *argv]
        else:
            if shutil.which("setpriv"):
                # if this process dies without stop() (SIGTERM, SIGKILL), the server gets SIGINT
                # (fast shutdown) instead of lingering; setpriv execs, so the PID stays the server's
                argv = ["setpriv", "--pdeathsig", "INT", "--", *argv]
            if self._run_as is not None:
                ids = {"user": self._run_as.pw_uid, "group": self._run_as.pw_gid, "extra_groups": []}
        log_path = self.tmpdir / "postgres.log"
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                argv,
                cwd=self.tmpdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env(),
                start_new_session=True,  # a ^C in the terminal reaches pytest, which stops us
                **ids,  # type: ignore[arg-type]
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise RuntimeError(f"postgres exited with {code}:\n{self._log_tail()}")
            if self._ready():
                return
            if time.monotonic() > deadline:
                self._shutdown()
                raise RuntimeError(f"postgres not ready after {START_TIMEOUT}s:\n{self._log_tail()}")
            time.sleep(0.05)

    def _ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.conninfo("postgres"), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def _log_tail(self, lines: int = 30) -> str:
        if self.tmpdir is None:
            return ""
        try:
            return "\n".join((self.tmpdir / "postgres.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "<no postgres log>"

    def _shutdown(self) -> None:
        """Stop the postmaster by its PID: SIGINT (fast shutdown), then SIGKILL."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(STOP_TIMEOUT)

    def stop(self) -> None:
        """Shut the server down and remove its directory; safe to call more than once."""
        try:
            self._shutdown()
        finally:
            tmp, self.tmpdir = self.tmpdir, None
            if tmp is not None and self.directory is None:
                shutil.rmtree(tmp, ignore_errors=True)
            with contextlib.suppress(Exception):
                atexit.unregister(self.stop)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- databases ----------------------------------------------------------------------------

    def conninfo(self, dbname: str) -> str:
        """libpq keywords for psycopg: the superuser over the unix socket."""
        return f"host={self.socket_dir} port={self.port} user={self.superuser} dbname={dbname}"

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL for a database of this cluster (over the unix socket)."""
        return f"postgresql+psycopg://{self.superuser}@/{dbname}?host={self.socket_dir}&port={self.port}"

    def tcp_url(self, dbname: str, user: str | None = None, password: str | None = None) -> str:
        """SQLAlchemy URL over TCP (``host``:``port``), as the superuser or a role made by
        ``create_role``."""
        from urllib.parse import quote

        login = quote(user or self.superuser, safe="")
        if password is not None:
            login += ":" + quote(password, safe="")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"postgresql+psycopg://{login}@{host}:{self.port}/{dbname}"

    def create_role(self, name: str, password: str) -> None:
        """A login role (a plain lower-case identifier) with this password; the password is
        sent as a bound literal, never formatted into the statement's text."""
        import psycopg
        from psycopg import sql

        if not _NAME.match(name):
            raise ValueError(f"not a plain role name: {name!r}")
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            statement = sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}")
            conn.execute(statement.format(sql.Identifier(name), sql.Literal(password)))

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def _server_version(self) -> int:
        if self._version is None:
            import psycopg

            with psycopg.connect(self.conninfo("postgres")) as conn:
                self._version = conn.info.server_version
        return self._version

    def create_database(self, name: str, template: str | None = None, owner: str | None = None) -> str:
        """CREATE DATABASE ``name`` (a plain lower-case identifier), a copy of ``template``
        (default: the empty template1; no one may be connected to it), owned by role ``owner``
        (default: the superuser); returns its URL (the superuser's, over the unix socket)."""
        for ident in (name, template, owner):
            if ident is not None and not _NAME.match(ident):
                raise ValueError(f"not a plain identifier: {ident!r}")
        sql = f"CREATE DATABASE {name}"
        if owner is not None:
            sql += f" OWNER {owner}"
        if template is not None:
            sql += f" TEMPLATE {template}"
        # FILE_COPY: with fsync off, copying the tiny template beats WAL-logging it (PG >= 15)
        if self._server_version() >= 150000:
            sql += " STRATEGY = FILE_COPY"
        self._admin(sql)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE, disconnecting whatever a test left connected."""
        if not _NAME.match(name):
            raise ValueError(f"not a plain database name: {name!r}")
        if self.proc is None:
            return
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
