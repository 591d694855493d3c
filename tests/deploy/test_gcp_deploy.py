"""deploy/gcp/deploy.sh against a fake `gcloud` on PATH: it creates what is missing, nothing on a second run,
grants the VM's account only per-secret access, never puts a secret value on a command line, and --dry-run
runs nothing."""

from __future__ import annotations

import json
import os
import shlex
import subprocess

import pytest

from tests.deploy.helpers import DEPLOY, tool

# Records each call's argv (one JSON list a line). `describe` answers NOT_FOUND unless the state file says the
# resources exist or this run created that one; get-iam-policy prints the account's binding only when they exist;
# a secret's value arrives on stdin.
FAKE_GCLOUD = """#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
stdin = sys.stdin.read() if "--data-file=-" in args else ""
with open(os.environ["GCLOUD_LOG"], "a") as log:
    log.write(json.dumps({"argv": args, "stdin_bytes": len(stdin)}) + "\\n")

def resource(verb):
    index = args.index(verb)
    return " ".join(args[:index] + args[index + 1:index + 2])

created = os.environ["GCLOUD_STATE"] + ".created"
if "create" in args:
    with open(created, "a") as out:
        out.write(resource("create") + "\\n")
made = open(created).read().splitlines() if os.path.exists(created) else []
exists = open(os.environ["GCLOUD_STATE"]).read().strip() == "present"
if "describe" in args:
    exists = exists or resource("describe") in made
    if not exists:
        sys.stderr.write("ERROR: (gcloud) NOT_FOUND: The resource was not found\\n")
        sys.exit(1)
    if any(a.startswith("--format=value(address)") or a == "value(address)" for a in args):
        print("203.0.113.10")
elif "get-iam-policy" in args and exists:
    print("serviceAccount:voiceagent-vm@proj-1.iam.gserviceaccount.com")
"""

ENV = {"GCP_PROJECT": "proj-1", "ADMIN_CIDR": "198.51.100.7/32", "DOMAIN": "agent.example.com",
       "ACME_EMAIL": "ops@example.com", "REPO_URL": "https://example.com/voiceagent.git",
       "TWILIO_AUTH_TOKEN": "twilio-secret-value-123"}
SECRETS = ["twilio-auth-token", "stream-token-secret", "metrics-token", "postgres-password", "grafana-admin-password"]


@pytest.fixture
def fake_gcloud(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gcloud").write_text(FAKE_GCLOUD)
    (bin_dir / "gcloud").chmod(0o755)
    state = tmp_path / "state"
    state.write_text("absent")
    log = tmp_path / "gcloud.log"

    def deploy(*arguments: str, extra_env: dict | None = None) -> tuple[subprocess.CompletedProcess, list[dict]]:
        log.write_text("")
        env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "GCLOUD_LOG": str(log), "GCLOUD_STATE": str(state),
               "HOME": str(tmp_path), **ENV, **(extra_env or {})}
        result = subprocess.run([tool("bash", "apt-get install bash"), str(DEPLOY / "gcp" / "deploy.sh"), *arguments],
                                capture_output=True, text=True, env=env, timeout=120)
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        return result, calls

    deploy.state = state
    return deploy


def verbs(calls: list[dict]) -> list[str]:
    """'secrets create twilio-auth-token', 'compute instances create voiceagent', ... for the changing calls."""
    out = []
    for call in calls:
        argv = call["argv"]
        for verb in ("create", "add-iam-policy-binding", "add"):
            if verb in argv:
                index = argv.index(verb)
                out.append(" ".join(argv[:index + 2]))
                break
    return out


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


