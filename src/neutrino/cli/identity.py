"""``neutrino identity``: projects, users and role grants, edited directly in the database.

This works with no server running (and when the admin password is lost), so it opens the store
itself with the same settings as ``neutrino server`` (``--state-dir``, ``--config``,
``--database-url``, NEUTRINO_* variables), brings the schema up to date, and seeds an empty
store exactly as the server would; otherwise users created here first would stop the server
from ever creating its admin. Running servers see changes within their token cache window
(30 seconds).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from neutrino.client_files import write_client_files
from neutrino.config import ServerSettings, load_server_settings
from neutrino.db.engine import make_engine, make_sessionmaker, run_in_transaction
from neutrino.domain.identity import service
from neutrino.domain.identity.bootstrap import bootstrap
from neutrino.domain.identity.service import IdentityError
from neutrino.domain.models.identity import Project, Role, User

T = TypeVar("T")
Row = dict[str, Any]


@dataclass
class Store:
    """How to reach the identity store, and how to print what comes back."""

    config_file: Path | None
    state_dir: Path | None
    database_url: str | None
    as_json: bool
    _sessions: sessionmaker[Session] | None = None

    def settings(self) -> ServerSettings:
        try:
            return load_server_settings(
                self.config_file, state_dir=self.state_dir, database_url=self.database_url
            )
        except (FileNotFoundError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc

    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            from neutrino.db.migrate import upgrade

            settings = self.settings()
            if settings.database_url is None:
                settings.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            engine = make_engine(settings.db_url)
            upgrade(engine)
            self._sessions = make_sessionmaker(engine)
            password = bootstrap(self._sessions, settings)
            if password is not None:
                write_client_files(settings, password)
                click.echo(
                    f"initialised the identity store; admin credentials are in "
                    f"{settings.state_dir / 'clouds.yaml'}",
                    err=True,
                )
        return self._sessions

    def run(self, work: Callable[[Session], T]) -> T:
        return run_in_transaction(self.sessions(), work)

    def show(self, rows: Iterable[Row], columns: list[str], title: str | None = None) -> None:
        rows = list(rows)
        if self.as_json:
            click.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
            return
        table = Table(title=title)
        for column in columns:
            table.add_column(column.replace("_", " ").title(), overflow="fold")
        for row in rows:
            table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
        Console().print(table)

    def show_one(self, row: Row) -> None:
        if self.as_json:
            click.echo(orjson.dumps(row, option=orjson.OPT_INDENT_2).decode())
            return
        table = Table(show_header=True)
        table.add_column("Field")
        table.add_column("Value", overflow="fold")
        for key, value in row.items():
            table.add_row(key, "" if value is None else str(value))
        Console().print(table)


def with_store(command: Callable[..., None]) -> Callable[..., None]:
    """Add the store options and ``--json`` to a command, and report identity errors plainly."""

    @functools.wraps(command)
    def wrapper(
        *, config_file: Path | None, state_dir: Path | None, database_url: str | None, as_json: bool, **kwargs: Any
    ) -> None:
        store = Store(config_file, state_dir, database_url, as_json)
        try:
            command(store, **kwargs)
        except IdentityError as exc:
            raise click.ClickException(exc.message) from exc

    options = [
        click.option("--config", "config_file", type=click.Path(path_type=Path), help="TOML settings file"),
        click.option("--state-dir", type=click.Path(path_type=Path), default=None, help="[/var/lib/neutrino]"),
        click.option("--database-url", default=None, help="SQLAlchemy URL [sqlite:///<state-dir>/neutrino.db]"),
        click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table"),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _project(p: Project) -> Row:
    return {
        "id": p.id,
        "name": p.name,
        "domain_id": p.domain_id,
        "description": p.description,
        "enabled": p.enabled,
    }


def _user(u: User) -> Row:
    return {
        "id": u.id,
        "name": u.name,
        "domain_id": u.domain_id,
        "enabled": u.enabled,
        "default_project_id": u.default_project_id,
        "email": u.email,
        "description": u.description,
    }


def _role(r: Role) -> Row:
    return {"id": r.id, "name": r.name}


@click.group()
def identity() -> None:
    """Projects, users and role grants of the Keystone-compatible store (works offline)."""


# --- projects ---------------------------------------------------------------------------------


@identity.group()
def project() -> None:
    """Create, list and delete projects."""


@project.command("create")
@click.argument("name")
@click.option("--description", default="", help="free text")
@with_store
def project_create(store: Store, name: str, description: str) -> None:
    """Create project NAME in the Default domain."""
    created = store.run(lambda s: _project(service.create_project(s, name=name, description=description)))
    store.show_one(created)


@project.command("list")
@with_store
def project_list(store: Store) -> None:
    """List every project."""
    rows = store.run(lambda s: [_project(p) for p in service.list_projects(s)])
    store.show(rows, ["id", "name", "domain_id", "enabled", "description"], "Projects")


@project.command("delete")
@click.argument("name_or_id")
@with_store
def project_delete(store: Store, name_or_id: str) -> None:
    """Delete a project and its role grants (its network resources are left alone)."""

    def work(session: Session) -> Row:
        found = service.find_project(session, ref=name_or_id)
        row = _project(found)
        service.delete_project(session, project_id=found.id)
        return row

    row = store.run(work)
    _report_deleted(store, "project", row)


# --- users ------------------------------------------------------------------------------------


@identity.group()
def user() -> None:
    """Create, list and delete users, and set their passwords."""


@user.command("create")
@click.argument("name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="login password")
@click.option(
    "--project",
    "project_ref",
    default=None,
    help="grant roles on this project (name or id) and make it the default",
)
@click.option("--role", "roles", multiple=True, help="role to grant on --project (repeatable) [member]")
@click.option("--email", default=None)
@click.option("--description", default="")
@with_store
def user_create(
    store: Store,
    name: str,
    password: str,
    project_ref: str | None,
    roles: tuple[str, ...],
    email: str | None,
    description: str,
) -> None:
    """Create user NAME, optionally with roles on a project."""
    if roles and not project_ref:
        raise click.UsageError("--role needs --project")

    def work(session: Session) -> Row:
        target = service.find_project(session, ref=project_ref) if project_ref else None
        grants = [service.find_role(session, ref=r) for r in (roles or ("member",))] if target else []
        created = service.create_user(
            session,
            name=name,
            password=password,
            default_project_id=target.id if target else None,
            email=email,
            description=description,
        )
        for granted in grants:
            assert target is not None
            service.assign_role(
                session, user_id=created.id, project_id=target.id, role_id=granted.id
            )
        return _user(created) | {"roles": ",".join(r.name for r in grants) or None}

    store.show_one(store.run(work))


@user.command("list")
@with_store
def user_list(store: Store) -> None:
    """List every user (passwords are stored hashed and never shown)."""
    rows = store.run(lambda s: [_user(u) for u in service.list_users(s)])
    store.show(rows, ["id", "name", "domain_id", "enabled", "default_project_id", "email"], "Users")


@user.command("delete")
@click.argument("name_or_id")
@with_store
def user_delete(store: Store, name_or_id: str) -> None:
    """Delete a user and its role grants."""

    def work(session: Session) -> Row:
        found = service.find_user(session, ref=name_or_id)
        row = _user(found)
        service.delete_user(session, user_id=found.id)
        return row

    _report_deleted(store, "user", store.run(work))


@user.command("set-password")
@click.argument("name_or_id")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="new password")
@with_store
def user_set_password(store: Store, name_or_id: str, password: str) -> None:
    """Set a user's password (e.g. to recover a lost admin password)."""

    def work(session: Session) -> Row:
        found = service.find_user(session, ref=name_or_id)
        return _user(service.update_user(session, user_id=found.id, changes={"password": password}))

    row = store.run(work)
    if store.as_json:
        store.show_one(row)
    else:
        click.echo(f"password of user {row['name']} ({row['id']}) changed")


