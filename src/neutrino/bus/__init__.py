"""The server-agent bus: versioned messages over a transport.

``transport.Transport`` is the protocol (publish/subscribe for notifications, call/serve for
request-reply); ``inproc`` implements it inside one process (the lab, tests). A RabbitMQ
transport (kombu) implements the same protocol later without touching agents or server.
``server`` answers agents and notifies them after commits; ``client`` is the agent's side.
"""
