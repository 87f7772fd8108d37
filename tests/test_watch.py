"""`news-monitor watch`: list, add and remove terms, keeping the file as written; refusals write nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.config.watch_edit import NewTerm, WatchEditRefused, add_term, open_watchlists, save_edit
from tests.support.world import REPO_ROOT

MONITOR = """\
slack:
  default_channel: "#news-alerts"
feeds:
  - url: https://example.com/rss.xml
watchlists: watchlists.yaml
"""

WATCHLISTS = """\
# yaml-language-server: $schema=watchlists.schema.json
# What to watch.

watchlists:
  # China tech
  - name: alibaba-military
    channel: "#china-tech"            # the desk's channel
    terms:
      - Alibaba                       # the group
      - term: PLA
        case_sensitive: true
        aliases: ["People's Liberation Army"]
        exclude: ["PLA filament"]
      # - Pingtouge   (too noisy for now)

  # Chips, posted to the default channel
  - name: chips
    terms: [SMIC, Huawei]             # short list
    priority: high
# end
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "watchlists.yaml").write_text(WATCHLISTS, encoding="utf-8")
    path = tmp_path / "monitor.yaml"
    path.write_text(MONITOR, encoding="utf-8")
    return path


def watch(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), "watch", *args])
    out, err = capsys.readouterr()
    return code, out, err


def watchlists_text(config: Path) -> str:
    return (config.parent / "watchlists.yaml").read_text(encoding="utf-8")


def assert_nothing_written(config: Path) -> None:
    assert watchlists_text(config) == WATCHLISTS
    assert sorted(p.name for p in config.parent.iterdir()) == ["monitor.yaml", "watchlists.yaml"]


