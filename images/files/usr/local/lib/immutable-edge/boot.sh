#!/usr/bin/env bash
# Brings an immutable-edge instance from boot to serving, run once by cloud-init (runcmd):
#   eip: certificate (restored, else Let's Encrypt) -> containers -> HAProxy -> health gate ->
#        report ready -> claim the Elastic IP -> self-healing;
#   alb: containers -> HAProxy -> health gate -> report ready -> self-healing (the ALB checks
#        the same gate).
# Heartbeats keep the launch hook open while it works, within a total budget (lifecycle.sh).
# Any failure before CONTINUE reports ABANDON, so the Auto Scaling group replaces the instance
# instead of putting it in service, and exits non-zero.
set -Eeuo pipefail

lib_dir=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=SCRIPTDIR/lib.sh
. "$lib_dir/lib.sh"

# start_services starts every container at once (web services and workers), then HAProxy with
# the payload's configuration, which routes to the web services.
# systemd reloads its configuration once, for the template unit cloud-init wrote after boot:
# "systemctl enable" reloads it again by default, and each reload re-runs the generators and
# re-reads every unit (about 10 CPU-seconds under the boot tests' TCG, measured from init.scope's
# CPU time), so every enable here passes --no-reload. HAProxy is enabled in the image.
start_services() {
	write_env_files
	systemctl daemon-reload
	local svc units=()
	for svc in $(stack '.services[].name'); do
		units+=("ie-svc@$svc.service")
	done
	# A worker with a health command gets its check's timer (worker-check.sh).
	for svc in $(stack '.services[] | select((.port // 0) == 0 and (.healthCommand // []) != []) | .name'); do
		units+=("ie-worker-check@$svc.timer")
	done
	systemctl enable --no-reload --now "${units[@]}"
	systemctl reload-or-restart haproxy.service
}

# step NAME COMMAND... runs one step of the boot and logs how long it took, so every boot's log
# (CloudWatch, the console) says where its time went: "step certificate took 41.2 s".
step() {
	local name=$1 t0=${EPOCHREALTIME/./}
	shift
	"$@"
	local us=$((${EPOCHREALTIME/./} - t0))
	log "step $name took $((us / 1000000)).$((us / 100000 % 10)) s"
}

abandon() {
	log "boot failed; abandoning this instance"
	stop_heartbeats
	report ABANDON || log "could not report ABANDON; the lifecycle hook times out instead"
	exit 1
}

main() {
	load_stack
	start_agent || log "the CloudWatch agent did not start; this boot's logs stay on the instance"
	start_lifecycle
	trap abandon ERR
	if [[ $MODE == eip ]]; then
		step certificate ensure_certificate
		publish_cert_days || log "could not publish the certificate's days to expiry"
		systemctl enable --no-reload --now ie-cert-metric.timer
	fi
	step services start_services
	step gate wait_for_gate
	step continue continue_launch
	trap - ERR
	if [[ $MODE == eip ]]; then
		step claim claim_after_continue
	fi
	went_in_service || log "could not start self-healing; the instance serves without it"
	log "serving ($MODE edge)"
}

main "$@"
