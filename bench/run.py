"""The benchmark suite: every scenario of issue 6, ours and the baseline measured in the same run.

    scripts/bench            # the full suite (about 10 minutes on 2 cores)
    scripts/bench --quick    # smaller sizes, for trying a change (figures not comparable to the targets)

Runs each scenario script in its own process (bench/cycle.py, one_host.py, matching.py, stories.py,
memory.py, latency.py, adaptive.py), collects the rows they write with --json, prints one table with our
figure, the baseline's and the ratio, and writes it with the machine's description to docs/benchmarks.md
(unless --quick). No network: every server is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "docs" / "benchmarks.md"

# (script, full-run arguments, quick-run arguments)
SCENARIOS: list[tuple[str, list[str], list[str]]] = [
    ("cycle.py", ["--feeds", "1000"], ["--feeds", "200"]),
    ("one_host.py", ["--feeds", "1000"], ["--feeds", "200"]),
    ("matching.py", [], ["--sizes", "10", "1000", "--repeat", "5"]),
    ("stories.py", ["--sizes", "10000", "100000"], ["--sizes", "2000", "20000"]),
    ("memory.py", [], ["--quick"]),
    ("latency.py", [], ["--quick"]),
    ("adaptive.py", [], ["--feeds", "200"]),
]


def run_scenario(script: str, arguments: list[str], folder: Path) -> tuple[list[dict[str, Any]], str]:
    """Run one scenario script; its rows, or an explanation of why there are none."""
    path = REPO / "bench" / script
    if not path.exists():
        return [], f"{script}: not written yet"
    output = folder / f"{script}.json"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(path), *arguments, "--json", str(output)],
        cwd=REPO, capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    took = f"{script}: {time.perf_counter() - started:.0f} s"
    if done.returncode != 0 or not output.exists():
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        return [], f"{took}, FAILED (exit {done.returncode}):\n{tail}"
    return json.loads(output.read_text(encoding="utf-8")), took


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if "model name" in line
        ),
        platform.processor() or "unknown CPU",
    )
    memory = next((line.split()[1] for line in _read("/proc/meminfo").splitlines() if "MemTotal" in line), "")
    gib = f", {int(memory) / 2**20:.0f} GiB RAM" if memory else ""
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{os.cpu_count()} cores ({cpu}){gib}, {system}"


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| scenario | ours | baseline | ratio | unit | target | note |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for row in rows:
        ours, baseline = row.get("ours"), row.get("baseline")
        numbers = isinstance(ours, int | float) and isinstance(baseline, int | float) and ours
        ratio = f"{baseline / ours:.1f}x" if numbers else ""
        lines.append(
            f"| {row['scenario']} | {_number(ours)} | {_number(baseline)} | {ratio} | {row.get('unit', '')} "
            f"| {row.get('target', '')} | {row.get('note', '')} |"
        )
    return "\n".join(lines)


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}" if value < 100 else f"{value:,.0f}"
    return "" if value is None else str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes; docs/benchmarks.md is not written"
    )
    parser.add_argument("--only", nargs="*", help="run only these scripts, e.g. cycle.py matching.py")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    log = []
    with tempfile.TemporaryDirectory() as folder:
        for script, full, quick in SCENARIOS:
            if args.only and script not in args.only:
                continue
            print(f"running {script} ...", file=sys.stderr, flush=True)
            found, note = run_scenario(script, quick if args.quick else full, Path(folder))
            rows.extend(found)
            log.append(note)
            print(f"  {note}", file=sys.stderr, flush=True)
    result = table(rows)
    print(result)
    if not args.quick and not args.only:
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        generated = (
            "# Benchmarks\n\n"
            f"Measured by `scripts/bench` on {when}: {machine()}. Each row's baseline ran in the same run\n"
            "as our figure; the ratio is baseline / ours. How each scenario is measured is in the docstring\n"
            "of its script in `bench/`.\n\n"
            + result
            + "\n\nRuns:\n\n"
            + "\n".join(f"- {n}" for n in log)
            + "\n"
        )
        old = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        OUTPUT.write_text(with_written_sections(generated, old), encoding="utf-8")
        print(f"written to {OUTPUT.relative_to(REPO)}", file=sys.stderr)
    return 0 if all("FAILED" not in note for note in log) else 1


def with_written_sections(generated: str, old: str) -> str:
    """The generated table followed by the sections written by hand after it in the old file (its `## `
    headings on: extraction quality, story grouping), which no scenario here measures."""
    start = old.find("\n## ")
    return generated if start < 0 else generated + old[start:]


if __name__ == "__main__":
    sys.exit(main())
