"""The model of sites.yaml: per-site rules (CSS selectors) for reading article pages."""

from __future__ import annotations

from typing import Annotated

import soupsieve
from pydantic import AfterValidator, Field

from .fields import StrictModel


def _require_css_selector(selector: str) -> str:
    try:
        soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError as exc:
        raise ValueError(f"invalid CSS selector {selector!r}: {exc.args[0] if exc.args else exc}") from None
    return selector


CssSelector = Annotated[str, AfterValidator(_require_css_selector)]


class SiteRuleConfig(StrictModel):
    content: CssSelector | None = None
    remove: list[CssSelector] = Field(default_factory=list)


class SitesFile(StrictModel):
    sites: dict[str, SiteRuleConfig] = Field(default_factory=dict)
