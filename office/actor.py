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

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(user_id=None, name=name, roles=frozenset({"system"}))

    @property
    def is_system(self) -> bool:
        return "system" in self.roles


def actor_for_post(post, *, ip: str = "", user_agent: str = "", user=None) -> Actor:
    """Build the actor for a user acting in one of his posts (``user``: the post's user, when the
    caller has him at hand)."""
    unit = post.unit
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
    )
