#!/usr/bin/env bash
# certbot deploy hook: after a renewal, rebuild HAProxy's PEM, reload HAProxy without dropping
# connections (master-worker), keep the new state in the bucket for the next instance, and
# report the new expiry.
set -euo pipefail

lib_dir=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=SCRIPTDIR/lib.sh
. "$lib_dir/lib.sh"

REGION=$(stack .region)
export REGION
build_pem
systemctl reload haproxy.service
save_state
publish_cert_days || log "could not publish the certificate's days to expiry"
