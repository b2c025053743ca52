"""Agents and the DHCP / L3 agent schedulers (neutron-lib's exceptions/agent.py,
exceptions/dhcpagentscheduler.py and exceptions/l3agentscheduler.py).
"""

from __future__ import annotations

from neutrino.errors.base import Conflict, NotFound


class AgentNotFound(NotFound):
    template = "Agent %(id)s could not be found."


class InvalidDHCPAgent(AgentNotFound):
    template = "Agent %(id)s is not a valid DHCP Agent or has been disabled"


class InvalidL3Agent(AgentNotFound):
    template = "Agent %(id)s is not a L3 Agent or has been disabled"


class NetworkHostedByDHCPAgent(Conflict):
    template = "The network %(network_id)s has been already hosted by the DHCP Agent %(agent_id)s."


class NetworkNotHostedByDhcpAgent(Conflict):
    template = "The network %(network_id)s is not hosted by the DHCP agent %(agent_id)s."


class RouterHostedByL3Agent(Conflict):
    template = "The router %(router_id)s has been already hosted by the L3 Agent %(agent_id)s."


class RouterNotHostedByL3Agent(Conflict):
    template = "The router %(router_id)s is not hosted by L3 agent %(agent_id)s."
