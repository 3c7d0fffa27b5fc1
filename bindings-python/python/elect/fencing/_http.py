"""HTTP fencing: the client's two headers, and WSGI/ASGI middleware that answers 409 to stale tokens."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Dict, Iterable, Iterator, List, MutableMapping, Optional, Tuple, Union

from ._errors import MAX_TOKEN, check_token
from ._gate import AsyncFenceGate, FenceGate

ELECTION_HEADER = "Elect-Election"
TOKEN_HEADER = "Elect-Fencing-Token"


def http_headers(election: Any, token: Optional[int] = None) -> Dict[str, str]:
    """The headers of a request written under the current term of ``election``.

    ``election`` is an :class:`elect.Election` (its name and current token are used) or an
    election name with ``token`` given. A ValueError if there is no token (not leading).
    """
    if isinstance(election, str):
        name = election
    else:
        name = election.name
        if token is None:
            token = election.fencing_token
    return {ELECTION_HEADER: name, TOKEN_HEADER: str(check_token(token))}


class _Refusal(Exception):
    def __init__(self, status: str, body: Dict[str, object]) -> None:
        super().__init__(status)
        self.status = status
        self.body = json.dumps(body).encode()


def _parse(election: Optional[str], token: Optional[str], require: bool) -> Optional[Tuple[str, int]]:
    """The (election, token) of a request, None to pass it unfenced, or a _Refusal."""
    if election is None and token is None:
        if require:
            raise _Refusal("428 Precondition Required", {"error": f"missing {ELECTION_HEADER} and {TOKEN_HEADER}"})
        return None
    if not election or token is None:
        missing = ELECTION_HEADER if not election else TOKEN_HEADER
        raise _Refusal("400 Bad Request", {"error": f"{missing} header missing or empty"})
    t = token.strip()
    if not t.isdigit() or not 1 <= int(t) <= MAX_TOKEN:
        raise _Refusal("400 Bad Request", {"error": f"{TOKEN_HEADER} is not a token in 1..{MAX_TOKEN}"})
    return election, int(t)


def _stale(election: str, token: int, highest: int) -> _Refusal:
    return _Refusal(
        "409 Conflict",
        {"error": "stale fencing token", "election": election, "token": token, "highest": highest},
    )


WSGIApp = Callable[[Dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Leaving:
    """A WSGI response body that leaves the gate once the server has closed it."""

    def __init__(self, body: Iterable[bytes], leave: Callable[[], None]) -> None:
        self._body = body
        self._leave: Optional[Callable[[], None]] = leave

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            if self._leave is not None:
                leave, self._leave = self._leave, None
                leave()


class FencingWSGIMiddleware:
    """Refuses (409) a request whose ``Elect-Fencing-Token`` is older than the highest seen.

    Requests without the headers pass, unless ``require`` (then 428). ``gate`` keeps the highest
    token per election; share one gate between the middlewares of one resource.
    """

    def __init__(self, app: WSGIApp, *, gate: Optional[FenceGate] = None, require: bool = False) -> None:
        self.app = app
        self.gate = gate or FenceGate()
        self.require = require

    def __call__(self, environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            fenced = _parse(environ.get("HTTP_ELECT_ELECTION"), environ.get("HTTP_ELECT_FENCING_TOKEN"), self.require)
            if fenced is None:
                return self.app(environ, start_response)
            election, token = fenced
            newer = self.gate.enter(election, token)
            if newer is not None:
                raise _stale(election, token, newer)
        except _Refusal as r:
            start_response(r.status, [("Content-Type", "application/json"), ("Content-Length", str(len(r.body)))])
            return [r.body]
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self.gate.leave(election)
            raise
        return _Leaving(body, lambda: self.gate.leave(election))


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _header(headers: List[Tuple[bytes, bytes]], name: bytes) -> Optional[str]:
    for k, v in headers:
        if k.lower() == name:
            return v.decode("latin-1")
    return None


class FencingASGIMiddleware:
    """The ASGI twin of :class:`FencingWSGIMiddleware`, for one event loop."""

    def __init__(self, app: ASGIApp, *, gate: Optional[AsyncFenceGate] = None, require: bool = False) -> None:
        self.app = app
        self.gate = gate or AsyncFenceGate()
        self.require = require

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers", []))
        try:
            fenced = _parse(_header(headers, b"elect-election"), _header(headers, b"elect-fencing-token"), self.require)
            if fenced is None:
                await self.app(scope, receive, send)
                return
            election, token = fenced
            newer = await self.gate.enter(election, token)
            if newer is not None:
                raise _stale(election, token, newer)
        except _Refusal as r:
            await _respond(send, r)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            await self.gate.leave(election)


async def _respond(send: Send, r: _Refusal) -> None:
    code: Union[int, str] = int(r.status.split()[0])
    await send(
        {
            "type": "http.response.start",
            "status": code,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(r.body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": r.body})
