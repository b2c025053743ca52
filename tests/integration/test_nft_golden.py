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
