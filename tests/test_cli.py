"""The `extract` and `match` commands, and the console entry points."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli.main import main
from tests.support.web_server import WebServer
from tests.support.world import PAGES, REPO_ROOT

MINT = PAGES / "mint-alibaba-denies.html"
MINT_URL = "https://www.livemint.example/companies/news/alibaba-fires-back.html"


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_extract_a_file_prints_the_article_as_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run_main(
        capsys, "--config", str(tmp_path / "none.yaml"), "extract", str(MINT), "--url", MINT_URL
    )
    assert code == 0
    article = json.loads(out)
    assert set(article) == {"title", "text", "url", "canonical_url", "published", "authors", "site_name"}
    expected = json.loads((PAGES / "mint-alibaba-denies.expected.json").read_text())
    assert article["canonical_url"] == expected["canonical_url"]
    assert article["authors"] == expected["authors"] and article["site_name"] == "Mint"
    assert article["url"] == MINT_URL
    assert "Chinese tech giant Alibaba denied allegations" in article["text"]
    assert "Trending" not in article["text"] and "Advertisement" not in article["text"]


def test_extract_a_url(capsys: pytest.CaptureFixture[str], web_server: WebServer, tmp_path: Path) -> None:
    url = web_server.add("/mint.html", MINT.read_bytes())
    code, out, _ = run_main(capsys, "--config", str(tmp_path / "none.yaml"), "extract", url)
    assert code == 0 and json.loads(out)["url"] == url


def test_extract_reports_failures(
    capsys: pytest.CaptureFixture[str], web_server: WebServer, tmp_path: Path
) -> None:
    code, _, err = run_main(
        capsys, "--config", str(tmp_path / "none.yaml"), "extract", web_server.url("/missing")
    )
    assert code == 1 and "HTTP 404" in err
    code, _, err = run_main(
        capsys, "--config", str(tmp_path / "none.yaml"), "extract", str(tmp_path / "nope.html")
    )
    assert code == 1 and "cannot read" in err


def test_match_names_watchlists_terms_and_sentences(capsys: pytest.CaptureFixture[str]) -> None:
    config = str(REPO_ROOT / "config" / "monitor.yaml")
    code, out, _ = run_main(capsys, "--config", config, "match", str(PAGES / "financeblog-alibaba-pla.html"))
    assert code == 0
    assert "alibaba-military -> #china-tech" in out
    assert "  Alibaba (" in out and "  PLA (" in out and "  T-Head (1 hit)" in out
    assert "supplied approximately 72%" in out  # the sentence the T-Head hit is in


def test_match_json_and_no_match(capsys: pytest.CaptureFixture[str]) -> None:
    config = str(REPO_ROOT / "config" / "monitor.yaml")
    code, out, _ = run_main(
        capsys, "--config", config, "match", "--json", str(PAGES / "weather-with-trending.html")
    )
    assert code == 0 and json.loads(out) == []
    code, out, _ = run_main(capsys, "--config", config, "match", "--json", str(MINT))
    [match] = json.loads(out)
    assert match["watchlist"] == "alibaba-military" and set(match["terms"]) == {"Alibaba", "PLA"}
    assert all(hit["sentence"] for hit in match["hits"])


def test_match_needs_a_valid_config(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_main(capsys, "--config", str(tmp_path / "none.yaml"), "match", str(MINT))
    assert code == 2 and "file not found" in err


@pytest.mark.parametrize(
    "command", [[sys.executable, "-m", "monitor"], [str(Path(sys.executable).parent / "news-monitor")]]
)
def test_entry_points(command: list[str]) -> None:
    result = subprocess.run([*command, "--help"], capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    assert result.returncode == 0
    for name in ("check", "once", "run", "extract", "match"):
        assert name in result.stdout
