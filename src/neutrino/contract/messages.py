"""What travels on the bus: topics, versioned message bodies, and the desired-state codec.

Every message is a JSON-able dict with ``v`` (the format version), so a transport that
serialises (RabbitMQ) and one that does not (in-process) carry the same thing, and a receiver
can refuse a version it does not know instead of misreading it.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from typing import Any

import orjson

from neutrino.contract import desired

VERSION = 1

# request-reply (agents → server), like Neutron's q-plugin and q-reports-plugin topics
PLUGIN_TOPIC = "q-plugin"
# notifications (server → agents of one host), like Neutron's per-host topics
HOST_TOPIC = "host.{host}"

# call methods
GET_DESIRED_STATE = "get_desired_state"
GET_DESIRED_PARTS = "get_desired_parts"
"""The parts of a host's desired state that some ports and security groups reach
(``desired.DesiredParts``); a server without it answers ``UnknownMethod``."""
REPORT_STATE = "report_state"
UPDATE_DEVICE_LIST = "update_device_list"
DHCP_READY = "dhcp_ready_on_ports"
CREATE_DHCP_PORT = "create_dhcp_port"
UPDATE_FIP_STATUSES = "update_floatingip_statuses"
UPDATE_HA_STATES = "update_ha_routers_states"
BIND_PORTS = "bind_router_ports"
REPORT_PASS = "report_pass"
"""One agent pass's status reports in one call (one transaction on the server): ports wired and
unwired, ports ready in DHCP, floating IP statuses."""
TRACE_RESULT = "trace_result"
GET_METADATA_PORT = "get_metadata_port"
"""The one instance port with an address on some networks (a metadata request's source)."""
"""An agent's answer to a trace request: the request id and what its probes printed."""
AUDIT_RESULT = "audit_result"
"""An agent's answer to an audit request: the request id and the drift found (and repaired)."""

# notifications
HOST_CHANGED = "host_changed"
TRACE_REQUEST = "trace_request"
"""Run these read-only probes and answer with TRACE_RESULT (``neutrino trace``, docs/trace.md)."""
TRACE_TOPIC = "trace.{request_id}"
"""Where the server keeps one trace request's answers (its event log), for the waiting request."""
AUDIT_REQUEST = "audit_request"
"""Audit this host's dataplane (repair when ``repair``) and answer with AUDIT_RESULT (docs/audit.md)."""
AUDIT_TOPIC = "audit.{request_id}"


class VersionMismatch(ValueError):
    pass


def message(method: str, **body: Any) -> dict[str, Any]:
    return {"v": VERSION, "method": method, **body}


def check(msg: dict[str, Any]) -> dict[str, Any]:
    if msg.get("v") != VERSION:
        raise VersionMismatch(f"bus message version {msg.get('v')!r}, this side speaks {VERSION}")
    return msg


def host_topic(host: str) -> str:
    return HOST_TOPIC.format(host=host)


def _decode(tp: Any, value: Any) -> Any:
    """Rebuild a dataclass tree from ``dataclasses.asdict`` output, guided by the type hints."""
    return _decoder(tp)(value)


def _same(value: Any) -> Any:
    return value


@functools.lru_cache(maxsize=None)
def _decoder(tp: Any) -> Callable[[Any], Any]:
    """A function decoding values of type ``tp``, the type hints read once per type: a whole
    desired state is some 40,000 values, and a restarted agent's first pass waits for them."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(inner) != 1:
            return _same
        one = _decoder(inner[0])
        return lambda value: None if value is None else one(value)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            each = _decoder(args[0])
            if each is _same:
                return lambda value: None if value is None else tuple(value)
            return lambda value: None if value is None else tuple(map(each, value))
        parts = tuple(_decoder(a) for a in args)
        return lambda value: None if value is None else tuple(d(v) for d, v in zip(parts, value, strict=False))
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        fields = tuple((name, _decoder(hint)) for name, hint in _fields(tp))
        cls = tp

        def build(value: Any) -> Any:
            if value is None:
                return None
            return cls(**{name: decode(value[name]) for name, decode in fields if name in value})

        return build
    return _same


@functools.lru_cache(maxsize=None)
def _fields(tp: type) -> tuple[tuple[str, Any], ...]:
    """(name, resolved type hint) of a dataclass's fields; resolving hints is slow, do it once."""
    hints = typing.get_type_hints(tp)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(tp))


def decode_state(doc: dict[str, Any]) -> desired.DesiredHostState:
    state = _decode(desired.DesiredHostState, doc)
    if state.format_version != desired.FORMAT_VERSION:
        raise VersionMismatch(f"desired state format {state.format_version}, this agent reads {desired.FORMAT_VERSION}")
    return state  # type: ignore[no-any-return]


def decode_parts(doc: dict[str, Any]) -> desired.DesiredParts:
    parts = _decode(desired.DesiredParts, doc)
    if parts.format_version != desired.FORMAT_VERSION:
        raise VersionMismatch(f"desired parts format {parts.format_version}, this agent reads {desired.FORMAT_VERSION}")
    return parts  # type: ignore[no-any-return]


def encode_parts(parts: desired.DesiredParts) -> dict[str, Any]:
    return orjson.loads(orjson.dumps(parts))  # type: ignore[no-any-return]


def encode_state(state: desired.DesiredHostState) -> dict[str, Any]:
    return state.to_json()
