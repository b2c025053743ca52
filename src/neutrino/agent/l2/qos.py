"""QoS on br-int as data: OpenFlow meters for bandwidth limits, a flow action for DSCP marks.

Why meters: this kernel has no tc police action, so OVS's ingress policing fails here
("cls_basic policing action failed"), while the userspace datapath implements OpenFlow meters
itself (docs/dataplane.md, "QoS"). Per port with a policy (its own, else its network's):

* egress (from the VM): br-int table 0, ``in_port=<vif>`` -> ``meter:<2*ofport>`` then the
  usual ``resubmit(,60)``; with a DSCP mark, the port's IPv4/IPv6 traffic also gets
  ``mod_nw_tos:<dscp << 2>`` (mod_nw_tos takes the TOS byte);
* ingress (to the VM): table 60, ``dl_dst=<mac>`` -> ``meter:<2*ofport+1>,NORMAL``.

A meter drops what exceeds its rate (kbit/s) after a burst (kbit; 80% of the rate when the rule
gives none, as Neutron's ``DEFAULT_BURST_RATE``). Meter ids follow the VIF's ofport, which is
stable for the port's life and unique on br-int. Pure: the reconciler applies the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from neutrino.agent.l2.ovs_flows import LOCAL_SWITCHING, TRANSIENT_TABLE
from neutrino.contract.desired import QosLimits
from neutrino.dataplane.openflow import Flow, Meter

DEFAULT_BURST_RATE = 0.8
EGRESS_PRIORITY, DSCP_PRIORITY, INGRESS_PRIORITY = 10, 11, 2


@dataclass(frozen=True)
class QosPort:
    vif: str
    """The port's device on br-int (qvo…, or a trunk's tpi-/spi- patch)."""
    ofport: int
    mac: str
    limits: QosLimits


def burst(rate: int, given: int | None) -> int:
    return given if given else max(1, int(rate * DEFAULT_BURST_RATE))


def plan(ports: Iterable[QosPort]) -> tuple[dict[int, Meter], list[Flow]]:
    """(meter id -> (rate, burst), br-int flows) for the ports' limits."""
    meters: dict[int, Meter] = {}
    flows: list[Flow] = []
    for p in sorted(ports, key=lambda q: q.ofport):
        lim, egress = p.limits, []
        if lim.egress_kbps:
            meters[2 * p.ofport] = (lim.egress_kbps, burst(lim.egress_kbps, lim.egress_burst_kbps))
            egress = [f"meter:{2 * p.ofport}"]
            flows.append(Flow(LOCAL_SWITCHING, EGRESS_PRIORITY, f"in_port={p.vif}",
                              ",".join([*egress, f"resubmit(,{TRANSIENT_TABLE})"])))  # fmt: skip
        if lim.dscp_mark is not None:
            for proto in ("ip", "ipv6"):
                flows.append(Flow(LOCAL_SWITCHING, DSCP_PRIORITY, f"in_port={p.vif},{proto}",
                                  ",".join([*egress, f"mod_nw_tos:{lim.dscp_mark << 2}", f"resubmit(,{TRANSIENT_TABLE})"])))  # fmt: skip
        if lim.ingress_kbps:
            meters[2 * p.ofport + 1] = (lim.ingress_kbps, burst(lim.ingress_kbps, lim.ingress_burst_kbps))
            flows.append(Flow(TRANSIENT_TABLE, INGRESS_PRIORITY, f"dl_dst={p.mac}", f"meter:{2 * p.ofport + 1},NORMAL"))
    return meters, flows
