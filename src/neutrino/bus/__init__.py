"""The server-agent bus: versioned messages over a transport.

``transport.Transport`` is the protocol (publish/subscribe for notifications, call/serve for
request-reply), implemented three times: ``inproc`` inside one process (the lab, tests),
``http`` for agent processes talking to the server's ``/bus/v1`` (the zero-dependency default)
and ``amqp`` on RabbitMQ through kombu (production; the server's ``transport_url``).
``tests/contract/test_transport_contract.py`` holds all three to one contract. ``versions``
is what every transport does with an incoming message; ``broker_errors`` names broker
failures. ``server`` answers agents and notifies them after commits; ``client`` is the
agent's side.
"""
