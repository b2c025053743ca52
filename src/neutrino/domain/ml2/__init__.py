"""ML2: type drivers (segments), mechanism drivers (binding) and their manager.

See api.py for the driver contract, manager.py for how drivers are found and called, and
network_ext.py / port_ext.py for how networks and ports use them.
"""
