"""The fixed vocabulary of DOMAIN.md as enumerations, stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class UnitKind(StrEnum):
    """A unit is a ward (phường) or a public school (trường)."""

    WARD = "ward"
    SCHOOL = "school"


class SchoolLevel(StrEnum):
    """Cấp học: the three levels the school lottery draws from."""

    KINDERGARTEN = "kindergarten"
    PRIMARY = "primary"
    LOWER_SECONDARY = "lower_secondary"


class Role(StrEnum):
    """Chức danh: the head roles that are evaluated."""

    WARD_PARTY_SECRETARY = "ward_party_secretary"
    WARD_CHAIRPERSON = "ward_chairperson"
    SCHOOL_PRINCIPAL = "school_principal"

    @property
    def unit_kind(self) -> UnitKind:
        """The kind of unit this role heads."""
        return UnitKind.SCHOOL if self is Role.SCHOOL_PRINCIPAL else UnitKind.WARD

    @property
    def rank(self) -> int:
        """Where the role stands when heads are listed: secretary, chairperson, principal."""
        return _ROLE_RANK[self]


# Declaration order is the order ballots and results tables list a unit's heads.
_ROLE_RANK = {role: rank for rank, role in enumerate(Role)}


class RoundStatus(StrEnum):
    """Lifecycle of a round: draft -> open -> closed -> published."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"


class UserRole(StrEnum):
    """Who an account belongs to: district staff, a supervising observer, or a head."""

    ADMIN = "admin"
    OBSERVER = "observer"
    LEADER = "leader"