@pytest.mark.slow
def test_the_first_run_creates_everything_the_plan_names(fake_gcloud):
    result, calls = fake_gcloud()
    assert result.returncode == 0, result.stderr
    changes = verbs(calls)
    assert "iam service-accounts create voiceagent-vm" in changes
    for secret in SECRETS:
        assert f"secrets create {secret}" in changes and f"secrets versions add {secret}" in changes
        assert f"secrets add-iam-policy-binding {secret}" in changes
    assert "compute addresses create voiceagent-ip" in changes
    assert "compute firewall-rules create voiceagent-allow-web" in changes
    assert "compute firewall-rules create voiceagent-allow-ssh" in changes
    assert "compute instances create voiceagent" in changes

    instance = next(c["argv"] for c in calls if c["argv"][:3] == ["compute", "instances", "create"])
    assert flag(instance, "--machine-type") == "e2-standard-2" and flag(instance, "--zone") == "us-central1-a"
    assert flag(instance, "--image-family") == "ubuntu-2204-lts" and flag(instance, "--address") == "203.0.113.10"
    assert flag(instance, "--service-account") == "voiceagent-vm@proj-1.iam.gserviceaccount.com"
    assert flag(instance, "--metadata-from-file") == f"startup-script={DEPLOY / 'gcp' / 'startup.sh'}"
    assert "domain=agent.example.com" in flag(instance, "--metadata")

    rules = {flag(c["argv"], "--rules"): flag(c["argv"], "--source-ranges") for c in calls
             if c["argv"][:3] == ["compute", "firewall-rules", "create"]}
    assert rules == {"tcp:80,tcp:443": "0.0.0.0/0", "tcp:22": "198.51.100.7/32"}


@pytest.mark.slow
def test_the_account_may_read_its_secrets_and_nothing_else(fake_gcloud):
    result, calls = fake_gcloud()
    assert result.returncode == 0, result.stderr
    grants = [c["argv"] for c in calls if "add-iam-policy-binding" in c["argv"]]
    assert {g[0] for g in grants} == {"secrets"}  # no project-wide role
    assert all("--role=roles/secretmanager.secretAccessor" in g for g in grants)
    assert all("--member=serviceAccount:voiceagent-vm@proj-1.iam.gserviceaccount.com" in g for g in grants)
    # Values travel on stdin: never in argv (shell history, process lists), never in the output.
    assert all(c["stdin_bytes"] > 0 for c in calls if "versions" in c["argv"] and "add" in c["argv"])
    everything = json.dumps(calls) + result.stdout + result.stderr
    assert ENV["TWILIO_AUTH_TOKEN"] not in everything


@pytest.mark.slow
def test_a_second_run_creates_nothing(fake_gcloud):
    fake_gcloud()
    fake_gcloud.state.write_text("present")
    result, calls = fake_gcloud()
    assert result.returncode == 0, result.stderr
    assert verbs(calls) == []
    assert any("describe" in c["argv"] for c in calls)  # it did look


def test_a_dry_run_prints_every_command_and_runs_none(fake_gcloud):
    result, calls = fake_gcloud("--dry-run")
    assert result.returncode == 0, result.stderr
    assert calls == []
    printed = [shlex.split(line.split("  #")[0]) for line in result.stdout.splitlines() if line.startswith("gcloud")]
    changes = verbs([{"argv": argv[1:]} for argv in printed])
    assert "compute instances create voiceagent" in changes and "iam service-accounts create voiceagent-vm" in changes
    assert sum(1 for argv in printed if "describe" in argv) >= 9
    assert ENV["TWILIO_AUTH_TOKEN"] not in result.stdout + result.stderr


def test_a_missing_secret_value_stops_the_first_run_with_its_name(fake_gcloud):
    result, _ = fake_gcloud(extra_env={"TWILIO_AUTH_TOKEN": ""})
    assert result.returncode != 0 and "set TWILIO_AUTH_TOKEN" in result.stderr


def test_the_scripts_are_valid_bash():
    bash = tool("bash", "apt-get install bash")
    for script in ("deploy.sh", "startup.sh"):
        assert subprocess.run([bash, "-n", str(DEPLOY / "gcp" / script)]).returncode == 0, script
