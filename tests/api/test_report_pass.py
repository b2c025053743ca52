"""An agent pass's status reports arrive in one call and one transaction (``report_pass``)."""

from __future__ import annotations

import pytest

from neutrino.contract import messages
from tests.api.agent_support import report, state_of
from tests.api.test_bus_rpc import call
from tests.api.test_port_status import bound_port, status

pytestmark = pytest.mark.api


def test_one_call_clears_dhcp_and_l2_blocks_of_many_ports(api):
    report(api, "net1", kind="dhcp")
    net = api.network()
    api.subnet(net["id"])
    report(api, "net1", kind="dhcp")
    ports = [bound_port(api, net["id"])[0]["id"] for _ in range(3)]
    commits: list[object] = []
    sessions = state_of(api).sessions
    from sqlalchemy import event

    def count(session: object) -> None:
        commits.append(session)

    event.listen(sessions, "after_commit", count)
    try:
        reply = call(api, messages.REPORT_PASS, host="c1", devices_up=ports, devices_down=[], dhcp_ready=ports,
                     fip_statuses={"no-such-fip": "ACTIVE"})  # fmt: skip
    finally:
        event.remove(sessions, "after_commit", count)
    assert len(commits) == 1
    assert sorted(reply["devices_up"]) == sorted(ports) and reply["fips_updated"] == []
    assert all(status(api, p) == "ACTIVE" for p in ports)


def test_an_empty_report_changes_nothing(api):
    reply = call(api, messages.REPORT_PASS, host="c1", devices_up=[], devices_down=[], dhcp_ready=[], fip_statuses={})
    assert reply == {"dhcp_ready": {}, "fips_updated": [], "devices_up": [], "devices_down": []}


def test_a_report_costs_the_same_statements_for_two_ports_or_eight(api):
    """The ports of a pass are completed together: a fixed number of statements, not six per port."""
    from sqlalchemy import event

    report(api, "net1", kind="dhcp")
    net = api.network()
    api.subnet(net["id"])
    state = state_of(api)
    state.bus.notifier.stop()  # its passes after the port creates would run statements meanwhile (the count flaked in CI)
    state.bus.notifier.capture.start()  # the report's own transaction still captures as it does in service
    engine = state.sessions.kw["bind"]
    counts = []
    for n in (2, 8):
        ports = [bound_port(api, net["id"])[0]["id"] for _ in range(n)]
        other = bound_port(api, net["id"], host="c2")[0]["id"]  # bound elsewhere: ignored
        statements: list[str] = []

        def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", seen)
        try:
            reply = call(api, messages.REPORT_PASS, host="c1", devices_up=[*ports, other, "no-such-port"], devices_down=[],
                         dhcp_ready=ports, fip_statuses={})  # fmt: skip
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert sorted(reply["devices_up"]) == sorted(ports) and sorted(reply["dhcp_ready"]) == sorted(ports)
        assert all(status(api, p) == "ACTIVE" for p in ports) and status(api, other) == "DOWN"
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_a_restarted_agents_report_of_active_ports_costs_one_query_and_changes_nothing(api):
    net = api.network()
    api.subnet(net["id"], enable_dhcp=False)
    ports = [bound_port(api, net["id"])[0]["id"] for _ in range(3)]
    call(api, messages.REPORT_PASS, host="c1", devices_up=ports[:2], devices_down=[], dhcp_ready=[], fip_statuses={})
    revisions = {p: api.get(f"/v2.0/ports/{p}").json()["port"]["revision_number"] for p in ports}
    statements: list[str] = []
    from sqlalchemy import event

    state = state_of(api)
    state.bus.notifier.stop()  # no background pass's statements in the count
    state.bus.notifier.capture.start()
    engine = state.sessions.kw["bind"]
    listener = lambda *args: statements.append(str(args[3]))  # noqa: E731 - the parameters
    event.listen(engine, "before_cursor_execute", listener)
    try:  # a fresh agent reports all three: two were ACTIVE already, one still waits for L2
        reply = call(api, messages.REPORT_PASS, host="c1", devices_up=ports, devices_down=[], dhcp_ready=[], fip_statuses={})
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert sorted(reply["devices_up"]) == sorted(ports)
    assert all(status(api, p) == "ACTIVE" for p in ports)
    after = {p: api.get(f"/v2.0/ports/{p}").json()["port"]["revision_number"] for p in ports}
    assert [after[p] - revisions[p] for p in ports] == [0, 0, 1]  # only the third changed
    assert [sum(p in s for s in statements) for p in ports[:2]] == [1, 1]  # only in the one batched query
    wrong_host = call(api, messages.REPORT_PASS, host="c2", devices_up=ports, devices_down=[], dhcp_ready=[], fip_statuses={})
    assert wrong_host["devices_up"] == []
