#!/usr/bin/env bash
# A scheduled job: ie-job@<name>.timer fires on every instance at the job's calendar (UTC, from
# stack.json), and ie-job@<name>.service runs "job.sh run <name>". Exactly one instance runs
# each firing. The firing is the job's name and the minute it fired (the timers of a fleet fire
# within a second of each other: AccuracySec=1s, clocks kept by Amazon Time Sync), and the
# instance whose write of it to the stack's job table succeeds runs it: a PutItem conditioned on
# attribute_not_exists(firing), which DynamoDB evaluates atomically with the write, so of
# concurrent writers of one key exactly one succeeds and the others get
# ConditionalCheckFailedException
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html#Expressions.ConditionExpressions.PreventingOverwrites).
# A write whose answer was lost is retried; a retry that finds the item written by this instance
# still wins. The item records the instance, then the run's end and exit status; it expires (TTL)
# after IE_JOB_TTL_DAYS.
# The container runs like a service's (image, read-only root, environment, secrets at
# /run/secrets), to completion or until its timeout. The exit status is the unit's, so it is in
# the journal, and the JobFailed metric (0 or 1, dimensions Stack and Job) feeds the job's alarm.
set -euo pipefail

lib_dir=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=SCRIPTDIR/lib.sh
. "$lib_dir/lib.sh"

IE_JOB_TTL_DAYS=${IE_JOB_TTL_DAYS:-7}
# IE_JOB_FIRING overrides the firing's minute, for tests that fire many times in a minute.
IE_JOB_FIRING=${IE_JOB_FIRING:-}

# claim FIRING: 0 when this instance runs the firing, 1 when another one does, 2 when the table
# could not be asked.
claim() {
	local firing=$1 item out
	item=$(jq -cn --arg f "$firing" --arg i "$INSTANCE_ID" --arg e "$(($(date +%s) + IE_JOB_TTL_DAYS * 86400))" \
		'{firing: {S: $f}, instance: {S: $i}, state: {S: "running"}, expires: {N: $e}}')
	local attempt
	for attempt in 1 2 3; do
		if out=$(aws dynamodb put-item --region "$REGION" --table-name "$TABLE" --item "$item" \
			--condition-expression 'attribute_not_exists(firing)' 2>&1); then
			return 0
		fi
		if [[ $out == *ConditionalCheckFailedException* ]]; then
			OWNER=$(aws dynamodb get-item --region "$REGION" --table-name "$TABLE" --consistent-read \
				--key "$(jq -cn --arg f "$firing" '{firing: {S: $f}}')" --query Item.instance.S --output text) || OWNER=unknown
			[[ $OWNER == "$INSTANCE_ID" ]] && return 0 # an earlier attempt of ours got through
			return 1
		fi
		log "job $NAME: writing firing $firing to $TABLE failed (attempt $attempt): $out"
		sleep $((attempt * 2))
	done
	return 2
}

# finish FIRING STATUS records the run's end in the table and the JobFailed metric.
finish() {
	local firing=$1 status=$2 state=succeeded failed=0
	if ((status != 0)); then
		state=failed failed=1
	fi
	aws dynamodb update-item --region "$REGION" --table-name "$TABLE" \
		--key "$(jq -cn --arg f "$firing" '{firing: {S: $f}}')" \
		--update-expression 'SET #s = :s, exitCode = :c, ended = :t' --expression-attribute-names '{"#s": "state"}' \
		--expression-attribute-values "$(jq -cn --arg s "$state" --arg c "$status" --arg t "$(date -u +%FT%TZ)" \
			'{":s": {S: $s}, ":c": {N: $c}, ":t": {S: $t}}')" >/dev/null ||
		log "job $NAME: could not record the end of firing $firing"
	publish_failed "$failed"
}

publish_failed() {
	aws cloudwatch put-metric-data --region "$REGION" --namespace "$(stack .metricNamespace)" \
		--metric-name JobFailed --dimensions "Stack=$(stack .stack),Job=$NAME" --unit Count --value "$1" ||
		log "job $NAME: could not publish JobFailed $1"
}

# execute runs the container to completion and prints nothing; its status is the container's
# (124 when the timeout stopped it).
execute() {
	local env=$IE_ETC/immutable-edge/services/$NAME.env timeout
	local -a cmd
	timeout=$(jq -r --arg n "$NAME" '.jobs[] | select(.name == $n) | .timeoutSeconds' "$IE_STACK_FILE")
	mapfile -t cmd < <(jq -r --arg n "$NAME" '.jobs[] | select(.name == $n) | .command // [] | .[]' "$IE_STACK_FILE")
	# boot.sh wrote every workload's settings; a job run outside a boot writes them first.
	[[ -e $env ]] || write_env_files
	IMAGE=$(sed -n 's/^IMAGE=//p' "$env")
	ROOT_FLAGS=$(sed -n 's/^ROOT_FLAGS=//p' "$env")
	ENV_FLAGS=$(sed -n 's/^ENV_FLAGS=//p' "$env")
	SECRET_FLAGS=$(sed -n 's/^SECRET_FLAGS=//p' "$env")
	"$lib_dir/secrets.sh" fetch "$NAME" || return 1
	docker pull --quiet "$IMAGE" >/dev/null || return 1
	docker rm --force "ie-job-$NAME" >/dev/null 2>&1 || true
	local status=0
	# shellcheck disable=SC2086 # the flags are word lists, as in the service unit
	timeout --kill-after 30 "$timeout" docker run --rm --name "ie-job-$NAME" \
		--memory 256m --cpus 0.5 --pids-limit 256 --cap-drop ALL --security-opt no-new-privileges \
		$ROOT_FLAGS $ENV_FLAGS $SECRET_FLAGS --log-driver journald --log-opt "tag=ie-job-$NAME" \
		"$IMAGE" "${cmd[@]}" || status=$?
	if ((status == 124)); then
		log "job $NAME: stopped at its timeout of ${timeout}s"
		docker stop --time 10 "ie-job-$NAME" >/dev/null 2>&1 || true
	fi
	return "$status"
}

run() {
	NAME=$1
	REGION=$(stack .region)
	TABLE=$(stack .jobTable)
	INSTANCE_ID=$(retry 5 1 imds instance-id)
	local firing="$NAME@${IE_JOB_FIRING:-$(date -u +%Y-%m-%dT%H:%MZ)}" won=0
	claim "$firing" || won=$?
	case $won in
	1)
		log "job $NAME: firing $firing runs on $OWNER"
		return 0
		;;
	2)
		log "job $NAME: firing $firing not run: the job table did not answer"
		publish_failed 1
		return 1
		;;
	esac
	log "job $NAME: firing $firing runs here"
	local status=0 t0=$SECONDS
	execute || status=$?
	"$lib_dir/secrets.sh" clear "$NAME" || true
	log "job $NAME: firing $firing exited $status after $((SECONDS - t0)) s"
	finish "$firing" "$status"
	return "$status"
}

case "${1:-}:${2:-}" in
run:?*) run "$2" ;;
*)
	echo "usage: job.sh run JOB" >&2
	exit 2
	;;
esac
