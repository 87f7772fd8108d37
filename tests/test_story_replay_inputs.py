"""The offline story replay's bad inputs (found by an outside review) get a clear error, not a traceback.

bench/story_replay.py reads a record written by bench/story_events.py --record. A record that is missing,
empty, not gzip'd JSON lines, or cut short, and a --set value that is not a usable number (NaN, infinity,
a negative count), must be refused with a message and exit status 2 (argparse's), as an unknown --set
name already is; and story_events.py must refuse a --record path it cannot write before its ~25 s replay,
not with a traceback after it (losing the figures it measured).
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # bench/ is not installed

from bench.story_events import DEFAULT_DATA  # noqa: E402
from bench.story_record import FORMAT, VERSION  # noqa: E402


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )


def refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr[-600:]
    assert result.returncode == 2, (result.returncode, result.stdout[-300:], result.stderr[-300:])
    for word in words:
        assert word in result.stderr, result.stderr[-600:]


def test_a_missing_record_is_refused(tmp_path: Path) -> None:
    refused(run("story_replay.py", str(tmp_path / "nowhere.jsonl.gz")), "nowhere.jsonl.gz")


def test_an_empty_record_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl.gz"
    empty.write_bytes(b"")
    refused(run("story_replay.py", str(empty)), "empty.jsonl.gz")


def test_a_record_that_is_not_json_lines_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello world\n")
    refused(run("story_replay.py", str(text)), "notes.txt")


def header(data: str = "events-dev.jsonl.gz") -> str:
    return json.dumps({"format": FORMAT, "version": VERSION, "data": data, "step_minutes": 30, "seed": None})


def decision(n: int) -> str:
    return json.dumps(
        {
            "id": f"a{n}",
            "cycle": 1,
            "turn": "first",
            "title": f"Title number {n}",
            "text": "Some words of text " * 20,
            "published": "2026-12-05T00:00:00+00:00",
            "member_published": "2026-12-05T00:00:00+00:00",
            "copy_of": None,
            "story": f"a{n}",
        }
    )


def test_a_cut_gzip_record_is_refused(tmp_path: Path) -> None:
    whole = gzip.compress(("\n".join([header(), *(decision(n) for n in range(200))]) + "\n").encode())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    refused(run("story_replay.py", str(cut)), "cut.jsonl.gz")


def test_a_record_cut_at_a_line_is_refused(tmp_path: Path) -> None:
    # A record of 3 decisions with its last line cut off halfway (a plain file: as zcat would give it).
    lines = [header(), decision(1), decision(2), decision(3)]
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines)[:-40])
    refused(run("story_replay.py", str(cut)), "cut.jsonl")


@pytest.mark.parametrize(
    "setting",
    [
        "STORY_THRESHOLD=nan",  # every comparison false: precision 1.000 on 11 pairs, 329 alerts, no error
        "THRESHOLD_CEILING=inf",
        "STORY_THRESHOLD=-0.5",  # precision 0.078: every article joins
        "MEMBERS_COMPARED=-1",  # a slice from the end: the story minus its newest member
        "KEYS_KEPT=0",
    ],
)
def test_a_setting_that_is_no_usable_number_is_refused(tmp_path: Path, setting: str) -> None:
    record = tmp_path / "record.jsonl.gz"
    record.write_bytes(gzip.compress((header() + "\n" + decision(1) + "\n").encode()))
    refused(run("story_replay.py", str(record), "--set", setting), setting.split("=")[0])


@pytest.mark.skipif(not DEFAULT_DATA.is_file(), reason="the story-events development set is not in ../shared")
def test_an_unwritable_record_path_is_refused_before_the_replay(tmp_path: Path) -> None:
    with gzip.open(DEFAULT_DATA, "rt", encoding="utf-8") as handle:
        articles = [json.loads(line) for line, _ in zip(handle, range(6), strict=False)]
    data = tmp_path / "events-dev.jsonl.gz"
    data.write_bytes(gzip.compress("".join(json.dumps(a) + "\n" for a in articles).encode()))
    shutil.copy(DEFAULT_DATA.parent / "score.py", tmp_path / "score.py")
    result = run("story_events.py", "--data", str(data), "--record", str(tmp_path / "no" / "such" / "r.gz"))
    refused(result, "r.gz")


def test_a_record_cut_at_a_lines_end_is_refused(tmp_path: Path) -> None:
    # Its header counts 3 decisions; 2 are left (cut where a line ends, so each line still reads).
    counted = json.dumps({**json.loads(header()), "decisions": 3})
    cut = tmp_path / "short.jsonl"
    cut.write_text("\n".join([counted, decision(1), decision(2)]) + "\n")
    refused(run("story_replay.py", str(cut)), "short.jsonl", "2 decisions")


def test_a_record_of_other_data_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "events-dev.jsonl.gz"
    other.write_bytes(gzip.compress(b'{"id": "a1", "story": "1ecb", "title": "t", "offset_h": 1}\n'))
    made_with = json.dumps({**json.loads(header()), "decisions": 1, "data_sha256": "0" * 64})
    record = tmp_path / "record.jsonl"
    record.write_text(made_with + "\n" + decision(1) + "\n")
    refused(run("story_replay.py", str(record), "--data", str(other)), "not the data set")
