#!/usr/bin/env bash
# The VM's startup script (deploy/gcp/deploy.sh installs it as instance metadata); runs as root at every boot:
# installs Docker Engine + the Compose plugin once, fetches the code at `repo-ref`, writes deploy/.env and the
# Prometheus token file from metadata and Secret Manager, and starts deploy/compose.yaml.
# The agent reads its own secrets from Secret Manager (SECRETS_BACKEND=gcp): they are not written to disk here.
set -euo pipefail

APP=/opt/voiceagent
METADATA=http://metadata.google.internal/computeMetadata/v1
SECRETS_API=https://secretmanager.googleapis.com/v1

meta() { curl -fsS -H "Metadata-Flavor: Google" "$METADATA/$1"; }
attribute() { meta "instance/attributes/$1" 2>/dev/null || true; }

secret() {  # the latest version of a secret, as the VM's service account (the only identity that may read it)
  local token
  token="$(meta instance/service-accounts/default/token | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"
  curl -fsS -H "Authorization: Bearer $token" "$SECRETS_API/projects/$PROJECT/secrets/$1/versions/latest:access" \
    | python3 -c 'import base64, json, sys; sys.stdout.write(base64.b64decode(json.load(sys.stdin)["payload"]["data"]).decode().strip())'
}

PROJECT="$(meta project/project-id)"
DOMAIN="$(attribute domain)"
ACME_EMAIL="$(attribute acme-email)"
REPO_URL="$(attribute repo-url)"
REPO_REF="$(attribute repo-ref)"
GCP_SECRETS="$(attribute gcp-secrets | tr ';' ',')"

# 1. Docker Engine and the Compose plugin from Docker's apt repository (Ubuntu's own Compose is too old for
#    deploy/compose.yaml), once.
if ! docker compose version >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y ca-certificates curl git python3
  install -m 0755 -d /etc/apt/keyrings
  curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o /etc/apt/keyrings/docker.asc
  chmod a+r /etc/apt/keyrings/docker.asc
  . /etc/os-release
  echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu $VERSION_CODENAME stable" \
    > /etc/apt/sources.list.d/docker.list
  apt-get update
  apt-get install -y docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin
  systemctl enable --now docker
fi

# 2. The code at repo-ref (a reboot deploys the ref again).
if [[ ! -d "$APP/.git" ]]; then
  git clone "$REPO_URL" "$APP"
fi
git -C "$APP" fetch --depth 1 origin "${REPO_REF:-main}"
git -C "$APP" checkout --force FETCH_HEAD

# 3. deploy/.env: settings, and the two passwords compose itself needs; root-only.
umask 077
cat > "$APP/deploy/.env" <<ENV
DOMAIN=$DOMAIN
ACME_EMAIL=$ACME_EMAIL
POSTGRES_PASSWORD=$(secret postgres-password)
GRAFANA_ADMIN_PASSWORD=$(secret grafana-admin-password)
SECRETS_BACKEND=gcp
GCP_PROJECT=$PROJECT
GCP_SECRETS=$GCP_SECRETS
ENV
# Prometheus (user nobody) scrapes /metrics with the agent's METRICS_TOKEN.
mkdir -p "$APP/deploy/secrets"
secret metrics-token > "$APP/deploy/secrets/metrics_token"
chown 65534:65534 "$APP/deploy/secrets/metrics_token"
chmod 0400 "$APP/deploy/secrets/metrics_token"

# 4. The stack. `up` recreates only what changed: an unchanged agent keeps its calls.
docker compose -f "$APP/deploy/compose.yaml" up -d --build --remove-orphans
