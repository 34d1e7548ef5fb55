#!/usr/bin/env bash
# Functions shared by boot.sh and renew-hook.sh. Everything an instance knows about its stack
# comes from stack.json (written by cloud-init from the launch template's user-data); nothing
# here holds a secret: AWS access is the instance role through IMDSv2.
#
# Overridable for tests: IE_ETC (/etc), IE_STACK_FILE, IE_IMDS, IE_GATE_TRIES/IE_GATE_DELAY/IE_GATE_SETTLE,
# IE_CLAIM_TRIES/IE_CLAIM_DELAY, IE_AGENT_CTL, IE_VAR (/var/lib/immutable-edge), IE_RUN (/run/immutable-edge), TMPDIR.

IE_ETC=${IE_ETC:-/etc}
IE_STACK_FILE=${IE_STACK_FILE:-$IE_ETC/immutable-edge/stack.json}
IE_IMDS=${IE_IMDS:-http://169.254.169.254}
IE_CERT_NAME=edge
IE_PEM=$IE_ETC/haproxy/certs/edge.pem
IE_VAR=${IE_VAR:-/var/lib/immutable-edge}
# IE_RUN is the runtime state under /run, a tmpfs: the services' secret files (secrets.sh).
IE_RUN=${IE_RUN:-/run/immutable-edge}
# IE_IN_SERVICE exists once the launch hook was completed with CONTINUE: the instance went into
# service. It outlives a reboot, which does not take the instance out of service.
IE_IN_SERVICE=$IE_VAR/in-service

log() { printf 'immutable-edge: %s\n' "$*" >&2; }

# shellcheck source=SCRIPTDIR/certstate.sh
. "$(dirname "${BASH_SOURCE[0]}")/certstate.sh"
# shellcheck source=SCRIPTDIR/lifecycle.sh
. "$(dirname "${BASH_SOURCE[0]}")/lifecycle.sh"

# stack QUERY prints a value of the stack description (jq syntax).
stack() { jq -r "$1" "$IE_STACK_FILE"; }

# retry TRIES DELAY COMMAND... runs COMMAND until it succeeds, at most TRIES times, waiting
# DELAY seconds (doubling, at most 30) between attempts, and never past the boot's deadline
# (IE_DEADLINE, epoch seconds, set by lifecycle.sh while boot.sh runs).
retry() {
	local tries=$1 delay=$2 attempt=1
	shift 2
	until "$@"; do
		if ((attempt >= tries)); then
			log "gave up after $attempt attempts: $*"
			return 1
		fi
		if [[ -n ${IE_DEADLINE:-} ]] && (($(date +%s) + delay >= IE_DEADLINE)); then
			log "gave up after $attempt attempts, the boot budget is spent: $*"
			return 1
		fi
		log "attempt $attempt failed, retrying in ${delay}s: $*"
		sleep "$delay"
		attempt=$((attempt + 1))
		delay=$((delay * 2 > 30 ? 30 : delay * 2))
	done
}

# imds PATH reads instance metadata with an IMDSv2 session token (hop limit 1: host only).
imds() {
	local token
	token=$(curl -sS -f -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$IE_IMDS/latest/api/token") || return 1
	curl -sS -f -H "X-aws-ec2-metadata-token: $token" "$IE_IMDS/latest/meta-data/$1"
}

load_stack() {
	MODE=$(stack .edge.mode)
	REGION=$(stack .region)
	INSTANCE_ID=$(retry 5 1 imds instance-id)
	export MODE REGION INSTANCE_ID
}

# workload is the jq filter that selects the service or job named $n: the two share the
# namespace of names, and every per-container file and secret.
# shellcheck disable=SC2016 # $n is jq's variable
workload() { printf '%s' '(.services[], .jobs[]?) | select(.name == $n)'; }

# write_env_files writes each service's (and job's) settings for its unit instance ie-svc@<name>.service:
# the image in the stack's registry and its docker run flags: the loopback port of a web service
# (none for a worker), a read-only root unless the service opts out, its plain environment as a
# Docker env file (one literal KEY=value a line), and the read-only mount of its secrets, which
# secrets.sh reads into $IE_RUN/secrets/<name> before each start.
write_env_files() {
	local dir=$IE_ETC/immutable-edge/services name
	mkdir -p "$dir"
	for name in $(stack '(.services[], .jobs[]?) | .name'); do
		jq -r --arg n "$name" "$(workload) | .environment // {} | to_entries[] | \"\\(.key)=\\(.value)\"" \
			"$IE_STACK_FILE" >"$dir/$name.docker-env"
		jq -r --arg n "$name" --arg dir "$dir" --arg secrets "$IE_RUN/secrets" "$(workload)"' |
			"IMAGE=\(.ref)",
			"PUBLISH=\(if .port then "--publish 127.0.0.1:\(.port):\(.port) --env PORT=\(.port)" else "" end)",
			"ROOT_FLAGS=\(if .writableRoot then "" else "--read-only --tmpfs /tmp:rw,size=64m" end)",
			"ENV_FLAGS=\(if (.environment // {}) == {} then "" else "--env-file \($dir)/\($n).docker-env" end)",
			"SECRET_FLAGS=\(if (.secrets // []) == [] then "" else "--mount type=bind,source=\($secrets)/\($n),target=/run/secrets,readonly" end)"' \
			"$IE_STACK_FILE" >"$dir/$name.env"
	done
}

# build_pem joins chain and key into the one file HAProxy reads, readable by root only.
build_pem() {
	local live=$IE_ETC/letsencrypt/live/$IE_CERT_NAME
	mkdir -p "$(dirname "$IE_PEM")"
	(umask 077 && cat "$live/fullchain.pem" "$live/privkey.pem" >"$IE_PEM.tmp")
	mv -f "$IE_PEM.tmp" "$IE_PEM"
}

# IE_RENEW_DAYS: a restored certificate with more days left than this is kept without starting
# certbot: it is what certbot's --keep-until-expiring would decide with its default
# renew_before_expiry of 30 days (https://eff-certbot.readthedocs.io/en/stable/using.html#configuration-file),
# without certbot's start-up (half a minute of CPU under the boot tests' TCG). Renewing it later is
# certbot.timer's work, through the deploy hook.
IE_RENEW_DAYS=30

# ensure_certificate restores state, then asks Let's Encrypt (DNS-01 through Route 53) only when
# no valid certificate came back: replacements do not spend the duplicate-certificate limit. A
# kept certificate is not saved again: the bucket holds it already.
ensure_certificate() {
	restore_state
	local days
	if days=$(cert_days 2>/dev/null) && ((days > IE_RENEW_DAYS)); then
		log "kept the restored certificate, $days days to expiry"
		build_pem
		return 0
	fi
	local domains=()
	mapfile -t domains < <(stack '.edge.certificateNames[]')
	local args=(certonly --non-interactive --agree-tos --dns-route53 --keep-until-expiring
		--cert-name "$IE_CERT_NAME" --email "$(stack .edge.acmeEmail)"
		--deploy-hook /usr/local/lib/immutable-edge/renew-hook.sh)
	local d
	for d in "${domains[@]}"; do
		args+=(-d "$d")
	done
	# The deploy hook runs on issuance too; IE_BOOTING tells it that boot.sh builds the PEM, saves
	# the state and publishes the expiry itself, once.
	IE_BOOTING=1 retry 3 10 certbot "${args[@]}"
	build_pem
	save_state
}

# cert_days prints the whole days left before the edge certificate expires (negative once expired).
cert_days() {
	local end
	end=$(openssl x509 -enddate -noout -in "$IE_ETC/letsencrypt/live/$IE_CERT_NAME/cert.pem") || return 1
	end=${end#notAfter=}
	echo $((($(date -d "$end" +%s) - $(date +%s)) / 86400))
}

# publish_cert_days puts the days left as the CertificateDaysToExpiry metric (Stack dimension),
# which the certificate-expiry alarm watches.
publish_cert_days() {
	local days
	days=$(cert_days) || return 1
	aws cloudwatch put-metric-data --region "$REGION" --namespace "$(stack .metricNamespace)" \
		--metric-name CertificateDaysToExpiry --dimensions "Stack=$(stack .stack)" --unit Count --value "$days"
	log "certificate expires in $days days"
}

# start_agent starts the CloudWatch agent with the stack's configuration from user-data. It runs
# first, so the logs of a boot that fails still reach CloudWatch.
start_agent() {
	"${IE_AGENT_CTL:-/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl}" -a fetch-config -m ec2 -s \
		-c "file:/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json"
}

# edge_health_url prints HAProxy's health endpoint on this instance, on the port the edge's
# traffic arrives at: healthy only while HAProxy runs and every service has a healthy server (its
# body names each service's state).
edge_health_url() {
	local port=80
	if [[ $(stack .edge.mode) == alb ]]; then
		port=$(stack .edge.proxyPort)
	fi
	printf 'http://127.0.0.1:%s%s' "$port" "$(stack .edge.healthPath)"
}

# edge_healthy asks the endpoint once.
edge_healthy() { curl -sS -f -o /dev/null --max-time 5 "$(edge_health_url)"; }

# edge_settled asks twice, IE_GATE_SETTLE seconds apart: HAProxy counts a server up from its start
# until its first check (within the 2 s check interval) says otherwise, so a pass right after
# HAProxy starts proves nothing (seen live: TestRealHAProxyGateWaitsForEveryService).
edge_settled() { edge_healthy && sleep "${IE_GATE_SETTLE:-3}" && edge_healthy; }

# wait_for_gate waits until HAProxy's health endpoint passes, after its checks have run.
wait_for_gate() {
	retry "${IE_GATE_TRIES:-60}" "${IE_GATE_DELAY:-5}" edge_settled
}

# claim_address moves the stack's Elastic IP to this instance; --allow-reassociation takes it
# from the instance being replaced in one step.
claim_address() {
	local allocation
	allocation=$(stack .edge.allocationId)
	retry "${IE_CLAIM_TRIES:-5}" "${IE_CLAIM_DELAY:-2}" aws ec2 associate-address --region "$REGION" \
		--allocation-id "$allocation" --instance-id "$INSTANCE_ID" --allow-reassociation
}

# went_in_service records that the instance is in service and starts the self-healing timer,
# unless healing.unhealthyMinutes is 0.
went_in_service() {
	mkdir -p "$IE_VAR"
	: >"$IE_IN_SERVICE"
	if (($(stack .healing.unhealthyMinutes) > 0)); then
		systemctl enable --no-reload --now ie-health-watch.timer
	fi
	start_jobs
}

# start_jobs gives each job's timer its schedule and starts it, once the instance serves: an
# instance that never goes into service never races for a firing.
start_jobs() {
	local job units=()
	for job in $(stack '.jobs[]?.name'); do
		local dropin=$IE_ETC/systemd/system/ie-job@$job.timer.d
		mkdir -p "$dropin"
		jq -r --arg n "$job" '"[Timer]", (.jobs[] | select(.name == $n) | .calendar[] | "OnCalendar=\(.)")' \
			"$IE_STACK_FILE" >"$dropin/schedule.conf"
		units+=("ie-job@$job.timer")
	done
	((${#units[@]} > 0)) || return 0
	systemctl daemon-reload
	systemctl enable --no-reload --now "${units[@]}"
}
