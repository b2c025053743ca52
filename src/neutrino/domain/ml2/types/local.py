"""``local``: a network that exists only inside one host; no physnet, no segmentation id."""

from __future__ import annotations

from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.ml2.api import TYPE_LOCAL, Segment, TypeDriver


class LocalTypeDriver(TypeDriver):
    network_type = TYPE_LOCAL

    def validate_provider_segment(self, segment: Segment) -> None:
        for key in ("physical_network", "segmentation_id"):
            if getattr(segment, key) is not None:
                raise errors.InvalidInput(error_message=f"{key} prohibited for local provider network")

    def reserve_provider_segment(self, session: Session, segment: Segment, project_id: str | None = None) -> Segment:
        return Segment(TYPE_LOCAL)

    def allocate_tenant_segment(self, session: Session, project_id: str | None = None) -> Segment | None:
        return Segment(TYPE_LOCAL)

    def release_segment(self, session: Session, segment: Segment) -> None:
        return None

    def get_mtu(self, physical_network: str | None = None) -> int:
        return self.cfg.global_physnet_mtu
