"""The README, run as written: its ``sh`` blocks in order, in one fresh shell, as a new user on
a fresh machine would type them (see tests/readme_blocks.py for how blocks are marked).

"Fresh" means: ``env -i`` (no virtualenv on PATH, no OS_* or NEUTRINO_* variables), an empty
HOME, and a machine of its own: the shell runs under ``unshare`` in new mount, network and PID
namespaces, with empty tmpfs over ``/etc/openstack``, ``/var/lib/neutrino``, ``/run/neutrino``
and ``/run/netns``, so the README's lab ``seed``, its port 9696 and its paths are the README's own
and meet nothing of this machine (the host's clouds.yaml is never read or written; another lab
named seed elsewhere is not seen; a mount point missing on the machine is made for the run and
removed after it). Cleanup cannot be forgotten: the shell's EXIT trap takes the
lab down and stops the servers by their pidfiles, and when the shell (PID 1 of its namespace)
ends, the kernel ends every process left in it, and with them the namespaces and links.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.readme_blocks import runnable_blocks, script, split_output

pytestmark = pytest.mark.root
REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 1200
PRIVATE_DIRS = ("/etc/openstack", "/var/lib/neutrino", "/run/neutrino", "/run/netns")
FRESH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

SANDBOX = """\
set -e
created=()   # mount points this run had to make on the machine's disk: removed again at the end
for d in {dirs}; do
  if [ ! -d "$d" ]; then mkdir "$d"; created+=("$d"); fi
  mount -t tmpfs -o mode=755 neutrino-readme "$d"
done
mount -t sysfs sysfs /sys    # /sys/class/net of this network namespace
ip link set lo up
cleanup() {{
  set +e
  echo '@@block cleanup'
  cd {repo}
  for lab in /run/neutrino/lab/*/; do [ -d "$lab" ] && .venv/bin/neutrino lab down --name "$(basename "$lab")"; done
  for pidfile in /var/lib/neutrino/server.pid {home}/neutrino-state/server.pid; do
    [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
  done
  for d in "${{created[@]}}"; do umount -l "$d" && rmdir "$d"; done
  true
}}
trap cleanup EXIT
cd {repo}
env -i PATH={path} HOME={home} TERM=dumb LANG=C.UTF-8 bash --noprofile --norc {script}
"""


def test_readme_runs_as_written(tmp_path: Path) -> None:
    run = runnable_blocks()
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "readme.sh").write_text(script(run))
    sandbox = tmp_path / "sandbox.sh"
    sandbox.write_text(SANDBOX.format(dirs=" ".join(PRIVATE_DIRS), repo=REPO, home=home, path=FRESH_PATH,
                                      script=tmp_path / "readme.sh"))  # fmt: skip
    argv = ["unshare", "--mount", "--net", "--pid", "--fork", "--mount-proc", "--propagation", "private",
            "--kill-child=SIGKILL", "bash", str(sandbox)]  # fmt: skip
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
        output, code = done.stdout, done.returncode
    except subprocess.TimeoutExpired as exc:  # unshare is killed; --kill-child ends the namespace
        output = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        code = None
    (tmp_path / "transcript.txt").write_text(output)
    sys.stdout.write(output)  # the transcript (pytest shows it with -s, or on failure)
    parts = split_output(output)
    reached = [k for k in parts if k.isdigit()]
    last = reached[-1] if reached else None
    where = f"block {last} (README.md line {run[int(last) - 1].line})" if last else "before the first block"
    assert "end" in parts and code == 0, f"the README stopped in {where} (exit {code}):\n{parts.get(last or 'before', '')}"
    for number, block in enumerate(run, 1):
        for expected in block.expects:
            assert expected in parts[str(number)], (
                f"block {number} (README.md line {block.line}) did not print {expected!r}:\n{parts[str(number)]}"
            )
