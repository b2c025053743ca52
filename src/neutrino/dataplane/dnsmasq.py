"""A supervised dnsmasq for one network: its files, its process, found again by pidfile.

dnsmasq daemonizes itself and writes ``--pid-file``; it is found again only through that file
and is recognised by its ``--pid-file=`` argument, so a recycled pid, or another network's
dnsmasq, is never signalled (docs/dataplane.md, "dnsmasq per network", "ip netns exec, daemons
and cleanup"). dnsmasq drops to user ``nobody`` before it
reads the hosts, options and addn-hosts files, at start and on every SIGHUP, and a file it
cannot read is only a line in its log while it goes on serving nothing. So the configuration
directory is 0755, the files 0644, and every directory above it must be searchable by others
(checked: a PermanentError says which is not). It opens the lease and pid files as root before
dropping privileges, so a root-owned lease file works. Files are written atomically (a
temporary file then ``os.replace``), so a SIGHUP never reads half a file.
"""

from __future__ import annotations

import os
import signal
import stat
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from neutrino.dataplane import daemons
from neutrino.dataplane.errors import PermanentError

DIR_MODE, FILE_MODE = 0o755, 0o644


def pidfile_of(argv: Sequence[str], conf_dir: Path) -> Path:
    for arg in argv:
        if arg.startswith("--pid-file="):
            return Path(arg.split("=", 1)[1])
    return conf_dir / "pid"


def _expect(pidfile: Path) -> str:
    return f"--pid-file={pidfile}"


def write_atomic(path: Path, text: str, mode: int = FILE_MODE) -> bool:
    """Write ``text`` unless ``path`` already holds it; True if the file changed."""
    try:
        if path.read_text() == text:
            if stat.S_IMODE(path.stat().st_mode) != mode:
                path.chmod(mode)
            return False
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, mode)  # mkstemp makes 0600: nobody could not read it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def check_searchable(directory: Path) -> None:
    """Every directory above ``directory`` must let ``nobody`` through."""
    for parent in directory.resolve().parents:
        if not parent.stat().st_mode & stat.S_IXOTH:
            raise PermanentError("prepare dnsmasq", str(directory),
                                 f"{parent} is not searchable by others: dnsmasq reads its files as nobody")


def stop_pidfile(pidfile: Path, timeout: float = 5.0) -> bool:
    """Stop the dnsmasq that ``pidfile`` names, if it is ours and alive."""
    return daemons.stop(pidfile, _expect(pidfile), timeout)


class Dnsmasq:
    """One network's dnsmasq: ``argv`` run inside ``netns``, files in ``conf_dir``."""

    def __init__(self, netns: str | None, conf_dir: Path, argv: Sequence[str]) -> None:
        self.netns = netns
        self.conf_dir = Path(conf_dir)
        self.argv = list(argv)
        self.pidfile = pidfile_of(self.argv, self.conf_dir)
        self.leasefile = next((Path(a.split("=", 1)[1]) for a in self.argv if a.startswith("--dhcp-leasefile=")), None)
        self._daemon = daemons.Daemon(f"dnsmasq in {netns}", self.argv, self.pidfile, netns=netns,
                                      expect=_expect(self.pidfile))

    @property
    def pid(self) -> int | None:
        return self._daemon.pid

    @property
    def running(self) -> bool:
        return self._daemon.running

    def running_argv(self) -> list[str] | None:
        """The argv of the live dnsmasq (from /proc), None if none runs."""
        pid = self.pid
        if pid is None:
            return None
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            return None
        return [part.decode(errors="replace") for part in raw.split(b"\0") if part]

    def prepare(self) -> None:
        """The directory (0755, searchable from /) and an empty lease file if there is none."""
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        if stat.S_IMODE(self.conf_dir.stat().st_mode) != DIR_MODE:
            self.conf_dir.chmod(DIR_MODE)
        check_searchable(self.conf_dir)
        if self.leasefile is not None and not self.leasefile.exists():
            write_atomic(self.leasefile, "")

    def write_files(self, files: Mapping[str, str]) -> list[str]:
        """Write each ``name: text`` under the directory; the names whose content changed."""
        self.prepare()
        return [name for name, text in files.items() if write_atomic(self.conf_dir / name, text)]

    def read_files(self, names: Iterable[str]) -> dict[str, str | None]:
        """name -> the file's text under the directory, None when it is missing (the audit)."""
        out: dict[str, str | None] = {}
        for name in names:
            try:
                out[name] = (self.conf_dir / name).read_text()
            except (FileNotFoundError, NotADirectoryError):
                out[name] = None
        return out

    def write_leases(self, text: str) -> None:
        """Replace the lease file (only while dnsmasq is stopped: it owns the file while it runs)."""
        if self.leasefile is not None and not self.running:
            self.prepare()
            write_atomic(self.leasefile, text)

    def ensure(self, timeout: float = 10.0) -> int:
        """Start unless running; the pid."""
        self.prepare()
        return self._daemon.start(timeout)

    def reload(self) -> int:
        """SIGHUP: reread the hosts, options and addn-hosts files (start if not running)."""
        pid = self.pid
        if pid is None:
            return self.ensure()
        try:
            os.kill(pid, signal.SIGHUP)
        except ProcessLookupError:
            return self.ensure()
        return pid

    def restart(self, timeout: float = 10.0) -> int:
        self.stop()
        return self.ensure(timeout)

    def stop(self, timeout: float = 5.0) -> bool:
        return self._daemon.stop(timeout)


class DnsmasqServers:
    """The DHCP agent's servers, one dnsmasq per network (``ports.DhcpServers``)."""

    def server(self, netns: str | None, conf_dir: Path, argv: Sequence[str]) -> Dnsmasq:
        return Dnsmasq(netns, conf_dir, argv)

    def stop(self, conf_dir: Path) -> bool:
        """Stop the network's dnsmasq found by its pidfile (its argv may be unknown now)."""
        return stop_pidfile(Path(conf_dir) / "pid")
