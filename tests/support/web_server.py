"""A scriptable local web server (stdlib only) for feeds and article pages in offline tests.

    with WebServer() as server:
        feed_url = server.add("/feed.xml", rss_feed("News", items), content_type="application/rss+xml")
        server.add("/a/1", "<html>…</html>")
        ...  # run the code under test against feed_url
        assert server.requests("/feed.xml")[-1]["headers"]["if-none-match"] == ...

Every route answers GET and HEAD. Content routes get an ETag (hash of the body) and a Last-Modified and answer
304 to a matching If-None-Match / If-Modified-Since, like a well-behaved news site; ``conditional=False``
models the many sites that ignore validators. Unknown paths are 404.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.loopback import LoopbackServer

DEFAULT_CONTENT_TYPE = "text/html; charset=utf-8"
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# A drip sends about ten chunks a second: fine-grained enough that a client sees bytes keep arriving
# (so only a total/read-body timeout can stop it), coarse enough to cost little CPU.
DRIP_CHUNKS_PER_SECOND = 10


@dataclass
class _Route:
    kind: str  # "content", "redirect", "drip", "hang" or "gate"
    body: bytes = b""
    status: int = 200
    content_type: str = DEFAULT_CONTENT_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = False
    gzip: bool = False
    etag: str = ""
    last_modified: int = 0  # epoch seconds; HTTP dates have one-second resolution
    bytes_per_second: float = 0.0
    seconds: float = 0.0
    gate: threading.Event | None = None  # "gate": answered once it is set


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def _etag_for(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def _etag_matches(etag: str, if_none_match: str) -> bool:
    """Weak comparison, as RFC 9110 prescribes for If-None-Match."""
    candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


def _not_modified(route: _Route, headers: Any) -> bool:
    """True when the client's validators show it already holds this version."""
    if not route.conditional or route.status != 200:
        return False
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:  # RFC 9110 §13.1.3: If-None-Match wins over If-Modified-Since
        return _etag_matches(route.etag, if_none_match)
    since = headers.get("If-Modified-Since")
    if not since:
        return False
    try:
        return route.last_modified <= int(parsedate_to_datetime(since).timestamp())
    except (TypeError, ValueError):
        return False  # an unparseable date is ignored, as servers do


def _accepts_gzip(headers: Any) -> bool:
    for coding in (headers.get("Accept-Encoding") or "").split(","):
        name, _, params = coding.strip().partition(";")
        if name.strip().lower() in ("gzip", "*") and params.replace(" ", "") not in ("q=0", "q=0.0"):
            return True
    return False


