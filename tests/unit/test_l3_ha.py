"""HA routers' pure parts: VRRP id choice, state names, the keepalived configuration, the
supervision of one keepalived per router (with a fake process), and HA scheduling choices."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from neutrino.agent.l3 import keepalived
from neutrino.agent.l3.ha import HaRouters
from neutrino.contract.desired import FixedIP, FloatingIPState, RouterHa, Segment
from neutrino.domain.l3 import ha as rules
from tests.unit.test_l3_nat import QG, QR, router

pytestmark = pytest.mark.unit

HA_PORT = "33333333-cccc-4ccc-8ccc-000000000003"
HA_DEV = "ha-33333333-cc"


def ha_router(**kw: Any):  # type: ignore[no-untyped-def]
    base = router(**kw)
    part = RouterHa(7, HA_PORT, "fa:16:3e:00:00:03",
                    (FixedIP("hasub", "169.254.192.5", "169.254.192.0/18", None),), Segment("vxlan", None, 9, 1450))  # fmt: skip
    return dataclasses.replace(base, ha=part)


def test_vr_id_lowest_free_and_exhaustion():
    assert rules.choose_vr_id([]) == 1
    assert rules.choose_vr_id([1, 2, 4, None]) == 3
    assert rules.choose_vr_id(range(1, 255)) is None


def test_reported_states_normalised():
    assert rules.normalise_state("MASTER") == "active" and rules.normalise_state("active") == "active"
    assert rules.normalise_state("BACKUP") == "standby" and rules.normalise_state("FAULT") == "standby"
    assert keepalived.state_of("MASTER\n") == "active"
    assert keepalived.state_of(None) == "standby" and keepalived.state_of("BACKUP") == "standby"


def test_keepalived_config_owns_every_address_and_route():
    fips = (FloatingIPState("f1", "198.51.100.20", "10.0.1.5", "p", "DOWN"),)
    text = keepalived.render(ha_router(fips=fips, routes=(("192.168.9.0/24", "10.0.1.254"),)),
                             keepalived.VrrpSettings(advert_int=1, auth_password="secret-long-password"),
                             "/run/r1/notify.sh")  # fmt: skip
    lines = [line.strip() for line in text.splitlines()]
    assert "vrrp_instance VR_7 {" in lines
    for expected in ("state BACKUP", f"interface {HA_DEV}", "virtual_router_id 7", "priority 50", "nopreempt",
                     "advert_int 1", "auth_type PASS", "auth_pass secret-l", "garp_master_delay 60"):  # fmt: skip
        assert expected in lines, expected
    assert f"169.254.0.7/24 dev {HA_DEV}" in lines  # the primary VIP
    excluded = lines[lines.index("virtual_ipaddress_excluded {") + 1 : lines.index("virtual_routes {") - 1]
    assert excluded == [f"198.51.100.10/24 dev {QG}", f"198.51.100.20/32 dev {QG}", f"10.0.1.1/24 dev {QR}"]
    assert f"0.0.0.0/0 via 198.51.100.1 dev {QG}" in lines
    assert "192.168.9.0/24 via 10.0.1.254" in lines
    assert "notify /run/r1/notify.sh" in lines
    assert text.count("{") == text.count("}")


def test_keepalived_config_without_gateway_has_no_routes():
    text = keepalived.render(ha_router(gateway=False), keepalived.VrrpSettings(), "/n")
    assert "virtual_routes" not in text and f"10.0.1.1/24 dev {QR}" in text and "advert_int 2" in text


def test_notify_script_records_the_state(tmp_path: Path):
    import subprocess

    script = tmp_path / "notify.sh"
    state = tmp_path / "state"
    script.write_text(keepalived.notify_script(str(state)))
    script.chmod(0o755)
    subprocess.run([str(script), "INSTANCE", "VR_7", "MASTER", "50"], check=True)
    assert state.read_text().strip() == "MASTER"


class FakeKeepalived:
    """Records what the supervisor asks; ``alive`` False makes the next ensure a restart."""

    def __init__(self, netns: str, conf_dir: Path) -> None:
        self.netns, self.conf_dir = netns, conf_dir
        self.notify, self.state_file = conf_dir / "notify.sh", conf_dir / "state"
        self.config = ""
        self.starts = self.reloads = self.stops = 0
        self.alive = False
        self.recorded: str | None = None

    def write(self, config: str, script: str) -> bool:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        changed, self.config = config != self.config, config
        return changed

    def ensure(self, changed: bool) -> int:
        if not self.alive:
            self.starts += 1
            self.alive = True
            self.recorded = None
        elif changed:
            self.reloads += 1
        return 42

    def state(self) -> str | None:
        return self.recorded

    def stop(self) -> bool:
        self.stops += 1
        self.alive = False
        return True

    vrrp_pid = None

    @property
    def pid(self) -> int | None:
        return 42 if self.alive else None


def test_supervision_start_reload_restart_and_stop(tmp_path: Path):
    made: dict[str, FakeKeepalived] = {}

    def factory(netns: str, conf_dir: Path) -> FakeKeepalived:
        made[conf_dir.name] = FakeKeepalived(netns, conf_dir)
        return made[conf_dir.name]

    ha = HaRouters(tmp_path, keepalived.VrrpSettings(advert_int=1), factory)
    r = ha_router()
    assert ha.apply("ns-r1", r) == "standby"
    daemon = made["r1"]
    assert daemon.starts == 1 and "advert_int 1" in daemon.config
    ha.apply("ns-r1", r)
    assert (daemon.starts, daemon.reloads) == (1, 0)  # nothing changed
    ha.apply("ns-r1", dataclasses.replace(r, routes=(("192.168.9.0/24", "10.0.1.254"),)))
    assert daemon.reloads == 1
    daemon.recorded = "MASTER"
    assert ha.state("r1") == "active"
    daemon.alive = False  # it died: seen, and started again, as BACKUP
    assert ha.stopped() == ["r1"]
    assert ha.apply("ns-r1", r) == "standby" and daemon.starts == 2 and ha.stopped() == []
    (tmp_path / "left-over").mkdir()  # a router of an earlier agent run
    gone = ha.remove_stale(set(), lambda rid: f"ns-{rid}")
    assert gone == ["left-over", "r1"] and daemon.stops == 1 and made["left-over"].stops == 1
    assert not (tmp_path / "r1").exists()


def test_sub_second_adverts_use_vrrp_version_3_without_authentication():
    text = keepalived.render(ha_router(), keepalived.VrrpSettings(advert_int=0.5), "/n")
    lines = [line.strip() for line in text.splitlines()]
    assert "version 3" in lines and "advert_int 0.5" in lines and "authentication {" not in lines
    whole = keepalived.render(ha_router(), keepalived.VrrpSettings(advert_int=1), "/n")
    assert "version 3" not in whole and "    advert_int 1\n" in whole


def test_reporter_binds_only_active_routers_and_reports_changes():
    import threading

    from neutrino.agent.l3.ha_report import HaReporter

    class Client:
        def __init__(self) -> None:
            self.sent: list[dict[str, str]] = []

        def update_ha_states(self, states: dict[str, str]) -> list[str]:
            self.sent.append(states)
            return list(states)

    class Ha:
        recorded: dict[str, str] = {}
        dead: list[str] = []

        def state(self, rid: str) -> str | None:
            return self.recorded.get(rid)

        def stopped(self) -> list[str]:
            return self.dead

    client, ha, woken = Client(), Ha(), threading.Event()
    reporter = HaReporter(ha, client, woken.set, poll=0.01)
    legacy, r1 = router(), dataclasses.replace(ha_router(), router_id="r1")
    assert reporter.bindable([legacy, r1]) == [legacy]
    assert reporter.after_pass({"r1": "standby"}) and client.sent == [{"r1": "standby"}]
    assert not reporter.after_pass({"r1": "standby"}) and len(client.sent) == 1
    assert reporter.after_pass({"r1": "active"}) and reporter.bindable([r1]) == [r1]
    stop = threading.Event()
    watcher = threading.Thread(target=reporter.watch, args=(stop,))
    watcher.start()
    try:
        ha.recorded = {"r1": "standby"}  # keepalived moved: the worker is woken
        assert woken.wait(30)
        woken.clear()
        ha.recorded, ha.dead = {"r1": "active"}, ["r1"]  # a keepalived died: woken too
        assert woken.wait(30)
    finally:
        stop.set()
        watcher.join(2)


def test_agents_wanted_per_router():
    from neutrino.domain.config import DomainConfig
    from neutrino.domain.scheduling.l3 import agents_wanted

    assert agents_wanted(DomainConfig(), is_ha=False) == 1
    assert agents_wanted(DomainConfig(), is_ha=True) == 3  # max_l3_agents_per_router's default
    assert agents_wanted(DomainConfig(max_l3_agents_per_router=0), is_ha=True) == 0  # every suitable agent
