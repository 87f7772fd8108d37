"""Configuration: the validated model of monitor.yaml + watchlists.yaml (+ sites.yaml), read with line
numbers, its JSON Schemas, live reload, and round-trip edits of the YAML a person wrote.

    loading.py       load_config: monitor.yaml and the files it names -> Config (checks across files,
                     secrets remembered for masking, a fingerprint for reload)
    monitor_file.py  the model of monitor.yaml: its settings, storage URL and feeds
    settings.py      monitor.yaml's service settings: slack, poll, fetch, ops, fleet, stories
    watchlists.py    the model of watchlists.yaml: watchlists, terms, queries, digests
    sites.py         the model of sites.yaml: per-site CSS rules for reading pages
    storage_url.py   the storage URL: ${NAME} from the environment, password checks, sqlite paths
    durations.py     durations as written (30s, 10m, 1h30m): parse, write, field types
    fields.py        the strict base model (unknown keys are errors) and shared field types
    yaml_source.py   YAML read with line numbers; validation errors that name file, line and key
    schema.py        JSON Schemas generated from the model (`news-monitor schema`)
    cron.py          digest schedules in cron syntax
    reload.py        live reload for `run`
    yaml_edit.py     round-trip YAML edits (comments and order kept)
    watch_edit.py    `watch add/remove/list` on top of yaml_edit

The model's names are imported from here (`from monitor.config import Config, load_config`); schema,
cron, reload and watch_edit are imported from their modules.

May import monitor.query and the foundations at the package root (models, errors, text, logs, redact);
never storage, stages or anything above them.
"""

from .durations import DURATION_PATTERN, duration_text, parse_duration
from .loading import DEFAULT_CONFIG_PATH, STORAGE_ENV, Config, load_config
from .monitor_file import FeedConfig, MonitorFile
from .settings import FetchSettings, FleetSettings, OpsSettings, PollSettings, SlackSettings, StoriesSettings
from .sites import SiteRuleConfig, SitesFile
from .storage_url import resolve_storage_url, store_url_problem
from .watchlists import TermConfig, WatchlistConfig, WatchlistsFile

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DURATION_PATTERN",
    "STORAGE_ENV",
    "Config",
    "FeedConfig",
    "FetchSettings",
    "FleetSettings",
    "MonitorFile",
    "OpsSettings",
    "PollSettings",
    "SiteRuleConfig",
    "SitesFile",
    "SlackSettings",
    "StoriesSettings",
    "TermConfig",
    "WatchlistConfig",
    "WatchlistsFile",
    "duration_text",
    "load_config",
    "parse_duration",
    "resolve_storage_url",
    "store_url_problem",
]
