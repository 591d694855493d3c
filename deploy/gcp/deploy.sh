#!/usr/bin/env bash
# Deploys the one-host stack on Google Cloud, as the plan says: an e2-standard-2 VM in us-central1-a (Ubuntu 22.04)
# with a static IP, firewall rules, a service account that may only read its own secrets, the secrets in Secret
# Manager, and a startup script (deploy/gcp/startup.sh) that installs Docker + Compose and starts deploy/compose.yaml.
#
#   GCP_PROJECT=my-project ADMIN_CIDR=198.51.100.7/32 DOMAIN=agent.example.com ACME_EMAIL=ops@example.com \
#   REPO_URL=https://github.com/you/voiceagent.git TWILIO_AUTH_TOKEN=... deploy/gcp/deploy.sh [--dry-run]
#
# Idempotent: every resource is described first and created only when missing, so a second run changes nothing.
# Existing secrets keep their values (rotate with `gcloud secrets versions add`, docs/deploy.md).
# --dry-run prints every gcloud command (describes included) and runs none. Secret values are never printed:
# they reach gcloud on standard input.
set -euo pipefail

DRY_RUN=0
for argument in "$@"; do
  case "$argument" in
    --dry-run) DRY_RUN=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $argument (use --dry-run)" >&2; exit 2 ;;
  esac
done

: "${GCP_PROJECT:?set GCP_PROJECT}"
: "${ADMIN_CIDR:?set ADMIN_CIDR, the address range allowed to SSH in (e.g. 198.51.100.7/32)}"
: "${DOMAIN:?set DOMAIN, the host name Twilio calls (its DNS A record must point at the static IP)}"
: "${ACME_EMAIL:?set ACME_EMAIL, for Let\'s Encrypt}"
REGION="${REGION:-us-central1}"
ZONE="${ZONE:-us-central1-a}"
MACHINE_TYPE="${MACHINE_TYPE:-e2-standard-2}"
INSTANCE="${INSTANCE:-voiceagent}"
ADDRESS="${INSTANCE}-ip"
ACCOUNT_NAME="${INSTANCE}-vm"
ACCOUNT="${ACCOUNT_NAME}@${GCP_PROJECT}.iam.gserviceaccount.com"
NETWORK="${NETWORK:-default}"
: "${REPO_URL:?set REPO_URL, the git repository the VM deploys (cloned by startup.sh)}"
REPO_REF="${REPO_REF:-main}"
# The agent's secret settings (GCP_SECRETS, read by the server) and the host's own (read by startup.sh).
GCP_SECRETS="${GCP_SECRETS:-TWILIO_AUTH_TOKEN,STREAM_TOKEN_SECRET,METRICS_TOKEN}"
HOST_SECRETS=(postgres-password grafana-admin-password)
[[ ",${GCP_SECRETS// /}," == *",METRICS_TOKEN,"* ]] || HOST_SECRETS+=(metrics-token)  # Prometheus needs it
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

say() { printf '%s\n' "$*" >&2; }

show() {  # one command as it would be typed
  local quoted=() word
  for word in "$@"; do quoted+=("$(printf '%q' "$word")"); done
  printf '%s\n' "${quoted[*]}"
}

run() {  # a command that changes something
  if (( DRY_RUN )); then show "$@"; else "$@"; fi
}

exists() {  # a describe: true when the resource exists; in a dry run it is printed and taken as missing
  if (( DRY_RUN )); then show "$@"; return 1; fi
  "$@" >/dev/null 2>&1
}

secret_id() { tr 'A-Z_' 'a-z-' <<<"$1"; }

secret_value() {  # the first value of a secret: from the environment, or generated for tokens nobody else issues
  local id="$1" name
  name="$(tr 'a-z-' 'A-Z_' <<<"$id")"
  if [[ -n "${!name:-}" ]]; then printf '%s' "${!name}"; return; fi
  case "$id" in
    stream-token-secret|metrics-token|postgres-password|grafana-admin-password|data-hash-secret) openssl rand -hex 32 ;;
    recording-key) openssl rand -base64 32 ;;
    *) say "secret $id does not exist yet: set $name in the environment for its first version"; return 1 ;;
  esac
}

