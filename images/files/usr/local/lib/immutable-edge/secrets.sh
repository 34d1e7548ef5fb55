#!/usr/bin/env bash
# A service's (or job's) secrets, for its container: ie-svc@<name>.service runs "fetch" before each start
# and "clear" after each stop.
#   fetch  reads every secret the service references (stack.json: names and sources, never
#          values) with the instance role, into $IE_RUN/secrets/<name>/<secret>: /run is a tmpfs,
#          so a value never reaches a disk, and $IE_RUN/secrets is root's only (0700). The unit
#          mounts the service's directory read-only at /run/secrets in the container; its files
#          are readable by the container's own user, whichever it is. All or nothing: the new set
#          replaces the old one only once every secret was read.
#   clear  removes them once the container has stopped.
# Values pass from the AWS CLI to jq to the file through pipes: never an argument, a variable, a
# log line or a temporary file on disk. What is logged is each secret's name and source.
set -euo pipefail

lib_dir=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=SCRIPTDIR/lib.sh
. "$lib_dir/lib.sh"

# read_secret SOURCE ID prints the secret's value as a JSON string (null for a Secrets Manager
# secret that holds binary data). SSM decrypts SecureStrings with the key they were written with;
# Secrets Manager too (both need kms:Decrypt for a customer managed key, which the instance role
# has on the stack's key through those two services only).
read_secret() {
	case $1 in
	ssm)
		aws ssm get-parameter --region "$REGION" --name "$2" --with-decryption \
			--query Parameter.Value --output json
		;;
	secretsmanager)
		aws secretsmanager get-secret-value --region "$REGION" --secret-id "$2" \
			--query SecretString --output json
		;;
	database | cache)
		# The password the stack's data tier keeps in Secrets Manager: RDS's managed secret (JSON
		# with username and password), or the cache's auth token.
		aws secretsmanager get-secret-value --region "$REGION" --secret-id "$(stack ".$1.secretArn")" \
			--query SecretString --output json
		;;
	*)
		log "unknown secret source $1"
		return 2
		;;
	esac
}

# write_secret SOURCE ID KEY FILE reads one secret into FILE: the whole value, or with KEY the
# one field of a secret that holds a JSON object (a string as it is, anything else as JSON).
# jq's own messages are dropped: fromjson quotes the text it could not parse, which is the value.
write_secret() {
	local source=$1 id=$2 key=$3 file=$4
	local filter='if type != "string" then error("not a string") else . end'
	case $source in
	database | cache) filter+=" | $(compose "$source" "$key")" ;;
	*)
		if [[ -n $key ]]; then
			# shellcheck disable=SC2016 # $k is jq's variable
			filter+=' | fromjson | if type != "object" then error("not an object") else . end
				| if has($k) then .[$k] else error("no key") end | if type == "string" then . else tojson end'
		fi
		;;
	esac
	read_secret "$source" "$id" | jq -j --arg k "$key" --argjson at "$(jq -c ".$source // null" "$IE_STACK_FILE")" "$filter" \
		>"$file" 2>/dev/null
}

# compose prints the jq filter that turns a data tier's secret into what a service asked for
# (KEY url or password). The URLs escape the password (@uri) and ask for TLS: RDS for
# PostgreSQL 15 and later refuses unencrypted connections by default (rds.force_ssl is 1), and
# the cache accepts TLS only (transit encryption on).
compose() {
	# RDS's secret must be an object with a string username and password: anything else (a
	# field missing, null, a list) fails the read rather than writing "null" into the file.
	local rds='fromjson | if type == "object" and (.username | type) == "string" and (.password | type) == "string"
		then . else error("not an RDS secret") end'
	# shellcheck disable=SC2016 # $at is jq's variable
	case $1:$2 in
	database:url) printf '%s' "$rds"' | "postgresql://\(.username | @uri):\(.password | @uri)@\($at.host):\($at.port)/\($at.name)?sslmode=require"' ;;
	database:password) printf '%s' "$rds | .password" ;;
	cache:url) printf '%s' '"rediss://:\(@uri)@\($at.host):\($at.port)"' ;;
	cache:password) printf '%s' '.' ;;
	*) printf '%s' 'error("unknown")' ;;
	esac
}

fetch() {
	local name=$1 dir=$IE_RUN/secrets
	REGION=$(stack .region)
	local -a secrets
	mapfile -t secrets < <(jq -c --arg n "$name" "$(workload) | .secrets // [] | .[]" "$IE_STACK_FILE")
	clear_secrets "$name"
	((${#secrets[@]} > 0)) || return 0
	(umask 077 && mkdir -p "$dir")
	chmod 0700 "$dir"
	local tmp s secret source id key
	tmp=$(mktemp -d "$dir/.$name.XXXXXX")
	for s in "${secrets[@]}"; do
		secret=$(jq -r .name <<<"$s")
		source=$(jq -r .source <<<"$s")
		id=$(jq -r '.id // ""' <<<"$s") # none for the data tier's: stack.json names its secret
		key=$(jq -r '.key // ""' <<<"$s")
		if ! retry 3 2 write_secret "$source" "$id" "$key" "$tmp/$secret"; then
			log "service $name: could not read secret $secret ($source${id:+ $id}${key:+, key $key}); the container does not start"
			rm -rf "$tmp"
			return 1
		fi
		chmod 0444 "$tmp/$secret"
		log "service $name: secret $secret read ($source${id:+ $id}${key:+, key $key})"
	done
	chmod 0755 "$tmp"
	mv -T "$tmp" "$dir/$name"
}

clear_secrets() { rm -rf "${IE_RUN:?}/secrets/$1"; }

case "${1:-}:${2:-}" in
fetch:?*) fetch "$2" ;;
clear:?*) clear_secrets "$2" ;;
*)
	echo "usage: secrets.sh fetch|clear SERVICE" >&2
	exit 2
	;;
esac
