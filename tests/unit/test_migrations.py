"""The schema as the migrations build it equals the models, and HEAD_REVISION is the newest."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.unit


def test_head_revision_constant_matches_scripts(tmp_path):
    from alembic.script import ScriptDirectory

    from neutrino.db.engine import make_engine
    from neutrino.db.migrate import HEAD_REVISION, alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == HEAD_REVISION
    engine.dispose()


def test_migrated_schema_matches_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from neutrino.db.engine import make_engine
    from neutrino.db.migrate import HEAD_REVISION, current, upgrade_if_needed
    from neutrino.domain.models import Base

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert current(engine) is None
    assert upgrade_if_needed(engine, isolated=True)
    assert current(engine) == HEAD_REVISION
    assert not upgrade_if_needed(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    engine.dispose()


def test_0008_gives_shared_and_external_networks_their_wildcard_policies(tmp_path):
    """Networks made shared or external before RBAC get the '*' policies Neutron would have."""
    from alembic import command
    from sqlalchemy import text

    from neutrino.db.engine import make_engine
    from neutrino.db.migrate import alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    config = alembic_config(engine)
    command.upgrade(config, "0004")
    with engine.begin() as conn:
        for net_id, shared, external in (("n1", True, False), ("n2", False, True), ("n3", False, False)):
            conn.execute(
                text(
                    "INSERT INTO networks (id, project_id, name, admin_state_up, status, shared, mtu, "
                    "port_security_enabled, router_external, description, created_at, updated_at, revision_number) "
                    "VALUES (:id, 'p', '', 1, 'ACTIVE', :shared, 1500, 1, :external, '', "
                    "'2026-01-01 00:00:00', '2026-01-01 00:00:00', 0)"
                ),
                {"id": net_id, "shared": shared, "external": external},
            )
    command.upgrade(config, "0008")
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT object_id, action, target_project, project_id FROM rbac_policies ORDER BY object_id"
        )).all()
    assert [tuple(r) for r in rows] == [("n1", "access_as_shared", "*", "p"), ("n2", "access_as_external", "*", "p")]
    engine.dispose()
