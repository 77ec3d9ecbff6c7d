#!/usr/bin/env bash
# nginx in front of three Lectern instances on loopback: distribution per strategy, an instance
# killed under load, a rolling restart. Installs nothing; skips (exit 0) when nginx is missing.
# Needs DATABASE_URL, REDIS_URL and NATS_URL (PostgreSQL, Redis, NATS JetStream).
set -euo pipefail
cd "$(dirname "$0")/../.."

nginx_bin="${NGINX_BIN:-$(command -v nginx || true)}"
if [[ -z "$nginx_bin" && -x /usr/sbin/nginx ]]; then nginx_bin=/usr/sbin/nginx; fi
if [[ -z "$nginx_bin" ]]; then
  echo "SKIPPED: nginx is not installed (Debian: apt-get install -y nginx); the load-balancer run needs it"
  exit 0
fi
for var in DATABASE_URL REDIS_URL NATS_URL; do
  if [[ -z "${!var:-}" ]]; then
    echo "SKIPPED: $var is not set; the load-balancer run needs PostgreSQL, Redis and NATS"
    exit 0
  fi
done

# the instances run the built CLI, as `npm start` does
npm run build --silent
NGINX_BIN="$nginx_bin" exec timeout 170 node --import tsx deploy/test/lb.ts
