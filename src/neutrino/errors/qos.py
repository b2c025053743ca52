"""QoS (neutron-lib's exceptions/qos.py, plus the duplicate-rule conflict of Neutron's objects)."""

from __future__ import annotations

from neutrino.errors.base import Conflict, InUse, NotAuthorized, NotFound


class QosPolicyNotFound(NotFound):
    template = "QoS policy %(policy_id)s could not be found."


class QosRuleNotFound(NotFound):
    template = "QoS rule %(rule_id)s for policy %(policy_id)s could not be found."


class QoSPolicyDefaultAlreadyExists(Conflict):
    template = "A default QoS policy exists for project %(project_id)s."


class QosPolicyInUse(InUse):
    template = "QoS Policy %(policy_id)s is used by %(object_type)s %(object_id)s."


class PolicyRemoveAuthorizationError(NotAuthorized):
    template = "Failed to remove provided policy %(policy_id)s because you are not authorized."


class NeutronDbObjectDuplicateEntry(Conflict):
    template = (
        "Failed to create a duplicate %(object_type)s: for attribute(s) %(attributes)s with value(s) %(values)s"
    )



class QoSRuleParameterConflict(Conflict):
    template = (
        "Unable to add the rule with value %(rule_value)s to the policy %(policy_id)s as the existing rule of "
        "type %(existing_rule)s has value %(existing_value)s."
    )
