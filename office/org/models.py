"""Tables for divisions and units."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Index, String
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


class Division(db.Model):
    """A geographic division (行政区划) with its GB/T 2260 code."""

    __tablename__ = "division"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(12), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("division.id"), index=True)
    # Materialized path of codes, e.g. "330000/330100/330102/": a subtree is one range scan.
    path: Mapped[str] = mapped_column(PathString, unique=True)

    parent: Mapped[Division | None] = relationship(remote_side=[id])

    @property
    def depth(self) -> int:
        return Level(self.level).depth

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

    division: Mapped[Division] = relationship()

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.name}>"
