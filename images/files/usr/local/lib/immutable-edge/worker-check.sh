#!/usr/bin/env bash
# A worker's health check: ie-worker-check@<name>.timer runs it every 30 seconds for a worker
# whose config gives a healthCommand. The command runs inside the worker's container (exec form,
# as configured: no shell); after three failures in a row the worker's unit is restarted, which
# starts a fresh container (with its secrets read again). A worker without a health command is
# checked by its process alone: the unit restarts it when it exits.
set -euo pipefail

lib_dir=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=SCRIPTDIR/lib.sh
. "$lib_dir/lib.sh"

# IE_WORKER_FAILS failures in a row restart the worker; IE_WORKER_TIMEOUT bounds one check.
IE_WORKER_FAILS=${IE_WORKER_FAILS:-3}
IE_WORKER_TIMEOUT=${IE_WORKER_TIMEOUT:-20}

check() {
	local name=$1 state=${RUNTIME_DIRECTORY:-$IE_RUN/worker-check-$1}
	local -a cmd
	mapfile -t cmd < <(jq -r --arg n "$name" '.services[] | select(.name == $n) | .healthCommand // [] | .[]' "$IE_STACK_FILE")
	((${#cmd[@]} > 0)) || return 0
	mkdir -p "$state"
	local count=$state/failures fails
	# A unit that is starting or restarting is systemd's to handle; count only a running worker.
	if ! systemctl is-active --quiet "ie-svc@$name.service"; then
		rm -f "$count"
		return 0
	fi
	if timeout "$IE_WORKER_TIMEOUT" docker exec "ie-$name" "${cmd[@]}" >/dev/null 2>&1; then
		if [[ -s $count ]]; then
			log "worker $name: health command passes again"
		fi
		rm -f "$count"
		return 0
	fi
	fails=$(($(cat "$count" 2>/dev/null || echo 0) + 1))
	echo "$fails" >"$count"
	log "worker $name: health command failed ($fails of $IE_WORKER_FAILS in a row)"
	if ((fails >= IE_WORKER_FAILS)); then
		log "worker $name: restarting it"
		rm -f "$count"
		systemctl restart "ie-svc@$name.service"
	fi
}

case "${1:-}:${2:-}" in
check:?*) check "$2" ;;
*)
	echo "usage: worker-check.sh check WORKER" >&2
	exit 2
	;;
esac
