"""compose.yaml is a valid Compose file (parsed by compose-spec, a strict implementation of the
Compose specification that refuses unknown keys and values) and every service has what an
operator relies on: an image, a health check (or is a one-shot job), its data in volumes, and
every ${VARIABLE} documented in deploy/env.example."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from compose_spec import PyCompose

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "compose.yaml").read_text()
COMPOSE = yaml.safe_load(TEXT)
SERVICES = COMPOSE["services"]

# Where each stateful service keeps its data.
DATA = {"db": "/var/lib/postgresql/data", "minio": "/data", "backup": "/backups", "proxy": "/data"}


def test_compose_spec_accepts_the_file():
    parsed = PyCompose.from_yaml(TEXT)
    assert sorted(parsed.service_names()) == sorted(SERVICES)


def test_every_service_has_an_image_and_a_health_check_or_runs_once():
    assert set(SERVICES) == {"app", "backup", "db", "minio", "minio-init", "proxy"}
    for name, service in SERVICES.items():
        assert service.get("image"), f"{name} has no image"
        if service.get("restart") == "no":  # one-shot (minio-init): others wait for it to complete
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and check.get("interval") and check.get("retries"), f"{name} has no health check"


def test_the_app_and_backup_run_the_built_image_with_one_environment():
    assert SERVICES["app"]["build"] == SERVICES["backup"]["build"] == "."
    assert SERVICES["backup"]["image"] == SERVICES["app"]["image"]
    assert SERVICES["backup"]["environment"] == SERVICES["app"]["environment"]
    assert "/healthz" in " ".join(SERVICES["app"]["healthcheck"]["test"])
    assert "python -m server backup" in " ".join(SERVICES["backup"]["command"])
    assert SERVICES["backup"]["depends_on"]["app"]["condition"] == "service_healthy"


def test_data_lives_in_declared_named_volumes():
    declared = set(COMPOSE["volumes"])
    used = set()
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source, _, rest = volume.partition(":")
            if not source.startswith((".", "/")):
                assert source in declared, f"{name} uses undeclared volume {source}"
                used.add(source)
    assert used == declared
    for name, path in DATA.items():
        targets = [v.split(":")[1] for v in SERVICES[name].get("volumes", [])]
        assert path in targets, f"{name} keeps {path} outside a volume"


def test_only_the_proxy_publishes_ports():
    assert [n for n, s in SERVICES.items() if s.get("ports")] == ["proxy"]


def test_every_variable_is_documented_in_env_example():
    example = (ROOT / "deploy" / "env.example").read_text()
    documented = set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", example, re.M))
    code = "\n".join(line for line in TEXT.splitlines() if not line.lstrip().startswith("#"))
    used = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", code))
    assert {"SECRET_KEY", "POSTGRES_PASSWORD", "BACKUP_KEEP", "TEMP_FILE_DAYS"} <= used
    assert used - documented == set()
