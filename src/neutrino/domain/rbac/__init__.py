"""RBAC policies (Neutron's rbac-policies extension): sharing objects with other projects.

``registry`` lists the object types a policy may name, each with its actions and the checks
Neutron runs when a policy is created, retargeted or removed; ``access`` answers "may project P
use object O for action A" as SQL, for the services' visibility rules.
"""
