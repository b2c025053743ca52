"""One simulated host's pass on a members-only hint, profiled: the per-host CPU that bounds
``bench/scale.py``'s change 1 (hundreds of hosts woken at once on two CPUs).

A ``HostAgent`` with the fake dataplane and a canned server (no broker, no database): a host of
``--ports`` ports like the scale bench's (one ``web`` member, the rest ``base``; ``web``'s rule
names ``web``, which has ``--members`` addresses), a first whole pass, then ``--passes`` passes
each woken by a ``host_changed`` naming ``web`` whose answer has one more member. Prints the CPU
per members-only pass (thread time, the median) and, with ``--profile``, cProfile's top.

Usage: ``./dev bench pass_cost [--ports 30] [--members 500] [--passes 200] [--profile]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_hosts import _agent, Recorder  # noqa: E402

from neutrino.contract import desired as c  # noqa: E402
from neutrino.contract import messages  # noqa: E402

WEB, BASE = "5e0e0e0e-0000-4000-8000-00000000000a", "5e0e0e0e-0000-4000-8000-00000000000b"
NET = "2e0e0e0e-0000-4000-8000-0000000000{:02x}"


def rules(group: str) -> tuple[c.SecurityRule, ...]:
    egress = (c.SecurityRule(group, "egress", "IPv4", None, None, None, ()),
              c.SecurityRule(group, "egress", "IPv6", None, None, None, ()))  # fmt: skip
    if group == WEB:
        return (*egress, c.SecurityRule(group, "ingress", "IPv4", None, None, None, (), remote_group_id=WEB))
    return (*egress, c.SecurityRule(group, "ingress", "IPv4", "tcp", 22, 22, ("0.0.0.0/0",)))


def host_state(host: str, plan: list[dict[str, Any]], members: tuple[str, ...]) -> c.DesiredHostState:
    ports = []
    for p in plan:
        group = WEB if "web" in p["groups"] else BASE
        ports.append(c.BoundPort(
            port_id=p["id"], network_id=p["network_id"], mac_address=p["mac"], admin_state_up=True,
            device_owner="compute:nova", device_id="vm", vif_type="ovs",
            segment=c.Segment("vlan", "physnet1", int(p["network_id"][-2:], 16) + 1, 1500),
            fixed_ips=(c.FixedIP("s" + p["network_id"][1:], p["ip"], p["ip"].rsplit(".", 1)[0] + ".0/22", None),),
            port_security_enabled=True, security_groups=(group,), rules=rules(group), allowed_address_pairs=(),
            revision_number=1))  # fmt: skip
    return c.DesiredHostState(host=host, ports=tuple(ports), remote_groups=(c.RemoteGroup(WEB, members, ()),)).with_fingerprint()


class CannedServer:
    """The calls a pass makes, answered from the state and the current members of ``web``."""

    def __init__(self, state: c.DesiredHostState) -> None:
        self.state, self.members = state, state.remote_groups[0].ipv4

    def call(self, topic: str, msg: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        method = msg["method"]
        if method == messages.GET_DESIRED_STATE:
            reply: dict[str, Any] = {"state": messages.encode_state(self.state)}
        elif method == messages.GET_DESIRED_PARTS:
            parts = c.DesiredParts(host=self.state.host, asked_groups=(WEB,), group_rules=(c.GroupRules(WEB, rules(WEB)),),
                                   remote_groups=(c.RemoteGroup(WEB, self.members, ()),))  # fmt: skip
            reply = {"parts": messages.encode_parts(parts)}
        else:
            reply = {"result": "ok"}
        return orjson.loads(orjson.dumps(reply))  # as off the wire

    def subscribe(self, topic: str, listener: Any) -> Any:
        self.listener = listener
        return lambda: None

    def serve(self, topic: str, handler: Any) -> None: ...
    def publish(self, topic: str, msg: dict[str, Any]) -> None: ...
    def close(self) -> None: ...


class NoShare:
    """``scale_hosts._agent`` wraps a shared transport in ``HostTransport``: pass ours through."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--ports", type=int, default=30)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--passes", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    plan = [{"id": f"{i:08x}-aaaa-4bbb-8ccc-{i:012x}", "mac": f"fa:16:3e:00:{i >> 8 & 255:02x}:{i & 255:02x}",
             "network_id": NET.format(i % 7), "ip": f"10.0.{i % 7 * 4}.{10 + i}", "groups": ["web"] if i == 0 else ["base"]}
            for i in range(args.ports)]  # fmt: skip
    members = tuple(f"10.{1 + i // 60000}.{i // 250 % 240}.{i % 250 + 1}" for i in range(args.members))
    server = CannedServer(host_state("h0000", plan, members))
    agent = _agent("h0000", plan, server, Recorder())  # type: ignore[arg-type]
    agent.client.transport = server  # not the shared-connection wrapper
    agent.desired.client.transport = server
    agent.reconcile_once()  # the first, whole pass
    hint = messages.message(messages.HOST_CHANGED, host="h0000", revision=1, ports=[], security_groups=[WEB])
    profile = None
    if args.profile:
        import cProfile

        profile = cProfile.Profile()
    costs = []
    for n in range(args.passes):
        server.members = (*members, f"10.200.{n // 250}.{n % 250 + 1}")
        agent.desired.hinted(hint)
        t0 = time.process_time()
        if profile is not None:
            profile.enable()
        agent.reconcile_once()
        if profile is not None:
            profile.disable()
        costs.append(time.process_time() - t0)
        assert server.members[-1] in agent.desired.cached.remote_groups[0].ipv4  # type: ignore[union-attr]
    costs.sort()
    print(f"members-only pass, {args.ports} ports, {args.members} members: CPU p50 {costs[len(costs) // 2] * 1000:.2f} ms, "
          f"p90 {costs[len(costs) * 9 // 10] * 1000:.2f} ms; fetched {agent.desired.fetched}")  # fmt: skip
    if profile is not None:
        import pstats

        pstats.Stats(profile).sort_stats("cumulative").print_stats(35)
    return 0


if __name__ == "__main__":
    sys.exit(main())