ensure_secret() {
  local id="$1" value
  local gcloud_add=(gcloud secrets versions add "$id" --data-file=- --project "$GCP_PROJECT")
  if ! exists gcloud secrets describe "$id" --project "$GCP_PROJECT"; then
    if (( DRY_RUN )); then
      run gcloud secrets create "$id" --replication-policy=automatic --project "$GCP_PROJECT"
      printf '%s  # first version on standard input\n' "$(show "${gcloud_add[@]}")"
    else
      value="$(secret_value "$id")"  # before anything is created: a missing value stops the run here
      run gcloud secrets create "$id" --replication-policy=automatic --project "$GCP_PROJECT"
      printf '%s' "$value" | "${gcloud_add[@]}"  # printf is a builtin: the value is in no process's argv
    fi
  fi
  # The VM's account may read this secret and nothing else: the role is granted on the secret, not the project.
  local bound=""
  if (( DRY_RUN )); then
    show gcloud secrets get-iam-policy "$id" --project "$GCP_PROJECT" --flatten=bindings[].members \
      --filter="bindings.role=roles/secretmanager.secretAccessor AND bindings.members=serviceAccount:$ACCOUNT" \
      --format=value\(bindings.members\)
  else
    bound="$(gcloud secrets get-iam-policy "$id" --project "$GCP_PROJECT" --flatten='bindings[].members' \
      --filter="bindings.role=roles/secretmanager.secretAccessor AND bindings.members=serviceAccount:$ACCOUNT" \
      --format='value(bindings.members)')"
  fi
  if [[ -z "$bound" ]]; then
    run gcloud secrets add-iam-policy-binding "$id" --member="serviceAccount:$ACCOUNT" \
      --role=roles/secretmanager.secretAccessor --project "$GCP_PROJECT"
  fi
}

ensure_firewall() {
  local name="$1" ports="$2" sources="$3"
  if ! exists gcloud compute firewall-rules describe "$name" --project "$GCP_PROJECT"; then
    run gcloud compute firewall-rules create "$name" --project "$GCP_PROJECT" --network "$NETWORK" \
      --direction INGRESS --action ALLOW --rules "$ports" --source-ranges "$sources" --target-tags "$INSTANCE"
  fi
}

# 1. The service account of the VM (no project-wide role: only the per-secret grants below).
if ! exists gcloud iam service-accounts describe "$ACCOUNT" --project "$GCP_PROJECT"; then
  run gcloud iam service-accounts create "$ACCOUNT_NAME" --project "$GCP_PROJECT" \
    --display-name "voiceagent VM: reads its secrets only"
fi

# 2. The secrets, each readable by that account.
IFS=',' read -r -a agent_secrets <<<"$GCP_SECRETS"
for name in "${agent_secrets[@]}"; do
  ensure_secret "$(secret_id "$(tr -d ' ' <<<"$name")")"
done
for id in "${HOST_SECRETS[@]}"; do
  ensure_secret "$id"
done

# 3. A static IP: DOMAIN's A record points here, and Twilio's webhook URL stays put across VM rebuilds.
if ! exists gcloud compute addresses describe "$ADDRESS" --region "$REGION" --project "$GCP_PROJECT"; then
  run gcloud compute addresses create "$ADDRESS" --region "$REGION" --project "$GCP_PROJECT"
fi
if (( DRY_RUN )); then
  show gcloud compute addresses describe "$ADDRESS" --region "$REGION" --project "$GCP_PROJECT" --format='value(address)'
  IP="<static-ip>"
else
  IP="$(gcloud compute addresses describe "$ADDRESS" --region "$REGION" --project "$GCP_PROJECT" --format='value(address)')"
fi

# 4. Firewall: 80 and 443 from anywhere (Twilio, and Let's Encrypt's HTTP challenge on 80), SSH from the admins.
ensure_firewall "${INSTANCE}-allow-web" "tcp:80,tcp:443" "0.0.0.0/0"
ensure_firewall "${INSTANCE}-allow-ssh" "tcp:22" "$ADMIN_CIDR"

# 5. The VM; its startup script installs Docker + Compose and starts the stack at every boot.
if ! exists gcloud compute instances describe "$INSTANCE" --zone "$ZONE" --project "$GCP_PROJECT"; then
  run gcloud compute instances create "$INSTANCE" --project "$GCP_PROJECT" --zone "$ZONE" \
    --machine-type "$MACHINE_TYPE" --image-family ubuntu-2204-lts --image-project ubuntu-os-cloud \
    --boot-disk-size 50GB --boot-disk-type pd-balanced --address "$IP" --tags "$INSTANCE" \
    --service-account "$ACCOUNT" --scopes cloud-platform --shielded-secure-boot --shielded-vtpm \
    --metadata-from-file "startup-script=$HERE/startup.sh" \
    --metadata "domain=$DOMAIN,acme-email=$ACME_EMAIL,repo-url=$REPO_URL,repo-ref=$REPO_REF,gcp-secrets=${GCP_SECRETS//,/;}"
fi

say "Done. Point DNS: $DOMAIN A $IP; Twilio voice webhook: https://$DOMAIN/webhook/voice"
