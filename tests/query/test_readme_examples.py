"""The worked query examples in README.md parse and mean what the README says they mean."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.config import WatchlistConfig
from monitor.models import Article
from monitor.stages.match import compile_watchlist, match_article

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
PLA = {
    "term": "PLA",
    "case_sensitive": True,
    "aliases": ["People's Liberation Army"],
    "exclude": ["PLA filament"],
}

EXAMPLES = {
    "Alibaba NEAR/10 (PLA OR military)": [
        ("Alibaba supplied the PLA with cloud services.", True),
        ("Alibaba sells PLA filament for printers.", False),
        (
            "Alibaba results beat forecasts. " + "Filler words here. " * 10 + "The military parade was long.",
            False,
        ),
        ("Alibaba staff helped the military, the memo said.", True),
    ],
    'title:(Huawei OR HiSilicon) -"Huawei Cup"': [
        ("TITLE:Huawei launches a chip|The company said so.", True),
        ("TITLE:Huawei Cup final tonight|Football.", False),
        ("TITLE:Chips|Huawei launched one.", False),
    ],
    '"T-Head" OR 平头哥 OR (Alibaba NEAR/5 chip*)': [
        ("Alibaba's T‑Head unit grew.", True),
        ("阿里巴巴平头哥发布新芯片", True),
        ("Alibaba is a big chipmaker now.", True),
        ("Alibaba opened a restaurant.", False),
    ],
}


def test_the_readme_shows_these_examples() -> None:
    shown = set(re.findall(r"^- `([^`]+)` —", README, flags=re.MULTILINE))
    assert shown == set(EXAMPLES)


@pytest.mark.parametrize("query", list(EXAMPLES))
def test_example_means_what_the_readme_says(query: str) -> None:
    terms = [PLA] if "PLA" in query else []
    config = {"name": "w", "query": query, **({"terms": terms} if terms else {})}
    watchlist = compile_watchlist(WatchlistConfig.model_validate(config), "#c")
    for text, expected in EXAMPLES[query]:
        title, _, body = (
            text.removeprefix("TITLE:").partition("|") if text.startswith("TITLE:") else ("", "", text)
        )
        matched = bool(match_article(Article(url="u", title=title, text=body), [watchlist]))
        assert matched is expected, (query, text)
