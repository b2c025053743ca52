"""``./dev tempest [REGEX]``: OpenStack's own network API tests against a fresh lab.

Brings up a lab of its own (a unique name, a private NEUTRINO_LAB_DIR; real agents, so port
status, DHCP and routers are real) with the upstream gate's quotas, creates the external
network, writes tempest.conf for it (tests/tempest/conf.py), runs ``neutron_tempest_plugin.api``
and ``tempest.api.network`` (narrowed by REGEX) with tempest from .tempest-venv, prints the
summary (tests/tempest/report.py) and removes the lab whatever happens. Exit status: 0 when
every failure is in tests/tempest/known_failures.txt, 1 otherwise, 2 when the run could not
start. The workspace (tempest.conf, tempest.log, results.json) stays in .tempest-work/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tests.tempest import conf, report

REPO = Path(__file__).resolve().parents[2]
TEMPEST_VENV = REPO / ".tempest-venv"
WORK = REPO / ".tempest-work"
SUITES = r"(neutron_tempest_plugin\.api|tempest\.api\.network)\."
# tempest's workers are mostly waiting on the server; the server and the agents share the
# machine's two cores with them
CONCURRENCY = 2


class HarnessError(RuntimeError):
    pass


def suite_regex(user: str | None) -> str:
    """The suites' tests, narrowed to those matching ``user`` anywhere in their id."""
    return f"^(?=.*(?:{user}))" + SUITES if user else "^" + SUITES


def _neutrino(*args: str, env: dict[str, str], detach: bool = False) -> subprocess.CompletedProcess[str]:
    """``neutrino ARGS``; ``detach``: in a session of its own, so a second Ctrl-C at the terminal
    does not interrupt it (the lab's removal)."""
    exe = Path(sys.executable).with_name("neutrino")
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, start_new_session=detach)


def _public_network(api: Any, lab: Any) -> str:
    """The external network tempest's router and floating IP tests use, on the lab's outside wire."""
    from neutrino.lab.demo import public_network

    return str(public_network(api, lab, last_address=250)["id"])


DEFAULT_SUBNET_POOLS = (
    ("shared-default-subnetpool-v4", "10.0.0.0/16", 26),
    ("shared-default-subnetpool-v6", "2001:db8:8000::/48", 64),
)
"""What devstack gives a gate deployment (its SUBNETPOOL_* settings, a roomier IPv4 prefix): shared
default pools, which get-me-a-network's tests need (without one they skip)."""


def _default_subnet_pools(api: Any) -> None:
    for name, prefix, size in DEFAULT_SUBNET_POOLS:
        api.request("POST", "subnetpools", {"subnetpool": {
            "name": name, "prefixes": [prefix], "default_prefixlen": size, "shared": True, "is_default": True}})  # fmt: skip


def _write_conf(name: str, workspace: Path) -> Path:
    import yaml

    from neutrino.lab import nodes, state
    from neutrino.lab.api import LabApi

    lab = state.load(name)
    api = LabApi(lab)
    cloud_auth = yaml.safe_load(nodes.clouds_yaml(lab).read_text())["clouds"]["neutrino"]
    extensions = [e["alias"] for e in api.request("GET", "extensions")["extensions"]]
    _default_subnet_pools(api)
    ml2 = nodes.ml2_settings(lab)
    lab_cloud = conf.LabCloud(
        auth_url=cloud_auth["auth"]["auth_url"], username=cloud_auth["auth"]["username"],
        password=cloud_auth["auth"]["password"], project_name=cloud_auth["auth"]["project_name"],
        region=cloud_auth.get("region_name", "RegionOne"), public_network_id=_public_network(api, lab),
        extensions=extensions, type_drivers=ml2["type_drivers"],
        provider_vlans=[r.split(":")[0] for r in ml2["network_vlan_ranges"]],
        log_file=str(workspace / "tempest.log"),
    )  # fmt: skip
    path = workspace / "etc" / "tempest.conf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(conf.render(lab_cloud))
    return path


