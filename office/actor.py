"""Who performs an operation. Services take an ``Actor``; they never read the Flask request."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    post_id: int | None = None
    unit_id: int | None = None
    unit_path: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    rank: int | None = None
    on_behalf_of_id: int | None = None
    on_behalf_of_name: str = ""
    ip: str = ""
    user_agent: str = ""
    acting_unit_ids: tuple[int, ...] = ()
    """The units whose documents he handles (his own and, for a general office, its government's),
    when they were read with his post; () when not read (``office.docflow.common`` reads them)."""
    principal_ids: tuple[int, ...] | None = None
    """The people whose approvals he handles today by delegation, when they were read with his
    session; None when not read (``office.approvals.queries`` reads them)."""

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(user_id=None, name=name, roles=frozenset({"system"}))

    @property
    def is_system(self) -> bool:
        return "system" in self.roles


def actor_for_post(post, *, ip: str = "", user_agent: str = "", user=None,
                   principals: tuple[int, ...] | None = None) -> Actor:
    """Build the actor for a user acting in one of his posts (``user``: the post's user, when the
    caller has him at hand; ``principals``: who delegated to him today, when read)."""
    unit = post.unit
    government = getattr(unit, "government_id", False)  # read with the session's post (UnitRef)
    return Actor(
        user_id=post.user_id,
        name=(user if user is not None and user.id == post.user_id else post.user).name,
        post_id=post.id,
        unit_id=post.unit_id,
        unit_path=unit.path,
        roles=post.roles,
        rank=post.rank,
        ip=ip,
        user_agent=user_agent,
        acting_unit_ids=() if government is False else (post.unit_id, government) if government else (post.unit_id,),
        principal_ids=principals,
    )
