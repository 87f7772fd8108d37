"""What deploy/ ships agrees with the code it deploys (no Docker engine here to run it: see README)."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from monitor.cli import build_parser
from monitor.config import STORAGE_ENV, load_config

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


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


def test_compose_points_every_instance_at_postgresql_through_the_variable_the_config_reads() -> None:
    for name in ("migrate", "monitor"):
        environment = compose()["services"][name]["environment"]
        assert environment[STORAGE_ENV].startswith("postgresql://news:")
        assert environment[STORAGE_ENV].endswith("@postgres:5432/news")


def test_the_commands_compose_runs_exist_and_its_config_loads(monkeypatch) -> None:
    for command in ("migrate", "run", "status"):
        assert build_parser().parse_args([command]).handler.__name__ == f"cmd_{command}"
    # The container's config is the repository's config/, with the store from the environment.
    monkeypatch.setenv(STORAGE_ENV, "postgresql://news:secret@postgres:5432/news")
    config = load_config(Path(__file__).resolve().parent.parent / "config" / "monitor.yaml")
    assert config.storage_url == "postgresql://news:secret@postgres:5432/news"
