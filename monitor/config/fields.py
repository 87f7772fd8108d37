"""The strict base of every model of the files, and field types the files share (http URLs, channels)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ..redact import mask_configured_url


def require_http_url(value: str) -> str:
    """The value, if it is an http:// or https:// URL; else ValueError, the URL masked."""
    try:
        parts = urlsplit(value)
    except ValueError:  # its message quotes a piece of the URL (a password holding `[`), unmasked
        raise ValueError(f"cannot read {mask_configured_url(value)!r} as a URL (brackets?)") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http:// or https:// URL, got {mask_configured_url(value)!r}")
    return value


HttpUrl = Annotated[str, BeforeValidator(lambda v: require_http_url(str(v)) if isinstance(v, str) else v)]


class StrictModel(BaseModel):
    # Unknown keys are errors: a typo such as `intervall:` must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


UNQUOTED_HASH = 'is empty; a channel starting with # must be quoted ("#news-alerts"): # begins a YAML comment'


def _require_channel(value: Any) -> Any:
    if value is None:
        raise ValueError(f"the channel {UNQUOTED_HASH}")
    return value


Channel = Annotated[str, BeforeValidator(_require_channel), Field(min_length=1)]
