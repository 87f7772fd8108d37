"""Scenario 5, memory: the resident set of `news-monitor run` after its first full cycle.

    python bench/memory.py [--quick] [--feeds 1000] [--articles 100000] [--json out.json]

The store is prefilled with `--articles` signed and profiled articles, all inside the story window
(bench/stories.py's fill_store), then `python -m monitor --config ... run` starts as a real process
against the local feed server (bench/feedserver.py: `--feeds` feeds of 20 items, about 3 % of them
fresh and matching, 50 ms latency). Its first cycle is over when /metrics counts one finished poll per
feed and the outbox is empty (alerts go to the console notifier: no Slack token). Then VmRSS is read
from /proc/<pid>/status (the process and any children summed), once at that moment and once SETTLE_SECONDS
later, when the service sits idle until its next poll: that second figure is the one held against the
target (the service hands the heap its polls freed back to the OS a tick after they go quiet, see
scheduler.HeapTrim). VmHWM, the peak, is read last.

Baseline, in the same run: a plain Python process that imports feedparser and parses the same feeds
sequentially with `feedparser.parse(url)`, keeping the entry ids it has seen (what a naive bot holds).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.cycle import write_config  # noqa: E402
from bench.feedserver import Plan, ServerProcess, free_port  # noqa: E402
from bench.stories import fill_store  # noqa: E402
from monitor.storage import open_storage  # noqa: E402

TARGET_MB = 150.0
# The service gets this long for its first cycle; past it the benchmark fails rather than hangs.
CYCLE_TIMEOUT_SECONDS = 600.0
# SIGTERM gives running polls 5 s and the post in flight slack.timeout (8 s): 20 s is plenty.
STOP_TIMEOUT_SECONDS = 20.0
# Idle after the cycle: the scheduler's tick (1 s) and HEAP_TRIM_QUIET_SECONDS (1 s), with a second spare.
SETTLE_SECONDS = 3.0

NAIVE_BOT = """
import feedparser, json, sys
seen = set()
for url in open(sys.argv[1]).read().split():
    parsed = feedparser.parse(url)
    seen.update(entry.get("id") or entry.get("link") for entry in parsed.entries)
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({"seen": len(seen), "VmRSS": status["VmRSS"], "VmHWM": status["VmHWM"]}))
"""
# What importing the service costs before it does anything: a floor under the figure above.
IMPORTS_ONLY = """
import json, monitor.cli.main
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({"VmRSS": status["VmRSS"]}))
"""


def kilobytes(field: str) -> int:
    """'  123456 kB' -> 123456."""
    return int(field.split()[0])


def descendants(pid: int) -> Iterator[int]:
    """The process and all its children, grandchildren ..."""
    yield pid
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in children:
            yield from descendants(int(child))


def resident_kb(pid: int) -> tuple[int, int]:
    """VmRSS and VmHWM in kB, summed over the process tree (a child's peak may not coincide, so the
    summed peak is an upper bound)."""
    rss = hwm = 0
    for member in descendants(pid):
        status = dict(line.split(":", 1) for line in Path(f"/proc/{member}/status").read_text().splitlines())
        rss += kilobytes(status["VmRSS"])
        hwm += kilobytes(status["VmHWM"])
    return rss, hwm


def prefill_store(folder: Path, articles: int) -> Path:
    """The store news-monitor will open, with `articles` recent articles (first seen now)."""
    path = folder / "state.db"
    storage = open_storage(f"sqlite:///{path}")
    fill_store(storage, articles, random.Random(5), datetime.now(UTC))
    storage.close()
    return path


def service_config(folder: Path, plan: Plan, ops_port: int) -> Path:
    """bench/cycle.py's config (the plan's feeds, a watchlist of the fresh items' names) with /metrics on."""
    path = write_config(folder, plan)
    config = json.loads(path.read_text(encoding="utf-8"))
    config["ops"] = {"enabled": True, "host": "127.0.0.1", "port": ops_port}
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def spawn_run(config: Path, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`python -m monitor --config CONFIG run` as a real process; its console alerts are dropped."""
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            cwd=REPO,
            env=env if env is not None else dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as systemd or Docker would; SIGKILL if it has not stopped in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def read_metrics(port: int) -> dict[str, float]:
    """The service's /metrics as {name: value} (labelled samples summed under their name)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    values: dict[str, float] = {}
    for name, value in re.findall(r"^([a-z_:]+)(?:\{[^}]*\})? (\S+)$", text, flags=re.MULTILINE):
        values[name] = values.get(name, 0.0) + float(value)
    return values


def wait_for_first_cycle(process: subprocess.Popen[bytes], port: int, feeds: int, log: Path) -> float:
    """Seconds until every feed's first poll has finished (items processed) and the outbox is empty."""
    started = time.monotonic()
    while time.monotonic() - started < CYCLE_TIMEOUT_SECONDS:
        if process.poll() is not None:
            raise RuntimeError(f"news-monitor run exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            values = read_metrics(port)
        except OSError:  # not listening yet
            values = {}
        polled = values.get("news_monitor_feed_poll_duration_seconds_count", 0)
        if polled >= feeds and values.get("news_monitor_outbox_pending", 1) == 0:
            return time.monotonic() - started
        time.sleep(0.25)
    raise TimeoutError(f"the first cycle did not finish within {CYCLE_TIMEOUT_SECONDS:.0f} s")


def measure_ours(folder: Path, plan: Plan) -> dict[str, float]:
    port = free_port("127.0.0.1")
    config, log = service_config(folder, plan, port), folder / "run.log"
    env = {key: value for key, value in os.environ.items() if key != "NEWS_MONITOR_BENCH_NO_TOKEN"}
    process = spawn_run(config, log, env)
    try:
        cycle = wait_for_first_cycle(process, port, plan.feeds, log)
        at_end, _ = resident_kb(process.pid)
        time.sleep(SETTLE_SECONDS)
        rss, hwm = resident_kb(process.pid)
        alerts = read_metrics(port).get("news_monitor_alerts_sent_total", 0)
    finally:
        code = stop(process)
    if code != 0:
        raise RuntimeError(f"news-monitor run stopped with exit code {code}:\n{log.read_text()[-3000:]}")
    return {"rss_mb": rss / 1024, "end_mb": at_end / 1024, "peak_mb": hwm / 1024, "cycle_s": cycle,
            "alerts": alerts}  # fmt: skip


def measure_naive(folder: Path, plan: Plan) -> dict[str, float]:
    urls = folder / "feeds.txt"
    urls.write_text("\n".join(site.feed_url for site in plan.sites()), encoding="utf-8")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", NAIVE_BOT, str(urls)], capture_output=True, text=True,
                          check=True, timeout=CYCLE_TIMEOUT_SECONDS)  # fmt: skip
    result = json.loads(done.stdout)
    return {"rss_mb": kilobytes(result["VmRSS"]) / 1024, "peak_mb": kilobytes(result["VmHWM"]) / 1024,
            "cycle_s": time.monotonic() - started, "entries": result["seen"]}  # fmt: skip


def measure_imports() -> float:
    done = subprocess.run([sys.executable, "-c", IMPORTS_ONLY], capture_output=True, text=True, check=True,
                          cwd=REPO, timeout=120)  # fmt: skip
    return kilobytes(json.loads(done.stdout)["VmRSS"]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 feeds and 10,000 stored articles")
    parser.add_argument("--feeds", type=int, help="default 1000 (200 with --quick)")
    parser.add_argument("--articles", type=int, help="stored articles; default 100000 (10000 with --quick)")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--no-baseline", action="store_true", help="ours only")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    feeds = args.feeds or (200 if args.quick else 1000)
    articles = args.articles if args.articles is not None else (10_000 if args.quick else 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fill_started = time.monotonic()
        store = prefill_store(folder, articles)
        filled = time.monotonic() - fill_started
        with ServerProcess(Plan(feeds=feeds, latency=args.latency)) as plan:
            ours = measure_ours(folder, plan)
            ours["imports_mb"] = measure_imports()
            naive = None if args.no_baseline else measure_naive(folder, plan)
        store_mb = store.stat().st_size / 2**20
    report(feeds, articles, filled, store_mb, ours, naive, args.latency)
    if args.json:
        args.json.write_text(json.dumps(rows(feeds, articles, store_mb, ours, naive), indent=2))
    return 0


def rows(feeds: int, articles: int, store_mb: float, ours: dict[str, float],
         naive: dict[str, float] | None) -> list[dict[str, object]]:  # fmt: skip
    """bench/run.py's row: RSS after the first cycle, ours against the naive loop's."""
    peaks = f"peak (VmHWM) {ours['peak_mb']:.0f} MiB ours" + (
        f", {naive['peak_mb']:.0f} naive" if naive else ""
    )
    note = (f"{peaks}; {ours['end_mb']:.0f} MiB at the cycle's end, before the heap trim; "
            f"`import monitor.cli.main` alone {ours['imports_mb']:.0f} MiB; "
            f"store file {store_mb:.0f} MiB")  # fmt: skip
    return [{"scenario": f"memory: RSS idle after the first cycle, {feeds:,} feeds, {articles:,} stored",
             "ours": round(ours["rss_mb"], 1), "baseline": round(naive["rss_mb"], 1) if naive else None,
             "unit": "MiB", "target": f"<= {TARGET_MB:.0f} MB", "note": note}]  # fmt: skip


def report(feeds: int, articles: int, filled: float, store_mb: float, ours: dict[str, float],
           naive: dict[str, float] | None, latency: float) -> None:  # fmt: skip
    print(f"scenario 5, memory: {feeds} feeds x 20 items ({latency * 1000:.0f} ms latency), "
          f"{articles} stored articles in the story window")  # fmt: skip
    print(f"  store file {store_mb:.1f} MiB (prefilled in {filled:.1f} s)")
    print(f"  {'':<28} {'RSS idle after':>15} {'peak (VmHWM)':>13} {'cycle':>8}")
    # The target is in MB (10^6 bytes), the figures in MiB: 150 MB is 143 MiB.
    verdict = "meets" if ours["rss_mb"] * 2**20 <= TARGET_MB * 10**6 else "MISSES"
    print(f"  {'news-monitor run':<28} {ours['rss_mb']:>11.1f} MiB {ours['peak_mb']:>9.1f} MiB "
          f"{ours['cycle_s']:>7.1f}s   target <= {TARGET_MB:.0f} MB: {verdict}")  # fmt: skip
    print(f"  {'  at the cycle end':<28} {ours['end_mb']:>11.1f} MiB   (then {SETTLE_SECONDS:g} s idle)")
    if naive is None:
        print("  naive feedparser loop        not run (--no-baseline)")
    else:
        print(f"  {'naive feedparser loop':<28} {naive['rss_mb']:>11.1f} MiB {naive['peak_mb']:>9.1f} MiB "
              f"{naive['cycle_s']:>7.1f}s   ratio {ours['rss_mb'] / naive['rss_mb']:.2f}x")  # fmt: skip
    print(f"  ours after `import monitor.cli.main` alone: {ours['imports_mb']:.1f} MiB")
    held = naive["entries"] if naive else 0
    print(f"  ours: {ours['alerts']:.0f} alerts sent (console) in the first cycle; naive: {held:.0f} "
          "entry ids held, no articles fetched, nothing stored")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
