"""VLAN-aware instances: an instance whose port is a trunk's parent, with VLAN subinterfaces.

As Nova does with a trunk (docs/neutron-behaviour.md, "Trunks"): the parent port and the
subports are made first, unbound (the OVS trunk driver cannot trunk a bound port), then the
trunk, then the parent is bound to the host (the server binds the subports beside it) and the
VIF is plugged into ``tbr-<trunk id>`` instead of br-int; the L2 agent patches that bridge to
br-int. Inside the instance, each subport is a subinterface ``eth0.<vid>`` carrying the
subport's MAC and fixed IP. This kernel has no 8021q, so the subinterfaces are TAP devices of
the userspace VLAN helper (tools/vlanhelper.py), which tags and untags on eth0; it runs in the
instance's namespace and goes with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from typing import Any

from neutrino.dataplane import exec as programs
from neutrino.dataplane.netlink import Netlink
from neutrino.lab import instances, resolve
from neutrino.lab.instances import Instance, InstanceError

HELPER_START = 10.0


def parse_subport(spec: str) -> tuple[str, int]:
    """``NETWORK:VID`` (the network by name or id) -> (network, vid)."""
    network, sep, vid = spec.rpartition(":")
    if not sep or not network or not vid.isdigit() or not 1 <= int(vid) <= 4094:
        raise InstanceError(f"subport {spec!r}: give NETWORK:VID with a VLAN id 1-4094")
    return network, int(vid)


def create(
    lab: resolve.ResolvedLab, name: str, *, network: str, subports: list[tuple[str, int]], host: str | None = None,
    security_groups: tuple[str, ...] = (),
) -> Instance:
    """A trunk instance: eth0 on ``network`` (DHCP when its subnet has it), eth0.<vid> on each
    subport network (static: the subport's fixed IP)."""
    from neutrino.lab.api import LabApi

    if (instances._dir(lab) / f"{name}.json").exists():
        raise InstanceError(f"instance {name!r} exists in lab {lab.name}")
    api = LabApi(lab)
    host = host or instances._least_loaded_compute(lab)
    made: list[str] = []
    trunk_id = None
    try:
        body: dict[str, Any] = {"network_id": api.find("networks", network)["id"], "name": name}
        if security_groups:
            body["security_groups"] = [api.find("security-groups", sg)["id"] for sg in security_groups]
        parent = api.request("POST", "ports", {"port": body})["port"]
        made.append(parent["id"])
        subs = []
        for net, vid in subports:
            port = api.request("POST", "ports", {"port": {"network_id": api.find("networks", net)["id"],
                                                          "name": f"{name}.{vid}", **_sg(body)}})["port"]  # fmt: skip
            made.append(port["id"])
            mtu = api.request("GET", f"networks/{port['network_id']}")["network"].get("mtu")
            subs.append({"vid": vid, "port_id": port["id"], "mac": port["mac_address"], "ip": _cidr(api, port), "mtu": mtu})
        trunk = api.request("POST", "trunks", {"trunk": {"port_id": parent["id"], "name": name, "sub_ports": [
            {"port_id": s["port_id"], "segmentation_type": "vlan", "segmentation_id": s["vid"]} for s in subs]}})["trunk"]
        trunk_id = trunk["id"]
        vm = _plug(lab, name, api, host, parent["id"], trunk_id)
        vm = replace(vm, subports=subs)
        (instances._dir(lab) / f"{name}.json").write_text(json.dumps(vm.to_dict(), indent=2))
        start_vlans(vm)
        return vm
    except Exception:
        _cleanup(api, made[0] if made else None, trunk_id, made)
        if (instances._dir(lab) / f"{name}.json").exists():
            instances.unplug(lab.host(host), instances.get(lab, name))
            (instances._dir(lab) / f"{name}.json").unlink(missing_ok=True)
        raise


def _sg(body: dict[str, Any]) -> dict[str, Any]:
    return {"security_groups": body["security_groups"]} if "security_groups" in body else {}


def _cidr(api: Any, port: dict[str, Any]) -> str | None:
    if not port["fixed_ips"]:
        return None
    fixed = port["fixed_ips"][0]
    subnet = api.request("GET", f"subnets/{fixed['subnet_id']}")["subnet"]
    return f"{fixed['ip_address']}/{subnet['cidr'].split('/')[1]}"


def _plug(lab: resolve.ResolvedLab, name: str, api: Any, host: str, parent_id: str, trunk_id: str) -> Instance:
    """Bind the parent (the server binds the subports), plug eth0 into tbr-<trunk>, address it."""
    import uuid

    vm_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"neutrino-lab:{lab.name}:{name}"))
    binding = {"device_owner": "compute:nova", "device_id": vm_uuid, "binding:host_id": host}
    port = api.request("PUT", f"ports/{parent_id}", {"port": binding})["port"]
    net = api.request("GET", f"networks/{port['network_id']}")["network"]
    ip = gw = None
    use_dhcp = False
    if port["fixed_ips"]:
        subnet = api.request("GET", f"subnets/{port['fixed_ips'][0]['subnet_id']}")["subnet"]
        use_dhcp = subnet["enable_dhcp"]
        if not use_dhcp:
            ip, gw = _cidr(api, port), subnet.get("gateway_ip")
    vm = instances.create(lab, name, host=host, mac=port["mac_address"], ip=ip, gateway=gw,
                          mtu=None if use_dhcp else net.get("mtu"), port_id=port["id"], api_port=True,
                          trunk_id=trunk_id)  # fmt: skip
    if use_dhcp:
        instances._wait_active(api, port["id"])
        vm = instances.dhcp_lease(lab, name)
    return vm


