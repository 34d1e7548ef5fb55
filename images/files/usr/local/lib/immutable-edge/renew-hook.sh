#!/usr/bin/env bash
# certbot deploy hook: after a renewal, rebuild HAProxy's PEM, reload HAProxy without dropping
# connections (master-worker), keep the new state in the bucket for the next instance, and
# report the new expiry.
set -euo pipefail

# An issuance during boot (boot.sh's certbot run, IE_BOOTING set) is boot.sh's to finish: doing it
# here as well uploaded the state and published the metric twice.
[[ -z ${IE_BOOTING:-} ]] || exit 0

lib_dir=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=SCRIPTDIR/lib.sh
. "$lib_dir/lib.sh"

REGION=$(stack .region)
export REGION
build_pem
systemctl reload haproxy.service
save_state
publish_cert_days || log "could not publish the certificate's days to expiry"
