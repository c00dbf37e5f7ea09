"""Server-side sessions whose ID changes at login (no session fixation).

Litestar keeps the session ID of the cookie the browser sent; :func:`rotate_session` marks
the request so that the response stores the session under a new random ID and deletes the
old one. Everything else is Litestar's ``ServerSideSessionConfig``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Final

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Message, ScopeSession

__all__ = ["RotatingSessionConfig", "rotate_session"]

_NEW_ID: Final = "henrei_new_session_id"


def rotate_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Store this request's session under a new ID (call it at login)."""
    connection.scope[_NEW_ID] = secrets.token_hex(32)  # type: ignore[typeddict-unknown-key]


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        new: str | None = connection.scope.get(_NEW_ID)  # type: ignore[assignment]
        return new or super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        old = connection.cookies.get(self.config.key)
        if connection.scope.get(_NEW_ID) and old and old != "null":
            await self.delete(old, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend
