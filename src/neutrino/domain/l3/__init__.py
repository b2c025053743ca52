"""Pure L3 rules (routes, subnet overlap, floating IP targets), kept apart from the database.

The services in ``domain/services/routers*.py`` and ``floatingips.py`` load rows and call these
functions with plain data, so every rule here is unit-tested without a database.
"""
