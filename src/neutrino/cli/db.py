"""``neutrino db``: the database schema, for operators who run migrations themselves (then
``neutrino server --no-migrate``, or ``migrate = false``, leaves the schema alone)."""

from __future__ import annotations

from pathlib import Path

import click

from neutrino.config import ServerSettings, load_server_settings

_OPTIONS = [
    click.option("--config", "config_file", type=click.Path(path_type=Path), help="TOML settings file"),
    click.option("--database-url", default=None, help="SQLAlchemy URL [sqlite:///<state-dir>/neutrino.db]"),
    click.option("--state-dir", type=click.Path(path_type=Path), default=None, help="[/var/lib/neutrino]"),
]


def _with_options(func):  # type: ignore[no-untyped-def]
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def _settings(config_file: Path | None, database_url: str | None, state_dir: Path | None) -> ServerSettings:
    try:
        return load_server_settings(config_file, database_url=database_url, state_dir=state_dir)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def db() -> None:
    """The database schema (Alembic migrations)."""


@db.command()
@_with_options
def upgrade(config_file: Path | None, database_url: str | None, state_dir: Path | None) -> None:
    """Bring the database to the schema this version needs (an empty one gets every table)."""
    from sqlalchemy.exc import SQLAlchemyError

    from neutrino.db.engine import make_engine
    from neutrino.db.migrate import HEAD_REVISION, current
    from neutrino.db.migrate import upgrade as run_upgrade

    settings = _settings(config_file, database_url, state_dir)
    if settings.database_url is None:  # the SQLite file lives in the state dir
        settings.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    try:
        before = current(engine)
        if before == HEAD_REVISION:
            click.echo(f"database already at schema revision {HEAD_REVISION}")
            return
        run_upgrade(engine)
        click.echo(f"database upgraded from {before or 'empty'} to schema revision {current(engine)}")
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot upgrade {engine.url!r}: {str(exc.orig or exc).splitlines()[0]}") from exc
    finally:
        engine.dispose()


@db.command(name="current")
@_with_options
def show_current(config_file: Path | None, database_url: str | None, state_dir: Path | None) -> None:
    """Print the database's schema revision and whether it is the one this version needs."""
    from sqlalchemy.exc import SQLAlchemyError

    from neutrino.db.engine import make_engine
    from neutrino.db.migrate import HEAD_REVISION, current

    settings = _settings(config_file, database_url, state_dir)
    engine = make_engine(settings.db_url)
    try:
        found = current(engine)
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot read {engine.url!r}: {str(exc.orig or exc).splitlines()[0]}") from exc
    finally:
        engine.dispose()
    state = "current" if found == HEAD_REVISION else f"needs {HEAD_REVISION}: run `neutrino db upgrade`"
    click.echo(f"{found or 'empty'} ({state})")
