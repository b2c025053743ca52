"""nft itself accepts the firewall's golden script (tests/fixtures/firewall_full.nft), in check
mode in a throwaway namespace; the unit tier checks, without root, that the renderer produces
exactly that file (tests/unit/test_firewall_rules.py)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from neutrino.dataplane import exec as programs
from neutrino.dataplane.netlink import Netlink

pytestmark = pytest.mark.root
GOLDEN_FULL = Path(__file__).resolve().parents[1] / "fixtures" / "firewall_full.nft"


def test_nft_check_mode_accepts_the_golden_script() -> None:
    ns = f"nt-fw-{secrets.token_hex(4)}-chk"
    with Netlink() as netlink:
        netlink.add_netns(ns, may_exist=False)
        try:
            programs.run(["nft", "-c", "-f", "-"], input=GOLDEN_FULL.read_text(), netns=ns)
            assert programs.run(["nft", "list", "tables"], netns=ns).stdout.strip() == ""  # check mode changed nothing
        finally:
            netlink.del_netns(ns)


def test_marked_tables_apply_and_their_markers_list() -> None:
    """The marker chain (``agent/firewall/applier.py``) is valid nft and ``chains`` reads it back."""
    from neutrino.agent.firewall.applier import marked, marker
    from neutrino.dataplane.nftables import Nftables

    ns = f"nt-fw-{secrets.token_hex(4)}-mrk"
    body = "\tchain forward {\n\t\ttype filter hook forward priority 0; policy accept;\n\t}\n"
    with Netlink() as netlink:
        netlink.add_netns(ns, may_exist=False)
        try:
            nft = Nftables()
            nft.apply_tables({("bridge", "neutrino-fw"): marked(body), ("inet", "neutrino-ct"): marked("")}, netns=ns)
            chains = nft.chains(netns=ns)
            assert chains[("bridge", "neutrino-fw")] == {"forward", marker(body)}
            assert chains[("inet", "neutrino-ct")] == {marker("")}
        finally:
            netlink.del_netns(ns)
