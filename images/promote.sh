#!/usr/bin/env bash
# Promotes a tested AMI from one channel to another: copies the id in the FROM stack's image
# parameter to the TO stack's, after showing both and asking. Each stack's parameter is its
# image.parameter in Pulumi.<stack>.yaml (default /<project>/<stack>/ami-id, as the program
# has it); --from-parameter and --to-parameter name them outright. The next `pulumi up` of the
# TO stack shows the launch template change and rolls it out.
# Usage: images/promote.sh FROM TO [--yes] [--from-parameter NAME] [--to-parameter NAME]
#        (e.g. images/promote.sh dev prod)
# Rollback is the same command in reverse, or put-parameter with the previous id (docs/golden-image.md).
set -euo pipefail
usage() {
	echo "usage: images/promote.sh FROM TO [--yes] [--from-parameter NAME] [--to-parameter NAME]" >&2
	exit 2
}
root=$(dirname "$(dirname "$(readlink -f "$0")")")
yes="" from_param="" to_param="" stacks=()
while (($#)); do
	case $1 in
	--yes) yes=1 ;;
	--from-parameter | --to-parameter)
		(($# >= 2)) || usage
		if [[ $1 == --from-parameter ]]; then from_param=$2; else to_param=$2; fi
		shift
		;;
	-*) usage ;;
	*) stacks+=("$1") ;;
	esac
	shift
done
((${#stacks[@]} == 2)) || usage
from=${stacks[0]} to=${stacks[1]}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-eu-central-1}}
die() {
	echo "promote.sh: $*" >&2
	exit 1
}

# parameter_of STACK prints image.parameter from Pulumi.STACK.yaml: the program's config
# namespace is the project name (Pulumi.yaml's name:), and image is a block or flow mapping.
parameter_of() {
	local file=$root/Pulumi.$1.yaml project value
	[[ -f $file ]] || die "no $file: name the parameter with --from-parameter / --to-parameter"
	project=$(awk '$1 == "name:" { print $2; exit }' "$root/Pulumi.yaml")
	value=$(awk -v key="  $project:image:" '
		function strip(v) { sub(/[[:space:]]+#.*$/, "", v); gsub(/["\047]/, "", v); gsub(/^[[:space:]]+|[[:space:]}]+$/, "", v); return v }
		/^[^[:space:]#]/ { config = ($0 ~ /^config:/); image = 0; next }
		config && index($0, key) == 1 {
			rest = substr($0, length(key) + 1)
			if (match(rest, /parameter:[[:space:]]*[^,}]+/)) { v = substr(rest, RSTART, RLENGTH); sub(/parameter:/, "", v); print strip(v); exit }
			image = (rest ~ /^[[:space:]]*(#.*)?$/); next
		}
		image && /^    [[:space:]]*parameter:/ { v = $0; sub(/^[[:space:]]*parameter:/, "", v); print strip(v); exit }
		image && /^  ?[^[:space:]#]/ { image = 0 }' "$file")
	printf '%s\n' "${value:-/$project/$1/ami-id}"
}
from_param=${from_param:-$(parameter_of "$from")}
to_param=${to_param:-$(parameter_of "$to")}
for p in "$from_param" "$to_param"; do
	[[ $p =~ ^/[A-Za-z0-9_./-]+$ ]] || die "'$p' is not a parameter name"
done
[[ $from_param != "$to_param" ]] || die "$from and $to share the parameter $from_param: nothing to promote"

# get NAME prints the parameter's value, or nothing if it does not exist; any other error stops.
get() {
	local out
	if out=$(aws ssm get-parameter --region "$region" --name "$1" --output json 2>&1); then
		jq -r '.Parameter.Value' <<<"$out"
	elif [[ $out == *ParameterNotFound* ]]; then
		return 0
	else
		die "reading $1: $out"
	fi
}
new=$(get "$from_param")
old=$(get "$to_param")
[[ $new =~ ^ami-[0-9a-f]{8,17}$ ]] || die "$from_param ($from) holds no AMI id (got '$new')"
echo "$from: $new ($from_param)"
echo "$to:  ${old:-(none)} ($to_param)"
if [[ $new == "$old" ]]; then
	echo "promote.sh: $to already runs $new"
	exit 0
fi
if [[ -z $yes ]]; then
	read -r -p "Point $to at $new? [y/N] " answer
	[[ $answer == y || $answer == Y ]] || die "nothing changed"
fi
# The pin comes first: the building stack's role may not deregister a pinned image
# (account/setup, RetireChannelImages), so the image is safe before any parameter names it.
pin="Pinned-$to"
aws ec2 create-tags --region "$region" --resources "$new" --tags "Key=$pin,Value=$to_param" --output json >/dev/null
aws ssm put-parameter --region "$region" --name "$to_param" --type String \
	--data-type aws:ec2:image --value "$new" --overwrite --output json >/dev/null
# The replaced image stays in the launch template's rollback window, which the retention checks
# itself (images/prune.sh); only the parameter's image needs the pin.
if [[ -n $old ]] && ! aws ec2 delete-tags --region "$region" --resources "$old" --tags "Key=$pin" --output json >/dev/null; then
	echo "promote.sh: could not unpin $old (it stays kept until someone removes $pin)" >&2
fi
echo "promote.sh: $to now points at $new (was ${old:-none}), pinned with $pin; run pulumi up on the $to stack"