def start_vlans(vm: Instance) -> None:
    """Start the VLAN helper in the instance and address each eth0.<vid>."""
    if not vm.subports:
        return
    argv = [sys.executable, "-m", "neutrino.tools.vlanhelper", "eth0", *(str(s["vid"]) for s in vm.subports)]
    helper = subprocess.Popen(programs.netns_argv(argv, vm.netns), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              stdin=subprocess.DEVNULL, text=True, start_new_session=True)  # fmt: skip
    assert helper.stdout is not None
    if helper.stdout.readline().strip() != "ready":
        helper.kill()
        raise InstanceError(f"instance {vm.name}: the VLAN helper did not start")
    helper.stdout.close()
    _configure(vm, vm.subports)


def _configure(vm: Instance, subports: list[dict[str, Any]]) -> None:
    """MAC and IP of each subport on its eth0.<vid>, TX checksum offload off as on every lab NIC
    (docs/dataplane.md)."""
    with Netlink() as netlink:
        for sub in subports:
            dev = f"eth0.{sub['vid']}"
            netlink.set_link(dev, netns=vm.netns, address=sub["mac"], mtu=sub.get("mtu") or None, up=True)
            if sub.get("ip"):
                netlink.add_address(dev, sub["ip"], netns=vm.netns)
            programs.run(["ethtool", "-K", dev, "tx", "off"], netns=vm.netns, check=False)


def add_subports(lab: resolve.ResolvedLab, name: str, subports: list[tuple[str, int]]) -> Instance:
    """Subports added to a running trunk instance, as a guest would configure new VLANs: a port on
    each network (the parent's security groups), ``add_subports`` on the trunk (the server binds
    them beside the parent), then the VLAN helper learns the VIDs (started if it was not) and
    eth0.<vid> gets the subport's MAC and IP. On an error the ports made here are removed."""
    from neutrino.lab.api import LabApi

    vm = instances.get(lab, name)
    if vm.trunk_id is None:
        raise InstanceError(f"instance {name!r} is not a trunk instance")
    taken = {s["vid"] for s in vm.subports}
    if any(vid in taken for _, vid in subports):
        raise InstanceError(f"instance {name!r} has VLAN {sorted(taken & {v for _, v in subports})} already")
    api = LabApi(lab)
    groups = api.request("GET", f"ports/{vm.port_id}")["port"].get("security_groups") or []
    made: list[str] = []
    added = False
    try:
        subs = []
        for net, vid in subports:
            port = api.request("POST", "ports", {"port": {"network_id": api.find("networks", net)["id"],
                                                          "name": f"{name}.{vid}", "security_groups": groups}})["port"]  # fmt: skip
            made.append(port["id"])
            mtu = api.request("GET", f"networks/{port['network_id']}")["network"].get("mtu")
            subs.append({"vid": vid, "port_id": port["id"], "mac": port["mac_address"], "ip": _cidr(api, port), "mtu": mtu})
        api.request("PUT", f"trunks/{vm.trunk_id}/add_subports", {"sub_ports": [
            {"port_id": s["port_id"], "segmentation_type": "vlan", "segmentation_id": s["vid"]} for s in subs]})
        added = True
        if vm.subports:
            argv = [sys.executable, "-m", "neutrino.tools.vlanhelper", "--add", "eth0", *(str(s["vid"]) for s in subs)]
            done = programs.run(argv, netns=vm.netns, check=False)
            if done.returncode != 0:
                raise InstanceError(f"instance {name}: the VLAN helper did not take VLANs {[s['vid'] for s in subs]}")
            _configure(vm, subs)
        else:
            start_vlans(replace(vm, subports=subs))
    except Exception:
        if added:
            api.request("PUT", f"trunks/{vm.trunk_id}/remove_subports", {"sub_ports": [{"port_id": p} for p in made]})
        _cleanup(api, None, None, made)
        raise
    vm = replace(vm, subports=[*vm.subports, *subs])
    (instances._dir(lab) / f"{name}.json").write_text(json.dumps(vm.to_dict(), indent=2))
    return vm


def _cleanup(api: Any, parent_id: str | None, trunk_id: str | None, port_ids: list[str]) -> None:
    """Unbind the parent (a bound parent's trunk cannot go), delete the trunk, then the ports."""
    from neutrino.lab.api import ApiError

    steps: list[tuple[str, str, Any]] = []
    if parent_id is not None:
        steps.append(("PUT", f"ports/{parent_id}", {"port": {"binding:host_id": "", "device_id": "", "device_owner": ""}}))
    if trunk_id is not None:
        steps.append(("DELETE", f"trunks/{trunk_id}", None))
    steps += [("DELETE", f"ports/{pid}", None) for pid in port_ids]
    for method, path, body in steps:
        try:
            api.request(method, path, body)
        except ApiError as exc:
            if " 404 " not in str(exc):
                raise


def release(lab: resolve.ResolvedLab, vm: Instance) -> None:
    """The API side of ``vm delete`` for a trunk instance (already unplugged)."""
    from neutrino.lab.api import LabApi

    _cleanup(LabApi(lab), vm.port_id, vm.trunk_id, [vm.port_id, *(s["port_id"] for s in vm.subports)])
