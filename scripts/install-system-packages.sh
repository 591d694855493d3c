#!/usr/bin/env bash
# Debian packages the tests run as real servers or tools (each test starts its own throw-away instance):
# Redis (shared limits), PostgreSQL (storage), promtool (alert rules), chromium (the softphone and console in a real
# browser, driven by Playwright), node (the softphone's audio code), espeak-ng, flite and sox (caller voices). Installs only what is missing.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)  # caller voices other than the agent's (evals, bench)
command -v flite >/dev/null 2>&1 || need+=(flite)
command -v sox >/dev/null 2>&1 || need+=(sox)  # telephone band and line noise for those voices
command -v caddy >/dev/null 2>&1 || need+=(caddy)  # deploy/Caddyfile validated by the deploy tests
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)  # the cluster test's load balancer
[ ${#need[@]} -eq 0 ] && exit 0
echo "Installing Debian packages the tests need: ${need[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null \
  || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; }
