"""Configuration: the shipped examples load, and every mistake is reported with file, line and key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.config import load_config, parse_duration
from monitor.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent

GOOD_MONITOR = """\
slack:
  default_channel: "#news-alerts"
feeds:
  - url: https://example.com/rss.xml
    name: Example News
    interval: 5m
watchlists: watchlists.yaml
"""
GOOD_WATCHLISTS = """\
watchlists:
  - name: alibaba-military
    channel: "#china-tech"
    terms:
      - Alibaba
      - term: PLA
        case_sensitive: true
"""


def write_config(tmp_path: Path, monitor: str = GOOD_MONITOR, watchlists: str = GOOD_WATCHLISTS) -> Path:
    (tmp_path / "watchlists.yaml").write_text(watchlists, encoding="utf-8")
    path = tmp_path / "monitor.yaml"
    path.write_text(monitor, encoding="utf-8")
    return path


def problem_of(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


@pytest.mark.sqlite_only("the default storage path")
def test_shipped_example_config_is_valid() -> None:
    config = load_config(REPO / "config" / "monitor.yaml")
    assert len(config.feeds) >= 5
    names = [w.name for w in config.watchlists]
    assert "alibaba-military" in names
    terms = {t.term: t for t in config.watchlists[0].terms}
    assert {"Alibaba", "PLA", "T-Head"} <= set(terms)
    assert terms["PLA"].case_sensitive and "People's Liberation Army" in terms["PLA"].aliases
    assert config.storage_url == f"sqlite:///{(REPO / 'config' / 'state' / 'news-monitor.db').resolve()}"


@pytest.mark.sqlite_only("the default storage path")
def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    assert config.poll.interval == timedelta(minutes=10)
    assert config.poll.max_age == timedelta(days=3)
    assert config.fetch.timeout == timedelta(seconds=20)
    assert config.fetch.allow_private_addresses is False
    assert config.feed_interval(config.feeds[0]) == timedelta(minutes=5)
    assert config.storage_url == f"sqlite:///{(tmp_path / 'state' / 'news-monitor.db').resolve()}"
    assert config.channel_for(config.watchlists[0]) == "#china-tech"


def test_inline_watchlists(tmp_path: Path) -> None:
    monitor = GOOD_MONITOR.replace(
        "watchlists: watchlists.yaml", "watchlists:\n  - name: x\n    terms: [Tencent]\n"
    )
    config = load_config(write_config(tmp_path, monitor))
    assert config.watchlists[0].terms[0].term == "Tencent"
    assert config.channel_for(config.watchlists[0]) == "#news-alerts"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["10", "3 days", "0s", "-5m", "1w", ""])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_unknown_key_names_line_key_and_suggestion(tmp_path: Path) -> None:
    path = write_config(tmp_path, GOOD_MONITOR.replace("    interval: 5m", "    intervall: 5m"))
    problem = problem_of(path)
    assert problem.path == str(path)
    assert problem.line == 6
    assert problem.key == "feeds[0].intervall"
    assert "unknown key 'intervall'" in problem.reason and "did you mean 'interval'" in problem.reason


def test_bad_duration_in_feed(tmp_path: Path) -> None:
    problem = problem_of(
        write_config(tmp_path, GOOD_MONITOR.replace("interval: 5m", "interval: five minutes"))
    )
    assert (problem.line, problem.key) == (6, "feeds[0].interval")
    assert "30s, 10m, 2h or 3d" in problem.reason


def test_error_in_watchlists_file_names_that_file(tmp_path: Path) -> None:
    watchlists = GOOD_WATCHLISTS.replace("case_sensitive: true", "case_sensitive: maybe")
    problem = problem_of(write_config(tmp_path, watchlists=watchlists))
    assert problem.path == str((tmp_path / "watchlists.yaml").resolve())
    assert (problem.line, problem.key) == (7, "watchlists[0].terms[1].case_sensitive")


def test_every_problem_is_listed(tmp_path: Path) -> None:
    monitor = GOOD_MONITOR.replace("https://example.com/rss.xml", "ftp://example.com/rss.xml").replace(
        "5m", "5 min"
    )
    problem = problem_of(write_config(tmp_path, monitor))
    assert [p.key for p in problem.problems] == ["feeds[0].url", "feeds[0].interval"]


def test_missing_required_keys(tmp_path: Path) -> None:
    problem = problem_of(write_config(tmp_path, "slack:\n  token_env: X\nfeeds: []\n"))
    keys = {p.key: p.reason for p in problem.problems}
    assert keys["slack.default_channel"] == "this key is required"
    assert "feeds" in keys


def test_invalid_yaml_reports_line(tmp_path: Path) -> None:
    problem = problem_of(
        write_config(tmp_path, GOOD_MONITOR.replace("    name: Example News", "    name: [unclosed"))
    )
    assert problem.line is not None and problem.line >= 5
    assert "invalid YAML" in problem.reason


def test_missing_watchlists_file(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    (tmp_path / "watchlists.yaml").unlink()
    problem = problem_of(path)
    assert "file not found" in problem.reason and problem.path and problem.path.endswith("watchlists.yaml")


def test_duplicate_watchlist_names(tmp_path: Path) -> None:
    watchlists = GOOD_WATCHLISTS + "  - name: alibaba-military\n    terms: [X]\n"
    assert "used twice" in problem_of(write_config(tmp_path, watchlists=watchlists)).reason


def test_empty_terms_are_refused(tmp_path: Path) -> None:
    watchlists = "watchlists:\n  - name: a\n    terms: []\n"
    problem = problem_of(write_config(tmp_path, watchlists=watchlists))
    assert problem.key == "watchlists[0].terms"


def test_check_command_ok(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert main(["--config", str(write_config(tmp_path)), "check"]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "feeds: 1" in out and "printed to the console" in out


def test_check_command_exits_2_naming_file_line_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, GOOD_MONITOR.replace("    interval: 5m", "    intervall: 5m"))
    assert main(["--config", str(path), "check"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:6: feeds[0].intervall: unknown key 'intervall'" in err


def test_check_command_missing_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(tmp_path / "nope.yaml"), "check"]) == 2
    assert "nope.yaml: file not found" in capsys.readouterr().err


def test_site_rules(tmp_path: Path) -> None:
    (tmp_path / "sites.yaml").write_text(
        "sites:\n  www.livemint.com:\n    content: div.story\n    remove: [.ad, aside]\n", encoding="utf-8"
    )
    config = load_config(write_config(tmp_path, GOOD_MONITOR + "sites: sites.yaml\n"))
    [rule] = config.site_rules
    assert (rule.domain, rule.content, rule.remove) == ("livemint.com", "div.story", (".ad", "aside"))


def test_bad_css_selector_is_caught_at_load(tmp_path: Path) -> None:
    sites = "sites:\n  example.com:\n    content: 'div[class='\n"
    (tmp_path / "sites.yaml").write_text(sites, encoding="utf-8")
    problem = problem_of(write_config(tmp_path, GOOD_MONITOR + "sites: sites.yaml\n"))
    assert problem.path == str((tmp_path / "sites.yaml").resolve())
    assert (problem.line, problem.key) == (3, "sites.example.com.content")
    assert "invalid CSS selector" in problem.reason


@pytest.mark.parametrize(
    ("monitor_edit", "key", "message"),
    [
        (
            ('default_channel: "#news-alerts"', "default_channel: #news-alerts"),
            "slack.default_channel",
            "must be quoted",
        ),
        (("feeds:", "storage: state/nm.db\nfeeds:"), "storage", "expected a database URL"),
        (
            ("    interval: 5m", "    interval: 5m\n  - url: https://example.com/rss.xml"),
            "feeds",
            "listed twice",
        ),
    ],
)
def test_configuration_traps(tmp_path: Path, monitor_edit: tuple[str, str], key: str, message: str) -> None:
    problem = problem_of(write_config(tmp_path, GOOD_MONITOR.replace(*monitor_edit)))
    assert problem.key == key and message in problem.reason


def test_unquoted_watchlist_channel_is_not_silently_ignored(tmp_path: Path) -> None:
    watchlists = GOOD_WATCHLISTS.replace('channel: "#china-tech"', "channel: #china-tech")
    problem = problem_of(write_config(tmp_path, watchlists=watchlists))
    assert problem.key == "watchlists[0]" and "must be quoted" in problem.reason


@pytest.mark.parametrize("term", ['"   "', '"\\u200b"', '"\\u00ad"', '"--"'])
def test_terms_without_letters_are_refused(tmp_path: Path, term: str) -> None:
    watchlists = f"watchlists:\n  - name: a\n    terms: [{term}]\n"
    problem = problem_of(write_config(tmp_path, watchlists=watchlists))
    assert problem.key == "watchlists[0].terms[0].term" and "no letters or digits" in problem.reason


def test_check_masks_database_passwords(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monitor = GOOD_MONITOR.replace("feeds:", "storage: postgresql://news:s3cret@db.example/news\nfeeds:")
    assert main(["--config", str(write_config(tmp_path, monitor)), "check"]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out and "postgresql://news:***@db.example/news" in out


def test_storage_url_reads_a_password_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monitor = GOOD_MONITOR + "storage: postgresql://news:${NEWS_DB_PASSWORD}@db.internal/news\n"
    path = write_config(tmp_path, monitor)
    monkeypatch.delenv("NEWS_DB_PASSWORD", raising=False)
    assert "NEWS_DB_PASSWORD named in the URL (${NEWS_DB_PASSWORD}) is not set" in str(problem_of(path))
    monkeypatch.setenv("NEWS_DB_PASSWORD", "p@ss/word")
    assert load_config(path).storage_url == "postgresql://news:p%40ss%2Fword@db.internal/news"


def test_fleet_lease_is_bounded(tmp_path: Path) -> None:
    assert load_config(
        write_config(tmp_path, GOOD_MONITOR + "fleet:\n  lease: 90s\n")
    ).fleet.lease == timedelta(seconds=90)
    assert "fleet.lease" in str(problem_of(write_config(tmp_path, GOOD_MONITOR + "fleet:\n  lease: 1s\n")))


def test_news_monitor_storage_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(tmp_path)
    monkeypatch.setenv("NEWS_MONITOR_STORAGE", "postgresql://news@db.internal/news")
    assert load_config(path).storage_url == "postgresql://news@db.internal/news"
    monkeypatch.setenv("NEWS_MONITOR_STORAGE", "mysql://x")
    assert "expected a database URL" in str(problem_of(path))
