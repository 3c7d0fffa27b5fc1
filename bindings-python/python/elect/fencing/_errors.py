"""The error of a write refused for its stale token, and the check of a token's range."""

from __future__ import annotations

from typing import Optional

#: Tokens are stored as signed 64-bit integers (SQL ``bigint``, Redis integers).
MAX_TOKEN = 2**63 - 1


class StaleTokenError(Exception):
    """A write was refused: its token is older than the highest the resource has seen.

    The leader that gets it has lost its term (a newer leader wrote since); it should stop the
    term's work. ``highest`` is the highest token seen, when the resource told it.
    """

    def __init__(self, resource: str, token: int, highest: Optional[int]) -> None:
        seen = f", highest seen {highest}" if highest is not None else ""
        super().__init__(f"stale fencing token {token} for {resource!r}{seen}: a newer leader has written")
        self.resource = resource
        self.token = token
        self.highest = highest


def check_token(token: Optional[int]) -> int:
    """``token`` if it is a usable fencing token, else a ValueError naming it."""
    if token is None:
        raise ValueError("fencing token is None: this election is not leading (no term to fence with)")
    if isinstance(token, bool) or not isinstance(token, int):
        raise ValueError(f"fencing token must be an int, got {type(token).__name__}")
    if not 1 <= token <= MAX_TOKEN:
        raise ValueError(f"fencing token {token} is out of range 1..{MAX_TOKEN}")
    return token
