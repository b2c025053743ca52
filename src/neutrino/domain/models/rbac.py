"""RBAC policies: which projects may use an object they do not own, and how.

Neutron keeps one table per object type (networkrbacs, securitygrouprbacs, ...); neutrino keeps
one table with an ``object_type`` column, so that a new object type is a registry entry
(``domain/rbac/registry.py``), not a new table. ``object_id`` therefore has no foreign key:
deleting an object deletes its policies (``domain/rbac/access.delete_policies_of``).
"""

from __future__ import annotations

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base, HasId, HasProject

WILDCARD = "*"
ACCESS_SHARED = "access_as_shared"
ACCESS_EXTERNAL = "access_as_external"


class RbacPolicy(HasId, HasProject, Base):
    __tablename__ = "rbac_policies"
    __table_args__ = (
        UniqueConstraint("object_type", "object_id", "action", "target_project"),
        Index("ix_rbac_policies_object", "object_id", "action"),
    )

    object_type: Mapped[str] = mapped_column(String(64), nullable=False)
    object_id: Mapped[str] = mapped_column(String(36), nullable=False)
    action: Mapped[str] = mapped_column(String(255), nullable=False)
    target_project: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
