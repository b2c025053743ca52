"""Address management as pure functions: pools, address choice, MACs.

Neutron spreads these rules over its IPAM driver, the DB mixins and neutron-lib; keeping them
here as data-in/data-out functions lets the services reuse them inside a transaction and lets
the unit tests pin every edge case (/31, /32, huge IPv6 pools) without a database.
"""
