"""`scripts/bench` rewrites docs/benchmarks.md's table and keeps the sections written by hand after it."""

from __future__ import annotations

from bench.run import OUTPUT, with_written_sections

GENERATED = "# Benchmarks\n\nMeasured today.\n\n| scenario | ours |\n|---|---:|\n| cold cycle | 8.10 |\n"


def test_a_new_table_keeps_the_written_sections_of_the_old_file() -> None:
    old = OUTPUT.read_text(encoding="utf-8")
    assert "\n## Extraction quality" in old  # the shipped file has a written section to keep
    written = old[old.index("\n## ") :]
    assert with_written_sections(GENERATED, old) == GENERATED + written


def test_a_file_without_written_sections_is_the_table_alone() -> None:
    assert with_written_sections(GENERATED, "") == GENERATED
    assert with_written_sections(GENERATED, "# Benchmarks\n\nan old table\n") == GENERATED
