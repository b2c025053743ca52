"""A port delete asks every port extension at once whether it has work (``delete_probe``), and
runs only the hooks that do; what each hook does when it runs is unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select

from neutrino.domain.models import Tag
from neutrino.domain.services import port_status
from tests.api.agent_support import bind, cfg_of, run, state_of

pytestmark = pytest.mark.api


def _traced_statements(api: Any) -> list[str]:
    """Every statement the writer engine's connections run from now on, the driver's own
    included (SQLite's trace callback; PostgreSQL: an empty list, nothing is traced)."""
    engine = state_of(api).sessions.kw["bind"]
    seen: list[str] = []
    if engine.dialect.name != "sqlite":
        return seen

    def traced(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.set_trace_callback(seen.append)

    engine.dispose()  # the pooled connections go; the next ones are traced from the start
    event.listen(engine, "connect", traced)
    return seen


def test_a_plain_ports_delete_reads_no_extension_table_on_its_own(api):
    net = api.network()
    api.subnet(net["id"])
    port = api.port(net["id"])
    seen = _traced_statements(api)
    assert api.delete(f"/v2.0/ports/{port['id']}").status_code == 204
    assert api.get(f"/v2.0/ports/{port['id']}").status_code == 404
    if state_of(api).engine.dialect.name != "sqlite":
        return  # statements are traced on SQLite only
    alone = [s for s in seen if s.lstrip().upper().startswith(("SELECT", "DELETE"))
             and any(f" {t}." in s or f"FROM {t} " in s for t in ("floatingips", "portforwardings", "trunks",
                                                                  "trunk_subports", "provisioning_blocks", "tags"))
             and "EXISTS" not in s and "UNION ALL" not in s]  # fmt: skip (the probes; the notifier's hops)
    assert alone == [], alone
    assert sum("EXISTS" in s for s in seen) == 1  # the probes, one statement


def test_what_the_hooks_clean_goes_with_the_port_and_other_ports_keep_theirs(api):
    net = api.network()
    api.subnet(net["id"])
    doomed = api.port(net["id"], tags=["a", "b"])
    kept = api.port(net["id"], tags=["c"])
    cfg = cfg_of(api)
    for p in (doomed, kept):
        bind(api, p["id"], "c1")
        run(api, lambda s, pid=p["id"]: port_status.on_port_bound(s, cfg, pid, net["id"], "compute:nova"))
    assert run(api, lambda s: port_status.blocks_of(s, doomed["id"])) == {"L2"}

    assert api.delete(f"/v2.0/ports/{doomed['id']}").status_code == 204

    def tags_of(pid: str) -> list[str]:
        return run(api, lambda s: sorted(s.scalars(select(Tag.tag).where(Tag.resource_id == pid))))

    assert tags_of(doomed["id"]) == [] and tags_of(kept["id"]) == ["c"]
    assert run(api, lambda s: port_status.blocks_of(s, doomed["id"])) == set()
    assert run(api, lambda s: port_status.blocks_of(s, kept["id"])) == {"L2"}


def test_a_trunk_parent_is_still_refused_and_nothing_of_it_goes(api):
    net = api.network()
    api.subnet(net["id"])
    parent = api.port(net["id"], tags=["t"])
    trunk = api.post("/v2.0/trunks", {"trunk": {"port_id": parent["id"]}})
    assert trunk.status_code == 201, trunk.text
    r = api.delete(f"/v2.0/ports/{parent['id']}")
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "PortInUseAsTrunkParent"
    assert api.get(f"/v2.0/ports/{parent['id']}").json()["port"]["tags"] == ["t"]