# --- roles ------------------------------------------------------------------------------------


@identity.group()
def role() -> None:
    """List roles and grant or revoke them on projects."""


def _grant(store: Store, user_ref: str, project_ref: str, role_ref: str, give: bool) -> Row:
    def work(session: Session) -> Row:
        who = service.find_user(session, ref=user_ref)
        where = service.find_project(session, ref=project_ref)
        what = service.find_role(session, ref=role_ref)
        change = service.assign_role if give else service.unassign_role
        change(session, user_id=who.id, project_id=where.id, role_id=what.id)
        return {
            "role": what.name,
            "user": who.name,
            "project": where.name,
            "role_id": what.id,
            "user_id": who.id,
            "project_id": where.id,
        }

    return store.run(work)


@role.command("add")
@click.argument("role_ref", metavar="ROLE")
@click.option("--user", "user_ref", required=True, help="user name or id")
@click.option("--project", "project_ref", required=True, help="project name or id")
@with_store
def role_add(store: Store, role_ref: str, user_ref: str, project_ref: str) -> None:
    """Grant ROLE to a user on a project (no error if already granted)."""
    row = _grant(store, user_ref, project_ref, role_ref, give=True)
    if store.as_json:
        store.show_one(row)
    else:
        click.echo(f"granted {row['role']} to {row['user']} on project {row['project']}")


@role.command("remove")
@click.argument("role_ref", metavar="ROLE")
@click.option("--user", "user_ref", required=True, help="user name or id")
@click.option("--project", "project_ref", required=True, help="project name or id")
@with_store
def role_remove(store: Store, role_ref: str, user_ref: str, project_ref: str) -> None:
    """Revoke ROLE from a user on a project."""
    row = _grant(store, user_ref, project_ref, role_ref, give=False)
    if store.as_json:
        store.show_one(row)
    else:
        click.echo(f"revoked {row['role']} from {row['user']} on project {row['project']}")


@role.command("list")
@with_store
def role_list(store: Store) -> None:
    """List the roles."""
    store.show(store.run(lambda s: [_role(r) for r in service.list_roles(s)]), ["id", "name"], "Roles")


@role.command("assignments")
@click.option("--user", "user_ref", default=None, help="only this user (name or id)")
@click.option("--project", "project_ref", default=None, help="only this project (name or id)")
@with_store
def role_assignments(store: Store, user_ref: str | None, project_ref: str | None) -> None:
    """List who holds which role on which project."""

    def work(session: Session) -> list[Row]:
        user_id = service.find_user(session, ref=user_ref).id if user_ref else None
        project_id = service.find_project(session, ref=project_ref).id if project_ref else None
        found = service.list_role_assignments(session, user_id=user_id, project_id=project_id)
        return [
            {
                "role": a.role.name,
                "user": a.user.name,
                "project": a.project.name,
                "role_id": a.role.id,
                "user_id": a.user.id,
                "project_id": a.project.id,
            }
            for a in found
        ]

    store.show(store.run(work), ["role", "user", "project"], "Role assignments")


def _report_deleted(store: Store, kind: str, row: Row) -> None:
    if store.as_json:
        click.echo(orjson.dumps({"id": row["id"], "name": row["name"], "deleted": True}).decode())
    else:
        click.echo(f"deleted {kind} {row['name']} ({row['id']})")
