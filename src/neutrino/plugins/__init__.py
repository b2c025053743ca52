"""Service plugins: optional parts of the API (the L3 router, third-party services).

A service plugin is a class found through the entry point group ``neutrino.service_plugins``
and named in the ``service_plugins`` setting (default ``["router", "port_forwarding",
"auto_allocate", "trunk", "qos", "flavors"]``: router, port_forwarding, auto_allocate and flavors as a
stock Neutron deployment loads them).
It brings its own API routes, the extension aliases it implements (listed by ``/v2.0/extensions`` only
while it is loaded) and hooks around core networks and ports. See ``api.ServicePlugin``.
"""
