"""Tables for divisions and units."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from office.extensions import db

# Paths hold digits and "/" only; the C collation makes prefix range scans use the B-tree index on
# PostgreSQL whatever the database's locale.
PathString = String(160).with_variant(String(160, collation="C"), "postgresql")


class Level(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"

    @property
    def depth(self) -> int:
        return LEVEL_ORDER.index(self)


LEVEL_ORDER = [Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP]


class DivisionKind(enum.StrEnum):
    DIVISION = "division"  # a division of GB/T 2260 (行政区划)
    ZONE = "zone"  # a development zone or new area (开发区、新区): governed by its management committee


class Division(db.Model):
    """A node of the government tree: a division (行政区划) with its GB/T 2260 code, or a zone.

    ``level`` is the rank (province, city, county, township), not the depth: a township may sit
    directly under a city (东莞市) and a county-level city directly under the province (仙桃市).
    ``parent_id`` is the parent in the tree of administration, which ``path`` follows; it is the
    parent the division file gives (``gb_parent_id``) unless a zone administers the division (托管),
    whose code stays what it is.
    """

    __tablename__ = "division"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(12), default=DivisionKind.DIVISION, server_default="division")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("division.id"), index=True)
    gb_parent_id: Mapped[int | None] = mapped_column(ForeignKey("division.id"))
    # Materialized path of codes, e.g. "330000/330100/330102/": a subtree is one range scan.
    path: Mapped[str] = mapped_column(PathString, unique=True)

    parent: Mapped[Division | None] = relationship(remote_side=[id], foreign_keys=[parent_id])

    @property
    def depth(self) -> int:
        """The rank's index in LEVEL_ORDER (province 0 ... township 3), not the path's length."""
        return Level(self.level).depth

    @property
    def is_zone(self) -> bool:
        return self.kind == DivisionKind.ZONE

    @property
    def administered_by_zone(self) -> bool:
        return self.gb_parent_id is not None and self.parent_id != self.gb_parent_id

    def __repr__(self) -> str:
        return f"<Division {self.code} {self.name}>"


class UnitKind(enum.StrEnum):
    GOVERNMENT = "government"
    GENERAL_OFFICE = "general_office"
    DEPARTMENT = "department"


class Unit(db.Model):
    """An organ (机关单位) that sends and receives work: a government, its general office, a department."""

    __tablename__ = "unit"
    __table_args__ = (
        Index("ix_unit_function_path", "function_code", "path"),
        Index("ix_unit_division_kind", "division_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    short_name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    # Same function code along a vertical line (county civil affairs -> city -> province).
    function_code: Mapped[str] = mapped_column(String(20))
    division_id: Mapped[int] = mapped_column(ForeignKey("division.id"))
    # Copy of the division's path, so "every unit under Hangzhou" needs no join.
    path: Mapped[str] = mapped_column(PathString, index=True)
    level: Mapped[str] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(default=True)
    # Vertical management (垂直管理): the upper organ of the same line this unit answers to instead
    # of its local government (a survey team of the statistics bureau, a tax bureau).
    superior_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))

    division: Mapped[Division] = relationship()
    superior: Mapped[Unit | None] = relationship(remote_side=[id], foreign_keys=[superior_id])

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.name}>"


class DivisionChange(db.Model):
    """The history of a division (沿革): created, renamed, re-coded, moved, merged, handed to a zone."""

    __tablename__ = "division_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    division_id: Mapped[int | None] = mapped_column(ForeignKey("division.id", ondelete="SET NULL"), index=True)
    at: Mapped[datetime] = mapped_column()
    change: Mapped[str] = mapped_column(String(20))
    # {code, name, level, parent} before and after; a merge records the absorbed division in before.
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    actor_name: Mapped[str] = mapped_column(String(100), default="")
