#!/usr/bin/env bash
# Publishes the days left on the eip edge's certificate (ie-cert-metric.timer runs it every
# 6 hours; boot and the renewal hook run it too).
set -euo pipefail

lib_dir=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=SCRIPTDIR/lib.sh
. "$lib_dir/lib.sh"

REGION=$(stack .region)
export REGION
publish_cert_days
