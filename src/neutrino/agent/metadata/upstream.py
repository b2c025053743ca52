"""Forwarding to an upstream metadata API (Nova's) as Neutron's metadata agent does (pure).

The upstream trusts the instance id only with its signature: HMAC-SHA256 of the id with the
shared secret both sides are configured with (``metadata_proxy_shared_secret``), hex
(docs/neutron-behaviour.md, "Metadata"). The request keeps its path and query; the headers are
exactly X-Forwarded-For (the instance's address), X-Instance-ID (the port's device_id),
X-Tenant-ID (the port's project) and X-Instance-ID-Signature.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit, urlunsplit


def sign_instance_id(secret: str, instance_id: str) -> str:
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


def headers(instance_id: str, project_id: str, forwarded_for: str, secret: str) -> dict[str, str]:
    return {
        "X-Forwarded-For": forwarded_for,
        "X-Instance-ID": instance_id,
        "X-Tenant-ID": project_id,
        "X-Instance-ID-Signature": sign_instance_id(secret, instance_id),
    }


def url(base: str, path: str) -> str:
    """``path`` (with its query string) on the upstream ``base`` (scheme://host:port[/prefix])."""
    scheme, netloc, prefix, _, _ = urlsplit(base)
    req_path, _, query = path.partition("?")
    return urlunsplit((scheme, netloc, prefix.rstrip("/") + "/" + req_path.lstrip("/"), query, ""))
