"""What deploy/ ships agrees with the code it deploys (no Docker engine here to run it: see README)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from monitor.cli.main import build_parser
from monitor.config import STORAGE_ENV, OpsSettings, load_config
from monitor.service.ops_logging import DESCRIPTORS_FOR_THE_SERVICE

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"


def compose() -> dict:
    return YAML(typ="safe").load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_runs_postgresql_a_migration_then_two_replicas() -> None:
    services = compose()["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    monitor = services["monitor"]
    assert monitor["command"] == ["run"] and monitor["deploy"]["replicas"] == 2
    assert monitor["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_points_every_instance_at_postgresql_through_the_variable_the_config_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("migrate", "monitor"):
        environment = compose()["services"][name]["environment"]
        # What the container sees once compose has read `$$` as `$`; the config fills in the password.
        url = environment[STORAGE_ENV].replace("$$", "$")
        monkeypatch.setenv(STORAGE_ENV, url)
        monkeypatch.setenv("NEWS_DB_PASSWORD", "p@ss:w/rd#1")
        config = load_config(REPO / "config" / "monitor.yaml")
        assert config.storage_url == "postgresql://news:p%40ss%3Aw%2Frd%231@postgres:5432/news"
        assert environment["NEWS_DB_PASSWORD"].startswith("${NEWS_DB_PASSWORD:?")


def test_the_commands_compose_runs_exist_and_it_mounts_the_config() -> None:
    for command in ("migrate", "run", "status"):
        assert build_parser().parse_args([command]).handler.__name__ == f"cmd_{command}"
    assert compose()["services"]["monitor"]["volumes"] == ["../config:/app/config"]  # the repo's config


def test_the_systemd_unit_gives_the_service_enough_open_files() -> None:
    # `run` needs descriptors for feeds, pages, Slack and the store beside ops.max_connections clients;
    # without LimitNOFILE the unit gets systemd's default, and the service warns at start when it is low.
    unit = (DEPLOY / "news-monitor.service").read_text(encoding="utf-8")
    [limit] = [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith("LimitNOFILE=")]
    needed = OpsSettings().max_connections + DESCRIPTORS_FOR_THE_SERVICE
    assert int(limit) >= needed