def _run_tempest(workspace: Path, conf_path: Path, regex: str, concurrency: int) -> list[dict[str, str]]:
    bin_dir = TEMPEST_VENV / "bin"
    cmd = [str(bin_dir / "tempest"), "run", "--config-file", str(conf_path), "--regex", regex,
           "--concurrency", str(concurrency)]  # fmt: skip
    print(f"tempest: {' '.join(cmd)}", flush=True)
    # in a process group of its own, so that an interrupted run stops its stestr workers too;
    # its exit status says only "some test failed": the summary tells
    proc = subprocess.Popen(cmd, cwd=workspace, start_new_session=True)
    try:
        proc.wait()
    except BaseException:
        _stop_group(proc)
        raise
    stream = subprocess.run([str(bin_dir / "stestr"), "last", "--subunit"], cwd=workspace, capture_output=True)
    parsed = subprocess.run([str(bin_dir / "python"), str(Path(__file__).with_name("subunit_to_json.py"))],
                            input=stream.stdout, capture_output=True)  # fmt: skip
    if parsed.returncode != 0:
        raise HarnessError(f"could not read tempest's results: {parsed.stderr.decode(errors='replace')[-500:]}")
    tests: list[dict[str, str]] = json.loads(parsed.stdout)
    if not tests:
        raise HarnessError(f"tempest ran no tests (its log: {workspace / 'tempest.log'})")
    (workspace / "results.json").write_text(json.dumps(tests, indent=1))
    return tests


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group ``proc`` leads (tempest and its workers), SIGKILL after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev tempest", description=__doc__.splitlines()[0])
    parser.add_argument("regex", nargs="?", help="only the tests whose id matches (Python regex)")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--bus", choices=["http", "rabbitmq"], default="http")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args(argv)
    if not (TEMPEST_VENV / "bin" / "tempest").exists():
        print("tempest: .tempest-venv has no tempest (run it through ./dev tempest)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    lab_dir = Path(tempfile.mkdtemp(prefix="nt-", dir="/tmp"))
    lab_dir.chmod(0o755)  # dnsmasq reads its files in the lab's state as nobody
    os.environ["NEUTRINO_LAB_DIR"] = str(lab_dir)  # before neutrino.lab is imported: its state root
    # the OVS TSO probe's answer goes with the lab's directory, not into /run/neutrino
    os.environ.setdefault("NEUTRINO_TSO_PROBE_CACHE", str(lab_dir / "ovs-tso-probe.json"))
    env = {
        **os.environ,
        "NEUTRINO_QUOTAS": json.dumps({**conf.DEFAULT_QUOTAS, **conf.GATE_QUOTAS}),
        "NEUTRINO_DNS_DOMAIN": conf.GATE_DNS_DOMAIN,
        "NEUTRINO_VNI_RANGES": json.dumps(conf.GATE_VNI_RANGES),
    }
    name = "tp" + uuid.uuid4().hex[:5]
    started = time.monotonic()
    shutil.rmtree(WORK, ignore_errors=True)
    workspace = WORK  # tempest init makes it (and refuses an existing directory)
    try:
        print(f"tempest: lab {name} in {lab_dir}", flush=True)
        up = _neutrino("lab", "up", "--name", name, "--json", "--bus", args.bus, "--db", args.db, env=env)
        if up.returncode != 0:
            raise HarnessError(f"lab up failed: {up.stderr.strip()[-800:]}")
        # an empty config dir of our own: without one, tempest init makes ~/.tempest/etc
        with tempfile.TemporaryDirectory(prefix="tempest-etc-") as config_dir:
            init = subprocess.run([str(TEMPEST_VENV / "bin" / "tempest"), "init", "--config-dir", config_dir,
                                   "--workspace-path", str(workspace / "workspace.yaml"), str(workspace)],
                                  capture_output=True, text=True)  # fmt: skip
        if init.returncode != 0:
            raise HarnessError(f"tempest init failed: {init.stderr.strip()[-500:]}")
        conf_path = _write_conf(name, workspace)
        lab_seconds = time.monotonic() - started
        tests = _run_tempest(workspace, conf_path, suite_regex(args.regex), args.concurrency)
    except HarnessError as exc:
        print(f"tempest: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tempest: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print(f"tempest: removing lab {name}", flush=True)
        down = _neutrino("lab", "down", "--name", name, env=env, detach=True)
        if down.returncode != 0:
            print(f"tempest: lab down failed: {down.stderr.strip()[-500:]}", file=sys.stderr)
        else:
            shutil.rmtree(lab_dir, ignore_errors=True)
    known = report.read_known(report.KNOWN_FAILURES.read_text())
    summary = report.summarize(tests, known)
    print(report.render(summary, known))
    print(f"(lab up {lab_seconds:.0f} s, whole run {time.monotonic() - started:.0f} s; workspace: {workspace})")
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
