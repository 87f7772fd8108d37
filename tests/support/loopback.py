"""The lifecycle both local test servers share: bind 127.0.0.1 on a free port, serve from a thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LoopbackServer:
    """A ThreadingHTTPServer on 127.0.0.1:<ephemeral>; handlers reach their owner as `self.server.owner`."""

    handler: type[BaseHTTPRequestHandler]
    # Any 127.x.y.z works on Linux; a second address lets a test tell "public" from "private" on one machine.
    bind_address = "127.0.0.1"

    def __init__(self) -> None:
        # Set on stop, so handlers that sleep (slow replies, drips, hangs) wake up and finish.
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Bind `bind_address` (127.0.0.1) on a free port and serve from a daemon thread."""
        self._stopping.clear()
        self._httpd = ThreadingHTTPServer((self.bind_address, 0), self.handler)
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; wakes handlers that are sleeping."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """e.g. ``http://127.0.0.1:5123``."""
        if self._httpd is None:
            name = type(self).__name__
            raise RuntimeError(f"{name} is not running: call start() or use `with {name}() as server:`")
        return f"http://{self.bind_address}:{self._httpd.server_address[1]}"
