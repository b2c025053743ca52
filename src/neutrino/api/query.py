"""Parse a list request's query string (filters, fields, sorting, paging) and build the links.

Repeated keys OR together, different keys AND; unknown filters are a 400, as with Neutron's
filter-validation extension. ``tenant_id`` is an alias of ``project_id``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from neutrino import errors
from neutrino.api import validators
from neutrino.api.attributes import ResourceSpec
from neutrino.domain.listing import ListQuery

PAGING = {"limit", "marker", "page_reverse", "sort_key", "sort_dir", "fields"}
TAG_FILTERS = {"tags": "tags", "tags-any": "tags_any", "not-tags": "not_tags", "not-tags-any": "not_tags_any"}
IGNORED = {"changed_since"}


_INT32 = range(-(2**31), 2**31)
MAX_PAGE = 2**31 - 1


def _can_match(attr: Any, value: Any) -> bool:
    """False for a value no boolean or integer column holds ('' or an integer beyond 32 bits):
    SQLite just finds no row, PostgreSQL would reject the comparison (a 500)."""
    if attr.json_type == "boolean":
        return isinstance(value, bool)
    if attr.json_type == "integer":
        return isinstance(value, int) and not isinstance(value, bool) and value in _INT32
    return True


def _bad(msg: str) -> errors.HTTPBadRequest:
    return errors.HTTPBadRequest(msg=msg)


def parse_list_query(
    spec: ResourceSpec,
    items: list[tuple[str, str]],
    *,
    max_limit: int = -1,
    extra_filters: frozenset[str] = frozenset(),
) -> tuple[ListQuery, list[str]]:
    q = ListQuery()
    fields: list[str] = []
    sort_keys: list[str] = []
    sort_dirs: list[str] = []
    for key, value in items:
        if key == "fields":
            fields.extend(f for f in value.split(",") if f)
        elif key == "limit":
            try:
                limit = int(value)
            except ValueError:
                raise _bad(f"Limit must be an integer 0 or greater and not '{value}'") from None
            if limit < 0:
                raise _bad(f"Limit must be an integer 0 or greater and not '{value}'")
            # a page can never hold more rows than this; a larger value would overflow the
            # database's integer (SQLite: a 500), so it is capped rather than passed on
            q.limit = min(limit, MAX_PAGE) or None
        elif key == "marker":
            q.marker = value
        elif key == "page_reverse":
            try:
                q.page_reverse = validators.convert_to_boolean(value)
            except validators.ConversionError as exc:
                raise _bad(str(exc)) from None
        elif key == "sort_key":
            sort_keys.append(value)
        elif key == "sort_dir":
            sort_dirs.append(value)
        elif key in TAG_FILTERS:
            getattr(q, TAG_FILTERS[key]).extend(t for t in value.split(",") if t)
        elif key in IGNORED:
            continue
        else:
            name = "project_id" if key == "tenant_id" else key
            attr = spec.attrs.get(name)
            if (attr is None or not attr.filter) and name not in extra_filters:
                raise _bad(f"[{key}] is invalid attribute for filtering")
            if attr is not None and attr.convert is not None and value != "":
                try:
                    value = attr.convert(value)
                except validators.ConversionError as exc:
                    raise _bad(str(exc)) from None
            values = q.filters.setdefault(name, [])
            if attr is None or _can_match(attr, value):
                values.append(value)  # (a value that cannot match is left out: no row has it)
    if len(sort_keys) != len(sort_dirs):
        raise _bad("The number of sort_keys and sort_dirs must be same")
    for key, direction in zip(sort_keys, sort_dirs, strict=True):
        name = "project_id" if key == "tenant_id" else key
        attr = spec.attrs.get(name)
        if attr is None or not attr.sort:
            raise _bad(f"{key} is an invalid attribute for sort_keys")
        if direction not in ("asc", "desc"):
            raise _bad(f"{direction} is an invalid value for sort_dir, valid value is 'asc' and 'desc'")
        q.sorts.append((name, direction == "asc"))
    if max_limit > 0 and (q.limit is None or q.limit > max_limit):
        q.limit = max_limit
    return q, fields


def select_fields(item: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    if not fields:
        return item
    return {f: item[f] for f in fields if f in item}


def page_links(
    base_url: str,
    items: list[tuple[str, str]],
    q: ListQuery,
    page: list[dict[str, Any]],
) -> list[dict[str, str]]:
    """Neutron's ``<collection>_links``: next unless a forward page was short, previous likewise.

    An empty page (past the last ``next`` marker) still gets its links, without a marker, as
    Neutron's ``get_previous_link``/``get_next_link`` give them: ``previous`` then reads the
    last page in reverse, so a client can walk back from the end."""
    if not q.limit:
        return []
    kept = [(k, val) for k, val in items if k not in ("marker", "page_reverse")]
    ids = [p["id"] for p in page if "id" in p]
    short = len(page) < q.limit
    links: list[dict[str, str]] = []
    if not (short and not q.page_reverse):
        after = [("marker", ids[-1])] if ids else []
        links.append({"rel": "next", "href": f"{base_url}?{urlencode(kept + after)}"})
    if not (short and q.page_reverse):
        before = [("marker", ids[0])] if ids else []
        prev = kept + before + [("page_reverse", "True")]
        links.append({"rel": "previous", "href": f"{base_url}?{urlencode(prev)}"})
    return links
