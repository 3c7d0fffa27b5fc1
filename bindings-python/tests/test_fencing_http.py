"""The HTTP fencing middleware (WSGI and ASGI) behind real in-process HTTP servers."""

from __future__ import annotations

import asyncio
import threading
import urllib.error
import urllib.request
from socketserver import ThreadingMixIn
from typing import Any, Callable, Dict, Iterator, List, Tuple
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from conftest import WAIT, wait_until
from elect import fencing

#: Writes a handler accepted, in order: (token, path).
Writes = List[Tuple[int, str]]


def request(port: int, path: str, headers: Dict[str, str]) -> Tuple[int, bytes]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers, method="POST", data=b"")
    try:
        with urllib.request.urlopen(req, timeout=WAIT) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@pytest.fixture
def wsgi() -> Iterator[Tuple[int, Writes, Dict[str, threading.Event], fencing.FenceGate]]:
    """A threaded WSGI server whose handler records writes; `/slow` waits for its event."""
    writes: Writes = []
    gates: Dict[str, threading.Event] = {"entered": threading.Event(), "release": threading.Event()}

    def app(environ: Dict[str, Any], start_response: Callable[..., Any]) -> List[bytes]:
        if environ["PATH_INFO"] == "/slow":
            gates["entered"].set()
            gates["release"].wait(WAIT)
        writes.append((int(environ.get("HTTP_ELECT_FENCING_TOKEN", 0)), environ["PATH_INFO"]))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"written"]

    gate = fencing.FenceGate()
    server = make_server("127.0.0.1", 0, fencing.FencingWSGIMiddleware(app, gate=gate), _ThreadingWSGIServer, _Quiet)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield server.server_port, writes, gates, gate
    finally:
        server.shutdown()
        server.server_close()


def test_wsgi_rejects_an_older_token_with_409(wsgi: Any, terms: Tuple[int, int]) -> None:
    port, writes, _, _ = wsgi
    older, newer = terms
    assert request(port, "/a", fencing.http_headers("jobs", older))[0] == 200
    assert request(port, "/b", fencing.http_headers("jobs", newer))[0] == 200
    status, body = request(port, "/c", fencing.http_headers("jobs", older))
    assert status == 409 and b'"highest": %d' % newer in body
    assert request(port, "/d", fencing.http_headers("jobs", newer))[0] == 200
    assert request(port, "/e", fencing.http_headers("other-election", older))[0] == 200  # another election
    assert request(port, "/f", {})[0] == 200  # unfenced requests pass unless required
    assert writes == [(older, "/a"), (newer, "/b"), (newer, "/d"), (older, "/e"), (0, "/f")]


def test_wsgi_bad_headers_are_400(wsgi: Any) -> None:
    port, writes, _, _ = wsgi
    assert request(port, "/", {fencing.TOKEN_HEADER: "12"})[0] == 400
    assert request(port, "/", {fencing.ELECTION_HEADER: "jobs", fencing.TOKEN_HEADER: "-1"})[0] == 400
    assert request(port, "/", {fencing.ELECTION_HEADER: "jobs", fencing.TOKEN_HEADER: "abc"})[0] == 400
    assert writes == []


def test_wsgi_admits_a_newer_token_after_older_requests_finish(wsgi: Any, terms: Tuple[int, int]) -> None:
    """An older-token request in flight finishes before the newer term's request runs."""
    port, writes, gates, gate = wsgi
    older, newer = terms
    results: Dict[str, int] = {}
    slow = threading.Thread(target=lambda: results.update(slow=request(port, "/slow", fencing.http_headers("jobs", older))[0]))
    slow.start()
    assert gates["entered"].wait(WAIT)
    fast = threading.Thread(target=lambda: results.update(new=request(port, "/new", fencing.http_headers("jobs", newer))[0]))
    fast.start()
    wait_until(lambda: gate.highest("jobs") == newer, "the newer request waits in the gate")
    # While the newer request waits, a further older one is refused at once.
    assert request(port, "/late", fencing.http_headers("jobs", older))[0] == 409
    gates["release"].set()
    slow.join(WAIT)
    fast.join(WAIT)
    assert results == {"slow": 200, "new": 200}
    assert writes == [(older, "/slow"), (newer, "/new")]


def test_required_headers_are_428() -> None:
    seen: List[str] = []

    def app(environ: Dict[str, Any], start_response: Callable[..., Any]) -> List[bytes]:
        seen.append("called")
        start_response("200 OK", [])
        return [b""]

    server = make_server("127.0.0.1", 0, fencing.FencingWSGIMiddleware(app, require=True), _ThreadingWSGIServer, _Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert request(server.server_port, "/", {})[0] == 428
        assert seen == []
    finally:
        server.shutdown()
        server.server_close()


def test_asgi_rejects_an_older_token_with_409(terms: Tuple[int, int]) -> None:
    uvicorn = pytest.importorskip("uvicorn")
    older, newer = terms
    writes: Writes = []
    release: List[Callable[[], object]] = []
    entered = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/slow":
            event = asyncio.Event()
            loop = asyncio.get_running_loop()
            release.append(lambda: loop.call_soon_threadsafe(event.set))
            entered.set()
            await asyncio.wait_for(event.wait(), WAIT)
        token = dict(scope["headers"]).get(b"elect-fencing-token", b"0")
        writes.append((int(token), scope["path"]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"written"})

    gate = fencing.AsyncFenceGate()
    config = uvicorn.Config(fencing.FencingASGIMiddleware(app, gate=gate), host="127.0.0.1", port=0, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    try:
        wait_until(lambda: server.started, "uvicorn started")
        port = server.servers[0].sockets[0].getsockname()[1]
        assert request(port, "/a", fencing.http_headers("jobs", older))[0] == 200
        results: Dict[str, int] = {}
        slow = threading.Thread(target=lambda: results.update(slow=request(port, "/slow", fencing.http_headers("jobs", older))[0]))
        slow.start()
        assert entered.wait(WAIT)
        fast = threading.Thread(target=lambda: results.update(new=request(port, "/new", fencing.http_headers("jobs", newer))[0]))
        fast.start()
        wait_until(lambda: gate.highest("jobs") == newer, "the newer request waits in the gate")
        assert request(port, "/late", fencing.http_headers("jobs", older))[0] == 409
        release[0]()
        slow.join(WAIT)
        fast.join(WAIT)
        assert results == {"slow": 200, "new": 200}
        status, body = request(port, "/b", fencing.http_headers("jobs", older))
        assert status == 409 and b"stale fencing token" in body
        assert writes == [(older, "/a"), (older, "/slow"), (newer, "/new")]
    finally:
        server.should_exit = True
        t.join(WAIT)
