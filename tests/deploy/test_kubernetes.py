"""deploy/k8s/ against the Kubernetes API schemas (kubernetes-validate ships them, offline), and its wiring:
every Secret/ConfigMap key referenced exists, probes and the stop time fit the drain, the HPA scales the agent."""

from __future__ import annotations

import re

import kubernetes_validate
import pytest
import yaml

from tests.deploy.helpers import DEPLOY
from voiceagent.config import Settings

K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.30.0"


def manifests() -> list[dict]:
    documents = []
    for path in sorted(K8S.glob("*.yaml")):
        documents += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def find(kind: str, name: str) -> dict:
    return next(doc for doc in manifests() if doc["kind"] == kind and doc["metadata"]["name"] == name)


def pod_specs() -> list[dict]:
    specs = []
    for doc in manifests():
        if doc["kind"] in ("Deployment", "StatefulSet"):
            specs.append(doc["spec"]["template"]["spec"])
    return specs


@pytest.mark.parametrize("document", [d for d in manifests() if d["kind"] != "Kustomization"],
                         ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_each_manifest_is_valid_against_the_api_schema(document):
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_validator_catches_a_mistake():
    broken = find("Deployment", "agent")
    broken["spec"]["template"]["spec"]["terminationGracePeriod"] = 340  # misspelt field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_lists_every_manifest_but_the_secret_example():
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert listed == files


def test_every_referenced_secret_and_configmap_key_exists():
    secrets = {doc["metadata"]["name"]: set(doc.get("stringData", {})) | set(doc.get("data", {}))
               for doc in manifests() if doc["kind"] == "Secret"}
    configmaps = {doc["metadata"]["name"]: set(doc.get("data", {})) for doc in manifests() if doc["kind"] == "ConfigMap"}
    references = 0
    for spec in pod_specs():
        for container in spec["containers"]:
            for env in container.get("env", []):
                source = env.get("valueFrom", {})
                if "secretKeyRef" in source:
                    ref = source["secretKeyRef"]
                    assert ref["key"] in secrets[ref["name"]], f"{ref['name']} has no key {ref['key']}"
                    references += 1
                if "configMapKeyRef" in source:
                    ref = source["configMapKeyRef"]
                    assert ref["key"] in configmaps[ref["name"]], f"{ref['name']} has no key {ref['key']}"
                    references += 1
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in configmaps
                    references += 1
    assert references >= 10
    # What the agent reads from them are real settings (a typo would be silently ignored by the server).
    settings = {name.upper() for name in Settings.model_fields}
    agent_keys = set(configmaps["voiceagent-config"]) | (secrets["voiceagent-secrets"] - {"POSTGRES_PASSWORD"})
    assert agent_keys <= settings, sorted(agent_keys - settings)


def test_the_agent_drains_before_it_stops_and_only_readiness_watches_health():
    spec = find("Deployment", "agent")["spec"]["template"]["spec"]
    container = spec["containers"][0]
    config = find("ConfigMap", "voiceagent-config")["data"]
    pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    drain = float(config["DRAIN_SECS"]) + float(config["SHUTDOWN_GRACE_SECS"])
    assert spec["terminationGracePeriodSeconds"] >= pre_stop + drain
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert "httpGet" not in container["livenessProbe"]  # /health is 503 while draining: no restart for that
    assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
    assert spec["securityContext"]["runAsNonRoot"] and spec["securityContext"]["runAsUser"] == 10001


def test_the_ingress_keeps_calls_open_and_routes_only_twilios_paths():
    ingress = find("Ingress", "agent")
    annotations = ingress["metadata"]["annotations"]
    max_call = Settings.model_fields["max_call_secs"].default
    for name in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[f"nginx.ingress.kubernetes.io/{name}"]) > max_call
    paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert paths == {"/webhook/", "/ws/media"} and ingress["spec"]["tls"]


def test_the_hpa_scales_the_agent_on_active_calls_and_the_adapter_serves_that_metric():
    hpa = find("HorizontalPodAutoscaler", "agent")["spec"]
    assert hpa["scaleTargetRef"]["name"] == "agent" and hpa["minReplicas"] >= 2
    pod_metric = next(m for m in hpa["metrics"] if m["type"] == "Pods")["pods"]["metric"]["name"]
    assert pod_metric == "voiceagent_active_calls"
    adapter = yaml.safe_load((K8S / "prometheus-adapter" / "values.yaml").read_text())
    assert any(rule["name"]["as"] == pod_metric for rule in adapter["rules"]["custom"])
    source = (DEPLOY.parent / "src" / "voiceagent" / "observability" / "metrics.py").read_text()
    assert re.search(r'Gauge\("voiceagent_active_calls"', source)  # the metric exists in the agent
    pdb = find("PodDisruptionBudget", "agent")["spec"]
    assert pdb["selector"] == find("Deployment", "agent")["spec"]["selector"] and pdb["maxUnavailable"] == 1


def test_the_shared_state_services_are_where_the_config_points():
    config = find("ConfigMap", "voiceagent-config")["data"]
    services = {doc["metadata"]["name"]: doc["spec"]["ports"][0]["port"] for doc in manifests() if doc["kind"] == "Service"}
    assert config["REDIS_URL"] == f"redis://redis:{services['redis']}/0"
    assert config["CHROMA_URL"] == f"http://chroma:{services['chroma']}"
    assert services["postgres"] == 5432 and find("StatefulSet", "postgres")["spec"]["volumeClaimTemplates"]