def test_list_shows_channels_terms_and_settings(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out, _ = watch(capsys, config, "list")
    assert code == 0
    assert out == (
        f"{(config.parent / 'watchlists.yaml').resolve()}: 2 watchlist(s), 4 term(s)\n"
        "\n"
        "alibaba-military -> #china-tech\n"
        "  Alibaba\n"
        "  PLA  (case-sensitive; aliases: People's Liberation Army; exclude: PLA filament)\n"
        "\n"
        "chips -> #news-alerts (slack.default_channel)  [priority: high]\n"
        "  SMIC\n"
        "  Huawei\n"
    )


def test_list_json(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out, _ = watch(capsys, config, "list", "--json")
    assert code == 0
    military, chips = json.loads(out)
    assert (military["name"], military["channel"], military["effective_channel"]) == (
        "alibaba-military",
        "#china-tech",
        "#china-tech",
    )
    pla = military["terms"][1]
    assert pla["term"] == "PLA" and pla["case_sensitive"] is True
    assert pla["aliases"] == ["People's Liberation Army"] and pla["exclude"] == ["PLA filament"]
    assert (chips["channel"], chips["effective_channel"], chips["priority"]) == (None, "#news-alerts", "high")


def test_add_a_plain_term_changes_only_its_line(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out, _ = watch(capsys, config, "add", "alibaba-military", "Ant Group")
    assert code == 0
    assert out.startswith("added 'Ant Group' to watchlist 'alibaba-military' (")
    assert watchlists_text(config) == WATCHLISTS.replace(
        '        exclude: ["PLA filament"]\n',
        '        exclude: ["PLA filament"]\n      - Ant Group\n',
    )


def test_add_a_term_with_settings(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    args = ["T-Head", "--alias", "Pingtouge", "--alias", "平头哥", "--exclude", "T-Head's rival"]
    code, _, _ = watch(capsys, config, "add", "alibaba-military", *args, "--case-sensitive")
    assert code == 0
    assert watchlists_text(config) == WATCHLISTS.replace(
        '        exclude: ["PLA filament"]\n',
        '        exclude: ["PLA filament"]\n'
        "      - term: T-Head\n"
        "        case_sensitive: true\n"
        "        aliases: [Pingtouge, 平头哥]\n"
        "        exclude: [T-Head's rival]\n",
    )


def test_add_to_a_flow_list_and_quote_what_needs_it(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    assert watch(capsys, config, "add", "chips", "#1 chipmaker")[0] == 0
    assert watchlists_text(config) == WATCHLISTS.replace(
        "    terms: [SMIC, Huawei]             # short list\n",
        '    terms: [SMIC, Huawei, "#1 chipmaker"] # short list\n',
    )


def test_add_creates_a_watchlist_only_when_asked(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out, _ = watch(capsys, config, "add", "ports", "COSCO", "--channel", "#shipping")
    assert code == 0 and "created watchlist 'ports' (posts to #shipping)" in out
    assert watchlists_text(config) == WATCHLISTS.replace(
        "# end\n", '  - name: ports\n    channel: "#shipping"\n    terms:\n      - COSCO\n# end\n'
    )
    code, out, _ = watch(capsys, config, "add", "banks", "ICBC", "--create")
    assert code == 0 and "(posts to slack.default_channel)" in out
    assert watchlists_text(config).endswith("  - name: banks\n    terms:\n      - ICBC\n# end\n")


def test_unknown_watchlist_suggests_the_close_name(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out, err = watch(capsys, config, "add", "alibaba-militray", "Ant Group")
    assert code == 2 and out == ""
    assert "no watchlist named 'alibaba-militray'" in err and "did you mean 'alibaba-military'?" in err
    assert "--create" in err and "--channel" in err
    code, _, err = watch(capsys, config, "remove", "cips", "SMIC")
    assert code == 2 and "did you mean 'chips'?" in err
    code, _, err = watch(capsys, config, "remove", "zzz", "SMIC")
    assert code == 2 and "(watchlists: alibaba-military, chips)" in err
    assert_nothing_written(config)


@pytest.mark.parametrize(
    ("term", "message"),
    [
        ("PLA", "'PLA' is already a term of watchlist 'alibaba-military' ({path}:10)"),
        ("Alibaba", "'Alibaba' is already a term of watchlist 'alibaba-military' ({path}:9)"),
        ("People's Liberation Army", "is already an alias of 'PLA' in watchlist 'alibaba-military' ({path}"),
    ],
)
def test_duplicate_term_is_refused(
    capsys: pytest.CaptureFixture[str], config: Path, term: str, message: str
) -> None:
    code, _, err = watch(capsys, config, "add", "alibaba-military", term)
    assert code == 2
    assert message.format(path=(config.parent / "watchlists.yaml").resolve()) in err
    assert_nothing_written(config)


def test_channel_of_an_existing_watchlist_is_not_changed(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    code, _, err = watch(capsys, config, "add", "alibaba-military", "Ant Group", "--channel", "#other")
    assert code == 2 and "posts to #china-tech" in err and "only sets the channel of a new watchlist" in err
    assert_nothing_written(config)


def test_an_invalid_result_is_not_written(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, _, err = watch(capsys, config, "add", "chips", "(!)")
    assert code == 2
    path = (config.parent / "watchlists.yaml").resolve()
    assert "not saved: the result would be invalid" in err
    assert f"{path}:18: watchlists[1].terms[2].term: '(!)' has no letters or digits to match" in err
    assert_nothing_written(config)


def test_remove_a_term_keeps_the_comments_around_it(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out, _ = watch(capsys, config, "remove", "alibaba-military", "PLA")
    assert code == 0 and out.startswith("removed 'PLA' from watchlist 'alibaba-military' (")
    assert watchlists_text(config) == WATCHLISTS.replace(
        "      - term: PLA\n"
        "        case_sensitive: true\n"
        '        aliases: ["People\'s Liberation Army"]\n'
        '        exclude: ["PLA filament"]\n',
        "",
    )
    assert watch(capsys, config, "remove", "chips", "SMIC")[0] == 0
    assert "    terms: [Huawei]                   # short list\n" in watchlists_text(config)


def test_remove_the_first_term(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    assert watch(capsys, config, "remove", "alibaba-military", "Alibaba")[0] == 0
    assert watchlists_text(config) == WATCHLISTS.replace(
        "      - Alibaba                       # the group\n", ""
    )


def test_unknown_term_suggests_and_names_aliases(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, _, err = watch(capsys, config, "remove", "alibaba-military", "Alibab")
    assert code == 2 and "has no term 'Alibab'; did you mean 'Alibaba'?" in err
    code, _, err = watch(capsys, config, "remove", "alibaba-military", "People's Liberation Army")
    assert code == 2 and "it is an alias of 'PLA'" in err
    assert_nothing_written(config)


def test_removing_the_only_term_says_what_to_do(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    assert watch(capsys, config, "remove", "chips", "SMIC")[0] == 0
    code, _, err = watch(capsys, config, "remove", "chips", "Huawei")
    assert code == 2 and "not saved" in err and "watchlists[1].terms" in err
    assert "'Huawei' is the only term of 'chips'; remove the whole watchlist with --yes" in err
    assert "[Huawei]" in watchlists_text(config)


def test_remove_a_whole_watchlist_needs_yes(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, _, err = watch(capsys, config, "remove", "chips")
    assert code == 2 and "removes the whole watchlist 'chips' and its 2 term(s): add --yes" in err
    assert_nothing_written(config)
    code, out, _ = watch(capsys, config, "remove", "chips", "--yes")
    assert code == 0 and out.startswith("removed watchlist 'chips' and its 2 term(s) (")
    assert watchlists_text(config) == WATCHLISTS.replace(
        "  - name: chips\n    terms: [SMIC, Huawei]             # short list\n    priority: high\n", ""
    )


def test_remove_the_first_watchlist_keeps_the_next_ones_heading(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    assert watch(capsys, config, "remove", "alibaba-military", "--yes")[0] == 0
    start, end = WATCHLISTS.index("  - name: alibaba-military"), WATCHLISTS.index("\n  # Chips")
    assert watchlists_text(config) == WATCHLISTS[:start] + WATCHLISTS[end:]


def test_the_last_watchlist_cannot_go(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    assert watch(capsys, config, "remove", "chips", "--yes")[0] == 0
    code, _, err = watch(capsys, config, "remove", "alibaba-military", "--yes")
    assert code == 2 and "not saved" in err and "watchlists: List should have at least 1 item" in err


def test_dry_run_prints_the_diff_and_writes_nothing(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out, err = watch(capsys, config, "add", "chips", "YMTC", "--dry-run")
    assert code == 0 and "dry run: nothing was written" in err
    assert "-    terms: [SMIC, Huawei]             # short list\n" in out
    assert "+    terms: [SMIC, Huawei, YMTC]       # short list\n" in out
    code, out, _ = watch(capsys, config, "remove", "chips", "--dry-run")  # no --yes needed to look
    assert code == 0 and "-  - name: chips\n" in out
    assert_nothing_written(config)


def test_inline_watchlists_are_edited_in_monitor_yaml(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    inline = MONITOR.replace(
        "watchlists: watchlists.yaml\n",
        "watchlists:                         # inline\n"
        "  - name: tencent\n"
        "    terms:\n"
        "      - Tencent\n"
        "\n"
        "# per-site rules\n"
        "sites: {}\n",
    )
    path = tmp_path / "monitor.yaml"
    path.write_text(inline, encoding="utf-8")
    assert watch(capsys, path, "add", "tencent", "WeChat")[0] == 0
    expected = inline.replace("      - Tencent\n", "      - Tencent\n      - WeChat\n")
    assert path.read_text(encoding="utf-8") == expected
    code, _, err = watch(capsys, path, "add", "tencent", "(!)")
    assert code == 2 and f"{path}:10: watchlists[0].terms[2].term" in err


def test_encoding_line_endings_and_mode_are_kept(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    file = config.parent / "watchlists.yaml"
    file.write_bytes(b"\xef\xbb\xbf" + WATCHLISTS.replace("\n", "\r\n").encode())
    file.chmod(0o640)
    assert watch(capsys, config, "add", "chips", "YMTC")[0] == 0
    expected = WATCHLISTS.replace("[SMIC, Huawei]             #", "[SMIC, Huawei, YMTC]       #")
    assert file.read_bytes() == b"\xef\xbb\xbf" + expected.replace("\n", "\r\n").encode()
    assert file.stat().st_mode & 0o777 == 0o640


def test_missing_files_and_invalid_config(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, _, err = watch(capsys, config.parent / "nope.yaml", "add", "chips", "YMTC")
    assert code == 2 and "nope.yaml: file not found" in err
    (config.parent / "watchlists.yaml").unlink()
    code, _, err = watch(capsys, config, "list")
    assert code == 2 and "watchlists.yaml: file not found (named by `watchlists:` in monitor.yaml)" in err
    code, _, err = watch(capsys, config, "add", "chips", "YMTC")
    assert code == 2 and "file not found" in err
    config.write_text(MONITOR.replace("feeds:", "feedz:"), encoding="utf-8")
    (config.parent / "watchlists.yaml").write_text(WATCHLISTS, encoding="utf-8")
    code, _, err = watch(capsys, config, "add", "chips", "YMTC")
    assert code == 2 and "configuration error" in err and "unknown key 'feedz'" in err
    assert watchlists_text(config) == WATCHLISTS


def test_a_file_changed_during_the_edit_is_not_overwritten(config: Path) -> None:
    file = open_watchlists(config)
    edit = add_term(file, "chips", NewTerm("YMTC"))
    (config.parent / "watchlists.yaml").write_text(WATCHLISTS + "\n", encoding="utf-8")
    with pytest.raises(WatchEditRefused, match="changed while this command ran"):
        save_edit(file, edit)
    assert watchlists_text(config) == WATCHLISTS + "\n"


def test_mixed_indentation_is_reported(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    mixed = WATCHLISTS.replace("    terms: [SMIC, Huawei]", "    terms:\n    - SMIC\n    - Huawei\n    #")
    (config.parent / "watchlists.yaml").write_text(mixed, encoding="utf-8")
    code, _, err = watch(capsys, config, "add", "chips", "YMTC")
    assert code == 0 and "mixes indentation styles, so 2 line(s) outside the edit were re-indented" in err


def test_shipped_watchlists_round_trip_exactly(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for name in ("monitor.yaml", "watchlists.yaml", "sites.yaml"):
        shutil.copy(REPO_ROOT / "config" / name, tmp_path / name)
    config, original = tmp_path / "monitor.yaml", (tmp_path / "watchlists.yaml").read_bytes()
    code, _, _ = watch(capsys, config, "add", "alibaba-military", "Ant Group", "--alias", "蚂蚁集团")
    assert code == 0 and main(["--config", str(config), "check"]) == 0
    assert watch(capsys, config, "add", "new-list", "X", "--channel", "#x")[0] == 0
    assert watch(capsys, config, "remove", "new-list", "--yes")[0] == 0
    assert watch(capsys, config, "remove", "alibaba-military", "Ant Group")[0] == 0
    assert (tmp_path / "watchlists.yaml").read_bytes() == original


def test_watch_list_as_a_program(config: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "watch", "list"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "alibaba-military -> #china-tech" in result.stdout and "  Huawei" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "watch", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "Exit codes:" in result.stdout
