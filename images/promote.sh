#!/usr/bin/env bash
# Promotes a tested AMI from one channel to another: copies the id in
# /immutable-edge/<from>/ami-id to /immutable-edge/<to>/ami-id after showing both and asking.
# The next `pulumi up` of the <to> stack shows the launch template change and rolls it out.
# Usage: images/promote.sh FROM TO [--yes]     (e.g. images/promote.sh dev prod)
# Rollback is the same command in reverse, or put-parameter with the previous id (docs/golden-image.md).
set -euo pipefail
from=${1:?usage: promote.sh FROM TO [--yes]}
to=${2:?usage: promote.sh FROM TO [--yes]}
yes=${3:-}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-eu-central-1}}

get() { aws ssm get-parameter --region "$region" --name "/immutable-edge/$1/ami-id" --query Parameter.Value --output text 2>/dev/null || true; }
new=$(get "$from")
old=$(get "$to")
[[ $new =~ ^ami-[0-9a-f]{8,17}$ ]] || { echo "promote.sh: /immutable-edge/$from/ami-id holds no AMI id (got '$new')" >&2; exit 1; }
echo "$from: $new"
echo "$to:  ${old:-(none)}"
if [[ $new == "$old" ]]; then
	echo "promote.sh: $to already runs $new"
	exit 0
fi
if [[ $yes != --yes ]]; then
	read -r -p "Point $to at $new? [y/N] " answer
	[[ $answer == y || $answer == Y ]] || { echo "promote.sh: nothing changed" >&2; exit 1; }
fi
aws ssm put-parameter --region "$region" --name "/immutable-edge/$to/ami-id" --type String \
	--data-type aws:ec2:image --value "$new" --overwrite >/dev/null
echo "promote.sh: $to now points at $new (was ${old:-none}); run pulumi up on the $to stack"
