"""What the ops endpoints' sockets say in the log: accept errors once per burst, and the warnings at
start-up about reachability and descriptors (ops_listener.py)."""

from __future__ import annotations

import asyncio
import logging
import resource

from ..address_policy import is_loopback
from ..logs import log_event

log = logging.getLogger("monitor.ops")

# A burst of accept errors is one line at its start and, while it lasts, one line per this many seconds.
ACCEPT_ERROR_LOG_SECONDS = 60.0
# Descriptors the rest of `run` needs beside the ops connections: up to 100 feed and page connections
# (HttpClient's pool), Slack's, the store's files and connections, the event loop, pipes and threads.
DESCRIPTORS_FOR_THE_SERVICE = 256


class AcceptErrorLog:
    """Accept errors come in bursts (each queued connection fails again until a descriptor is free):
    the first is logged, the rest are counted and reported once per window while the burst lasts."""

    def __init__(self, window: float = ACCEPT_ERROR_LOG_SECONDS):
        self._window = window
        self._not_logged = 0
        self._window_end: asyncio.TimerHandle | None = None

    def failed(self, exc: OSError) -> None:
        if self._window_end is not None:
            self._not_logged += 1
            return
        log_event(log, logging.ERROR, "ops.accept_failed", reason=exc.strerror or str(exc),
                  next_report=f"in {self._window:g}s if it goes on",
                  fix="raise the open-file limit (LimitNOFILE) or lower ops.max_connections")  # fmt: skip
        self._open_window()

    def flush(self, stopping: bool = False) -> None:
        """Report the failures not yet logged: at the end of a window, and when the server stops."""
        if self._window_end is not None:
            self._window_end.cancel()
            self._window_end = None
        if self._not_logged:
            log_event(log, logging.ERROR, "ops.accept_failed", repeated=self._not_logged,
                      within=f"{self._window:g}s")  # fmt: skip
            self._not_logged = 0
            if not stopping:
                self._open_window()  # it was still failing: the next line is a window away too

    def _open_window(self) -> None:
        self._window_end = asyncio.get_running_loop().call_later(self._window, self.flush)


def warn_if_exposed(host: str, addresses: list[str]) -> None:
    """The endpoints have no authentication: say so loudly when they listen beyond this machine."""
    exposed = [address for address in addresses if not is_loopback(address)]
    if exposed:
        log_event(log, logging.WARNING, "ops.exposed", host=host, addresses=",".join(exposed),
                  reason="/healthz and /metrics have no authentication and are reachable from the network",
                  fix="set ops.host to 127.0.0.1, or keep the port behind a firewall")  # fmt: skip


def warn_if_few_descriptors(max_connections: int) -> None:
    """A low open-file limit lets ops connections and the service's own sockets starve each other."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = max_connections + DESCRIPTORS_FOR_THE_SERVICE
    if soft != resource.RLIM_INFINITY and soft < needed:
        log_event(log, logging.WARNING, "ops.fd_limit_low", open_files_limit=soft, needed=needed,
                  fix="raise LimitNOFILE (systemd) or `ulimit -n`, or lower ops.max_connections")  # fmt: skip
