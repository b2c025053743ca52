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
