#!/usr/bin/env bash
# The launch lifecycle hook as boot.sh lives it, sourced by lib.sh. A new instance stays
# Pending:Wait until it completes the hook; the hook times out lifecycle.hookTimeoutSeconds
# after the last heartbeat and then takes its default result, ABANDON (fleet.launchHooks).
# RecordLifecycleActionHeartbeat "extends the timeout by the length of time defined" for the hook
# (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RecordLifecycleActionHeartbeat.html),
# so boot.sh heartbeats every lifecycle.heartbeatSeconds while it works, and stops working (and
# heartbeating) once lifecycle.budgetSeconds are spent: a boot cannot hold a launch forever.
#
# The Elastic IP moves only after CONTINUE was accepted (claim_after_continue): an instance that
# is abandoned never got the address, so the old holder keeps serving. The opposite order would
# need an undo (re-associating to a holder that may be terminating), which can fail too.

# start_lifecycle finds the instance's group, sets the deadline and starts the heartbeats.
start_lifecycle() {
	IE_DEADLINE=$(($(date +%s) + $(stack .lifecycle.budgetSeconds)))
	IE_GROUP=$(retry 5 1 find_group)
	export IE_DEADLINE IE_GROUP
	heartbeats &
	IE_HEARTBEATS=$!
}

# find_group prints the Auto Scaling group the instance belongs to.
find_group() {
	local group
	group=$(aws autoscaling describe-auto-scaling-instances --region "$REGION" --instance-ids "$INSTANCE_ID" \
		--query 'AutoScalingInstances[0].AutoScalingGroupName' --output text) || return 1
	[[ -n $group && $group != None ]] || return 1
	echo "$group"
}

# lifecycle_state prints the instance's lifecycle state (Pending:Wait, Pending:Proceed,
# InService, Terminating..., https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_AutoScalingInstanceDetails.html).
lifecycle_state() {
	aws autoscaling describe-auto-scaling-instances --region "$REGION" --instance-ids "$INSTANCE_ID" \
		--query 'AutoScalingInstances[0].LifecycleState' --output text
}

# heartbeats runs in the background until the deadline, then abandons the launch: whatever the
# boot is stuck on, the instance is replaced instead of waiting for the hook's timeout. A failed
# heartbeat is only logged: the budget ends the boot before the hook can time out unheard.
heartbeats() {
	trap - ERR
	set +e
	local every left sleeper=
	trap '[[ -n $sleeper ]] && kill "$sleeper" 2>/dev/null; exit 0' TERM
	every=$(stack .lifecycle.heartbeatSeconds)
	while left=$((IE_DEADLINE - $(date +%s))) && ((left > 0)); do
		aws autoscaling record-lifecycle-action-heartbeat --region "$REGION" --auto-scaling-group-name "$IE_GROUP" \
			--lifecycle-hook-name "$(stack .launchHook)" --instance-id "$INSTANCE_ID" ||
			log "lifecycle heartbeat failed; the hook times out unless a later one works"
		sleep $((left < every ? left : every)) &
		sleeper=$!
		wait "$sleeper"
		sleeper=
	done
	log "the boot budget of $(stack .lifecycle.budgetSeconds)s is spent; abandoning this instance"
	report ABANDON || log "could not report ABANDON; the lifecycle hook times out instead"
}

# stop_heartbeats ends the background heartbeats, before the hook is completed either way.
stop_heartbeats() {
	[[ -n ${IE_HEARTBEATS:-} ]] || return 0
	kill "$IE_HEARTBEATS" 2>/dev/null || true
	wait "$IE_HEARTBEATS" 2>/dev/null || true
	IE_HEARTBEATS=
}

# within_budget is true while the boot's deadline is ahead.
within_budget() { [[ -n ${IE_DEADLINE:-} ]] && (($(date +%s) < IE_DEADLINE)); }

# report RESULT completes the launch lifecycle hook: CONTINUE puts the instance in service,
# ABANDON has it replaced
# (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CompleteLifecycleAction.html).
report() {
	aws autoscaling complete-lifecycle-action --region "$REGION" --auto-scaling-group-name "$IE_GROUP" \
		--lifecycle-hook-name "$(stack .launchHook)" --instance-id "$INSTANCE_ID" --lifecycle-action-result "$1"
}

# continue_launch completes the hook with CONTINUE, inside the budget, and succeeds only once
# the group has accepted it. A call that failed may still have been applied (a lost response):
# the instance's lifecycle state tells. A hook that already ended (timed out, or abandoned at
# the deadline) answers "No active Lifecycle Action found", and the state is not InService.
continue_launch() {
	stop_heartbeats
	if ! within_budget; then
		log "the boot budget of $(stack .lifecycle.budgetSeconds)s is spent; not putting this instance in service"
		return 1
	fi
	report CONTINUE && return 0
	local state
	state=$(lifecycle_state) || state=unknown
	case $state in
	Pending:Proceed | InService)
		log "CONTINUE was accepted although the call failed (lifecycle state $state)"
		return 0
		;;
	esac
	log "CONTINUE was not accepted (lifecycle state $state)"
	return 1
}

# claim_after_continue moves the address to the instance, now in service. If that fails the
# instance serves nobody: it asks the group to replace it (as health-watch.sh does), and the
# address stays with its holder until an instance that can claim it is in service.
claim_after_continue() {
	unset IE_DEADLINE
	claim_address && return 0
	log "could not claim the address; asking to be replaced"
	aws autoscaling set-instance-health --region "$REGION" --instance-id "$INSTANCE_ID" \
		--health-status Unhealthy --no-should-respect-grace-period ||
		log "could not mark this instance unhealthy"
	return 1
}
