"""A small Neutron API client for lab commands (stdlib only): the lab's own admin, by token."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from neutrino.lab import cloud
from neutrino.lab import resolve


class ApiError(RuntimeError):
    pass


class LabApi:
    def __init__(self, lab: resolve.ResolvedLab) -> None:
        self.url, self.token = cloud.admin_token(lab)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        req = urllib.request.Request(
            f"{self.url}/v2.0/{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"X-Auth-Token": self.token, "Content-Type": "application/json"},
            method=method,
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            try:
                detail = json.loads(detail)["NeutronError"]["message"]
            except (ValueError, KeyError, TypeError):
                pass
            raise ApiError(f"{method} {path}: {exc.code} {detail}") from None
        return json.loads(raw) if raw else {}

    def find(self, collection: str, name_or_id: str) -> dict[str, Any]:
        plural = collection.replace("-", "_")
        singular = plural[:-1]
        try:
            return self.request("GET", f"{collection}/{name_or_id}")[singular]  # type: ignore[no-any-return]
        except ApiError:
            found = self.request("GET", f"{collection}?name={name_or_id}")[plural]
            if len(found) != 1:
                raise ApiError(f"{'no' if not found else 'more than one'} {singular} named {name_or_id!r}") from None
            return found[0]  # type: ignore[no-any-return]
