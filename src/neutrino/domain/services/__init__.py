"""Use cases per resource. Each takes a session and a Context and returns domain rows or dicts.

Every resource service exposes the same five functions (create, get, list, update, delete) and a
``render`` that turns rows into Neutron's JSON shape, so the API builds all of them one way.
"""
