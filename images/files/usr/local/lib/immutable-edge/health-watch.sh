#!/usr/bin/env bash
# Self-healing: ie-health-watch.service runs this every 30 seconds (its timer), once boot.sh has
# put the instance in service.
#   check  (as a throwaway user, no privileges) asks HAProxy's health endpoint on this instance
#          and keeps, in the unit's runtime directory, since when it has failed without a break.
#          Once that is healing.unhealthyMinutes, it leaves a request to be replaced.
#   mark   (as root: the AWS CLI runs with the instance role) acts on the request, once:
#          SetInstanceHealth Unhealthy, and the Auto Scaling group replaces the instance.
# Nothing happens before the instance went into service, nor once Auto Scaling is taking it out.
set -euo pipefail

lib_dir=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=SCRIPTDIR/lib.sh
. "$lib_dir/lib.sh"

state=${RUNTIME_DIRECTORY:-/run/immutable-edge-health}
failing_since=$state/failing-since
request=$state/replace-me
marked=$state/marked

# in_service: the launch hook was completed with CONTINUE, and Auto Scaling is not moving the
# instance out of service (the target lifecycle state in instance metadata,
# https://docs.aws.amazon.com/autoscaling/ec2/userguide/retrieving-target-lifecycle-state-through-imds.html).
# Unknown counts as not in service: never replace an instance on a guess.
in_service() {
	[[ -e $IE_IN_SERVICE ]] && [[ $(imds autoscaling/target-lifecycle-state || true) == InService ]]
}

check() {
	local minutes now since
	minutes=$(stack .healing.unhealthyMinutes)
	if ((minutes <= 0)) || ! in_service; then
		rm -f "$failing_since"
		return 0
	fi
	if edge_healthy; then
		if [[ -e $failing_since ]]; then
			log "edge health is back after $(($(date +%s) - $(<"$failing_since")))s"
			rm -f "$failing_since"
		fi
		return 0
	fi
	now=$(date +%s)
	if [[ ! -s $failing_since ]]; then
		echo "$now" >"$failing_since"
		log "edge health failing; this instance asks to be replaced after $minutes minutes of it"
	fi
	since=$(<"$failing_since")
	if ((now - since >= minutes * 60)) && [[ ! -e $request ]]; then
		log "edge health has failed for $((now - since))s without a break; asking to be replaced"
		: >"$request"
	fi
}

# mark sets this instance's health to Unhealthy: Auto Scaling terminates and replaces it
# (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SetInstanceHealth.html), and the
# group's instance maintenance policy (min 100%, max 200%) launches the replacement first
# (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-instance-maintenance-policy.html).
# The health check grace period is not waited for: the clock above started only in service.
mark() {
	[[ -e $request && ! -e $marked ]] || return 0
	local region instance
	region=$(stack .region)
	instance=$(retry 5 1 imds instance-id)
	# The snap-packaged CLI keeps per-user data under $HOME/snap: root's, as in boot.sh.
	HOME=/root aws autoscaling set-instance-health --region "$region" --instance-id "$instance" \
		--health-status Unhealthy --no-should-respect-grace-period
	: >"$marked"
	log "marked $instance unhealthy; the group launches its replacement, then terminates it"
}

case "${1:-}" in
check) check ;;
mark) mark ;;
*)
	echo "usage: health-watch.sh check|mark" >&2
	exit 2
	;;
esac
