"""The agent's side of the bus: fetch the host's desired state, report, get woken up."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from neutrino.contract import messages
from neutrino.bus import versions
from neutrino.bus.transport import Transport, TransportError
from neutrino.contract.desired import DesiredHostState, DesiredParts


class PartsUnsupported(TransportError):
    """The server does not answer ``get_desired_parts`` (it is older than the agent)."""


class AgentClient:
    def __init__(self, transport: Transport, host: str) -> None:
        self.transport = transport
        self.host = host

    def _call(self, method: str, **body: Any) -> dict[str, Any]:
        reply = self.transport.call(messages.PLUGIN_TOPIC, messages.message(method, host=self.host, **body))
        if "error" in reply:
            raise TransportError(f"{method}: {reply['error']['type']}: {reply['error']['message']}")
        return reply

    def desired_state(self) -> DesiredHostState:
        return messages.decode_state(self._call(messages.GET_DESIRED_STATE)["state"])

    def desired_parts(self, ports: Iterable[str] = (), security_groups: Iterable[str] = (), logged: int = 0,
                      local_networks: Iterable[str] | None = None) -> DesiredParts:  # fmt: skip
        """The parts of this host's desired state that the ports and groups reach; raises
        ``PartsUnsupported`` if the server has no such call (an older one). ``logged``: the
        event-log number of the notifications that named them (the server may answer from
        pieces it kept since, ``domain/projection/shared_parts.py``); ``local_networks``: the
        networks of the agent's last state, over which the server answers its tunnel peers when
        a port bound elsewhere is among ``ports``."""
        extra: dict[str, Any] = {"logged": logged} if logged else {}
        if local_networks is not None:
            extra["local_networks"] = sorted(local_networks)
        reply = self.transport.call(messages.PLUGIN_TOPIC, messages.message(
            messages.GET_DESIRED_PARTS, host=self.host, ports=sorted(ports), security_groups=sorted(security_groups), **extra))
        if reply.get("error", {}).get("type") == "UnknownMethod":
            raise PartsUnsupported(reply["error"]["message"])
        if "error" in reply:
            raise TransportError(f"{messages.GET_DESIRED_PARTS}: {reply['error']['type']}: {reply['error']['message']}")
        return messages.decode_parts(reply["parts"])

    def report_state(self, *, agent_type: str, binary: str, topic: str, configurations: dict[str, Any],
                     start_flag: bool = False, availability_zone: str | None = None) -> str:  # fmt: skip
        reply = self._call(
            messages.REPORT_STATE, agent_type=agent_type, binary=binary, topic=topic, configurations=configurations,
            start_flag=start_flag, availability_zone=availability_zone,
        )  # fmt: skip
        return str(reply["result"])

    def update_device_list(self, up: Iterable[str] = (), down: Iterable[str] = (), entity: str = "L2") -> dict[str, Any]:
        return self._call(messages.UPDATE_DEVICE_LIST, devices_up=list(up), devices_down=list(down), entity=entity)

    def report_pass(
        self, up: Iterable[str] = (), down: Iterable[str] = (), dhcp_ready: Iterable[str] = (),
        fip_statuses: dict[str, str] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Everything one pass has to report, in one call (``update_device_list``,
        ``dhcp_ready`` and ``update_floatingip_statuses`` together)."""
        return self._call(messages.REPORT_PASS, devices_up=list(up), devices_down=list(down),
                          dhcp_ready=list(dhcp_ready), fip_statuses=dict(fip_statuses or {}))  # fmt: skip

    def dhcp_ready(self, port_ids: Iterable[str]) -> dict[str, Any]:
        return self._call(messages.DHCP_READY, port_ids=list(port_ids))

    def create_dhcp_port(self, network_id: str) -> str:
        return str(self._call(messages.CREATE_DHCP_PORT, network_id=network_id)["port_id"])

    def bind_ports(self, port_ids: Iterable[str]) -> list[str]:
        return list(self._call(messages.BIND_PORTS, port_ids=list(port_ids))["bound"])

    def update_floatingip_statuses(self, statuses: dict[str, str]) -> list[str]:
        return list(self._call(messages.UPDATE_FIP_STATUSES, statuses=statuses)["updated"])

    def metadata_port(self, network_ids: Iterable[str], ip_address: str) -> dict[str, Any] | None:
        """The instance port behind a metadata request (``domain/services/metadata_ports.py``)."""
        port = self._call(messages.GET_METADATA_PORT, network_ids=list(network_ids), ip_address=ip_address)["port"]
        return dict(port) if port else None
    def update_ha_states(self, states: dict[str, str]) -> list[str]:
        """This host's HA routers' states (router id: active|standby); the routers that changed."""
        return list(self._call(messages.UPDATE_HA_STATES, states=states)["updated"])

    def trace_result(self, request_id: str, result: dict[str, Any]) -> None:
        self._call(messages.TRACE_RESULT, request_id=request_id, result=result)

    def audit_result(self, request_id: str, result: dict[str, Any]) -> None:
        self._call(messages.AUDIT_RESULT, request_id=request_id, result=result)

    def on_change(
        self, callback: Callable[[int], None], sent_at: Callable[[float | None], None] | None = None,
        trace: Callable[[dict[str, Any]], None] | None = None, audit: Callable[[dict[str, Any]], None] | None = None,
        hinted: Callable[[dict[str, Any]], None] | None = None,
    ) -> Callable[[], None]:  # fmt: skip
        """Call ``callback(revision)`` whenever the server says this host changed (and
        ``sent_at`` with the server's publish time, for the bus-lag metric), ``trace(msg)`` for a
        trace request, ``audit(msg)`` for an audit request (without them, a request is only a
        reason to look again). Transports
        drop messages of another version already; this check keeps a listener from ever acting
        on one (``versions.accept`` logs it once). ``hinted(msg)`` sees each ``host_changed``
        before ``callback`` does (what it names: ``agent/desired_source.py``)."""

        def listener(msg: dict[str, Any]) -> None:
            handler = {messages.TRACE_REQUEST: trace, messages.AUDIT_REQUEST: audit}.get(msg.get("method"))
            if handler is not None:
                if versions.accept(msg, messages.host_topic(self.host)):
                    handler(msg)
                return
            if versions.accept(msg, messages.host_topic(self.host)):
                if sent_at is not None:
                    stamp = msg.get("sent_at")
                    sent_at(float(stamp) if isinstance(stamp, (int, float)) else None)
                if hinted is not None:
                    hinted(msg)
                callback(int(msg.get("revision", 0)))

        return self.transport.subscribe(messages.host_topic(self.host), listener)