class WebServer(LoopbackServer):
    """Serve scripted paths from 127.0.0.1:<ephemeral> in a daemon thread; log every request."""

    def __init__(self) -> None:
        super().__init__()
        self.handler = _WebHandler
        self._lock = threading.Lock()
        self._routes: dict[str, _Route] = {}
        self._log: list[dict[str, Any]] = []

    # -- lifecycle: start(), stop() and `with` come from LoopbackServer --

    @property
    def base_url(self) -> str:
        return self.root_url

    def url(self, path: str) -> str:
        """Absolute URL of a path on this server."""
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        return self.base_url + path

    # -- scripting routes --

    def add(
        self,
        path: str,
        body: bytes | str,
        content_type: str = DEFAULT_CONTENT_TYPE,
        status: int = 200,
        headers: dict[str, str] | None = None,
        *,
        conditional: bool = True,
        gzip: bool = False,
        last_modified: datetime | None = None,
    ) -> str:
        """Serve ``body`` at ``path`` (replacing any route there); returns the absolute URL.

        Re-adding identical bytes keeps ETag and Last-Modified, so clients keep getting 304. New bytes get a
        new ETag and a Last-Modified at least one second later than before, so If-Modified-Since sees the
        change even within the same second. ``gzip=True`` compresses for clients that accept gzip.
        """
        data = _as_bytes(body)
        route = _Route("content", data, status, content_type, dict(headers or {}), conditional, gzip)
        route.etag = _etag_for(data)
        with self._lock:
            route.last_modified = self._last_modified_for(path, route.etag, last_modified)
            self._routes[path] = route
        return self.url(path)

    def _last_modified_for(self, path: str, etag: str, explicit: datetime | None) -> int:
        if explicit is not None:
            return int(explicit.timestamp())
        previous = self._routes.get(path)
        if previous is not None and previous.etag == etag:
            return previous.last_modified
        now = int(time.time())
        return max(now, previous.last_modified + 1) if previous is not None else now

    def remove(self, path: str) -> None:
        """Make ``path`` answer 404."""
        with self._lock:
            self._routes.pop(path, None)

    def redirect(self, path: str, to: str, status: int = 301) -> str:
        """Redirect ``path`` to ``to`` (a path on this server or an absolute URL)."""
        if status not in REDIRECT_STATUSES:
            raise ValueError(f"status must be one of {REDIRECT_STATUSES}, not {status}")
        location = self.url(to) if to.startswith("/") else to
        route = _Route("redirect", b"", status, "text/plain", {"Location": location})
        return self._set_route(path, route)

    def slow_drip(
        self, path: str, body: bytes | str, bytes_per_second: float, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> str:
        """Send headers at once, then trickle the body at ``bytes_per_second`` (for read/total timeouts)."""
        if bytes_per_second <= 0:
            raise ValueError("bytes_per_second must be positive")
        route = _Route("drip", _as_bytes(body), 200, content_type, bytes_per_second=bytes_per_second)
        return self._set_route(path, route)

    def hang(self, path: str, seconds: float) -> str:
        """Accept the request, send nothing for ``seconds``, then close without a response."""
        return self._set_route(path, _Route("hang", seconds=seconds))

    def gate(self, path: str, body: bytes | str, content_type: str = DEFAULT_CONTENT_TYPE) -> threading.Event:
        """Answer ``path`` only once the returned event is set: a request held open for as long as a test
        needs (a poll in flight), with no clock involved."""
        opened = threading.Event()
        self._set_route(path, _Route("gate", _as_bytes(body), 200, content_type, gate=opened))
        return opened

    def _set_route(self, path: str, route: _Route) -> str:
        with self._lock:
            self._routes[path] = route
        return self.url(path)

    # -- inspection --

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """Logged requests (copies): method, path, target, query, headers (lower-case keys), time."""
        with self._lock:
            return [copy.deepcopy(r) for r in self._log if path in (None, r["path"], r["target"])]

    def hits(self, path: str) -> int:
        """How many requests (any method) reached ``path``."""
        return len(self.requests(path))

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    # -- called from handler threads --

    def _route_for(self, target: str, path: str) -> _Route | None:
        with self._lock:
            return self._routes.get(target) or self._routes.get(path)

    def _log_request(self, method: str, target: str, headers: Any) -> None:
        split = urllib.parse.urlsplit(target)
        entry = {
            "method": method,
            "path": split.path,
            "target": target,
            "query": split.query,
            "headers": {key.lower(): value for key, value in headers.items()},
            "time": time.time(),
        }
        with self._lock:
            self._log.append(entry)


class _WebHandler(BaseHTTPRequestHandler):
    """Serves one request from the WebServer's routes."""

    def do_GET(self) -> None:
        self._serve(head_only=False)

    def do_HEAD(self) -> None:
        self._serve(head_only=True)

    def _serve(self, head_only: bool) -> None:
        web: WebServer = self.server.owner  # type: ignore[attr-defined]
        web._log_request(self.command, self.path, self.headers)
        route = web._route_for(self.path, urllib.parse.urlsplit(self.path).path)
        try:
            if route is None:
                self._send(404, b"not found", {"Content-Type": "text/plain"}, head_only)
            elif route.kind == "hang":
                web._stopping.wait(route.seconds)
                self.close_connection = True
            elif route.kind == "drip":
                self._drip(route, head_only, web._stopping)
            elif route.kind == "gate" and route.gate is not None:
                while not (route.gate.wait(0.05) or web._stopping.is_set()):
                    pass
                self._send_route(route, head_only)
            else:
                self._send_route(route, head_only)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, which is what timeout tests do

    def _send_route(self, route: _Route, head_only: bool) -> None:
        headers = {"Content-Type": route.content_type, **route.headers}
        if route.conditional and route.status == 200:
            headers["ETag"] = route.etag
            headers["Last-Modified"] = formatdate(route.last_modified, usegmt=True)
        if _not_modified(route, self.headers):
            validators = {k: v for k, v in headers.items() if k in ("ETag", "Last-Modified")}
            self._send(304, b"", validators, head_only=True)
            return
        body = route.body
        if route.gzip:
            headers["Vary"] = "Accept-Encoding"
            if _accepts_gzip(self.headers):
                body = gzip.compress(body, mtime=0)
                headers["Content-Encoding"] = "gzip"
        self._send(route.status, body, headers, head_only)

    def _send(self, status: int, body: bytes, headers: dict[str, str], head_only: bool) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def _drip(self, route: _Route, head_only: bool, stopping: threading.Event) -> None:
        headers = {"Content-Type": route.content_type, "Content-Length": str(len(route.body))}
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if head_only:
            return
        chunk_size = max(1, round(route.bytes_per_second / DRIP_CHUNKS_PER_SECOND))
        pause = chunk_size / route.bytes_per_second
        for start in range(0, len(route.body), chunk_size):
            self.wfile.write(route.body[start : start + chunk_size])
            self.wfile.flush()
            if stopping.wait(pause):
                return

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; tests inspect server.requests() instead."""
