"""nftables: one whole table per purpose and namespace, replaced atomically with ``nft -f``.

A table is rendered as text (by pure renderers elsewhere) and applied in one transaction that
declares the table, deletes it and recreates it with its full content, so that packets never
see a half-applied rule set and nothing of the old content survives. Tables neutrino owns are
named ``neutrino-*``; nothing else in a namespace is touched. ``apply_tables`` replaces or
deletes several tables of one namespace in one script, one ``nft -f`` and one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from neutrino.dataplane import exec as programs
from neutrino.dataplane.errors import PermanentError

OWNED_PREFIX = "neutrino"
FAMILIES = ("ip", "ip6", "inet", "arp", "bridge", "netdev")


def check_table(family: str, table: str) -> None:
    if family not in FAMILIES:
        raise PermanentError("nft", f"{family} {table}", f"unknown family (one of {', '.join(FAMILIES)})")
    if not table.startswith(OWNED_PREFIX) or not table.replace("-", "").replace("_", "").isalnum():
        raise PermanentError("nft", f"{family} {table}", f"not a neutrino table name ({OWNED_PREFIX}-...)")


def replace_script(family: str, table: str, body: str) -> str:
    """The ``nft -f`` script that replaces the whole table with ``body`` in one transaction."""
    check_table(family, table)
    return f"table {family} {table}\ndelete table {family} {table}\ntable {family} {table} {{\n{body.rstrip()}\n}}\n"


def tables_script(tables: Mapping[tuple[str, str], str | None]) -> str:
    """One script for (family, table) -> body: replaced by the body, or deleted when None (a
    table declared and then deleted: absent or not before, it is absent after)."""
    out = []
    for (family, table), body in sorted(tables.items()):
        if body is None:
            check_table(family, table)
            out.append(f"table {family} {table}\ndelete table {family} {table}\n")
        else:
            out.append(replace_script(family, table, body))
    return "".join(out)


def parse_chains(text: str) -> dict[tuple[str, str], set[str]]:
    """``nft list chains`` (or a table's text) -> (family, table) -> chain names."""
    out: dict[tuple[str, str], set[str]] = {}
    current: set[str] | None = None
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] == "table" and not line[:1].isspace():
            current = out.setdefault((words[1], words[2]), set())
        elif len(words) >= 2 and words[0] == "chain" and current is not None:
            current.add(words[1])
    return out


class Nftables:
    def apply_tables(self, tables: Mapping[tuple[str, str], str | None], *, netns: str | None) -> None:
        if tables:
            programs.run(["nft", "-f", "-"], input=tables_script(tables), netns=netns)

    def apply_table(self, family: str, table: str, body: str, *, netns: str | None) -> None:
        programs.run(["nft", "-f", "-"], input=replace_script(family, table, body), netns=netns)

    def delete_table(self, family: str, table: str, *, netns: str | None) -> None:
        check_table(family, table)
        programs.run(["nft", "-f", "-"], input=f"table {family} {table}\ndelete table {family} {table}\n", netns=netns)

    def list_tables(self, *, netns: str | None) -> list[tuple[str, str]]:
        out = json.loads(programs.run(["nft", "-j", "list", "tables"], netns=netns).stdout or "{}")
        return [
            (item["table"]["family"], item["table"]["name"])
            for item in out.get("nftables", [])
            if "table" in item
        ]

    def chains(self, *, netns: str | None) -> dict[tuple[str, str], set[str]]:
        """(family, table) -> its chains' names, for every table: ``nft list chains`` prints no
        rules, so it takes milliseconds where listing a table of 500 ports takes a second."""
        return parse_chains(programs.run(["nft", "list", "chains"], netns=netns).stdout)

    def table(self, family: str, table: str, *, netns: str | None) -> str | None:
        done = programs.run(["nft", "list", "table", family, table], netns=netns, check=False)
        return done.stdout if done.returncode == 0 else None
