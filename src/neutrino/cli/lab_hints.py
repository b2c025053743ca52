"""What the lab commands suggest next, in the very forms the README uses (``./dev neutrino``,
``./dev openstack``), so that every hint works as written in a fresh shell."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from neutrino.lab import state


def say_if_reused(lab_name: str, console: Console) -> None:
    """`up` is idempotent; say so when it finds the lab up, so that names already taken there
    (networks, instances) do not come as a surprise."""
    if lab_name not in state.labs():
        return
    from neutrino.lab import instances

    count = len(instances.list_(state.load(lab_name)))
    held = f" with {count} instance(s)" if count else ""
    console.print(f"lab {lab_name} is already up{held}: reusing it (`./dev neutrino lab down` first for a fresh one)")


def explore(name: str, cloud_doc: dict[str, Any] | None, host: str) -> str:
    """The commands `lab up` suggests, in the very form the README uses (they work as written)."""
    lab_opt = "" if name == "seed" else f" --lab {name}"
    name_opt = "" if name == "seed" else f" --name {name}"
    lines = []
    if cloud_doc:
        lines += [
            f"  export OS_CLIENT_CONFIG_FILE={cloud_doc['clouds_yaml']} OS_CLOUD=neutrino",
            "  ./dev openstack network create --provider-network-type vxlan net1",
            "  ./dev openstack subnet create --network net1 --subnet-range 10.0.1.0/24 sub1",
            f"  ./dev neutrino vm create vm1 --network net1{lab_opt}",
        ]
    lines += [
        f"  ./dev neutrino lab exec{name_opt} {host} -- ovs-vsctl show",
        f"  ./dev neutrino lab logs{name_opt} server",
    ]
    return "\n".join(lines)


def demo(name: str, clouds_yaml: str | None, vm4_ip: str) -> str:
    lab_opt = "" if name == "seed" else f" --lab {name}"
    name_opt = "" if name == "seed" else f" --name {name}"
    return (
        f"  export OS_CLIENT_CONFIG_FILE={clouds_yaml} OS_CLOUD=neutrino\n"
        "  ./dev openstack network list; ./dev openstack router show router1; ./dev openstack floating ip list\n"
        f"  ./dev neutrino vm list{lab_opt}; ./dev neutrino vm exec{lab_opt} vm3 -- ping -c 2 {vm4_ip}\n"
        f"  ./dev neutrino lab exec{name_opt} compute1 -- ovs-ofctl dump-flows br-int\n"
        f"  ./dev neutrino lab logs{name_opt} server\n"
        f"  ./dev neutrino lab down{name_opt}      # removes everything"
    )
