#!/usr/bin/env bash
# The immutable-edge runtime: boot and renewal scripts at fixed paths (internal/bootstrap's
# user-data runs them from there).
set -euo pipefail

install -d -m 0755 /usr/local/lib/immutable-edge /etc/immutable-edge /etc/immutable-edge/services
install -m 0755 "$FILES"/usr/local/lib/immutable-edge/*.sh /usr/local/lib/immutable-edge/
# certbot runs the deploy hook from its own directory too, for renewals it schedules itself.
install -d -m 0755 /etc/letsencrypt/renewal-hooks/deploy
ln -sf /usr/local/lib/immutable-edge/renew-hook.sh /etc/letsencrypt/renewal-hooks/deploy/immutable-edge.sh
