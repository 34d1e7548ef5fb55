#!/usr/bin/env bash
# Image retention of one channel: keeps its newest KEEP images and every image still in use,
# deregisters the rest and deletes their snapshots. components/image runs it after each build,
# and with --keep 0 when the stack is destroyed, so a destroy leaves only what other stacks use.
#
# In use, and never deregistered, whatever KEEP says:
#   - the value of any String parameter under /<PROJECT>/ (every stack's channel parameter);
#   - the image of the newest ROLLBACK_VERSIONS versions and of the default version of each
#     launch template tagged Project=<PROJECT> (the rollback window);
#   - the image of any instance that is pending, running, stopping or stopped.
# Only available images count and go; a pending one (a build in flight) is left alone. A
# snapshot another remaining image uses is kept.
#
# Everything is read before anything is deleted: a read that fails deletes nothing and exits
# non-zero. A deletion that fails is reported, the rest go on, and the exit is non-zero.
#
# Environment: REGION, CHANNEL, PROJECT, KEEP, ROLLBACK_VERSIONS.
# Usage: images/prune.sh [--keep N]          (--keep overrides KEEP)
set -euo pipefail
: "${REGION:?REGION is required}" "${CHANNEL:?CHANNEL is required}" "${PROJECT:?PROJECT is required}"
keep=${KEEP:-}
window=${ROLLBACK_VERSIONS:-}
if (($# == 2)) && [[ $1 == --keep ]]; then
	keep=$2
elif (($# != 0)); then
	echo "usage: images/prune.sh [--keep N]" >&2
	exit 2
fi
die() {
	echo "images/prune.sh: $*; nothing was deregistered" >&2
	exit 1
}
[[ $keep =~ ^[0-9]+$ ]] || die "KEEP must be a whole number (got '$keep')"
[[ $window =~ ^[1-9][0-9]*$ ]] || die "ROLLBACK_VERSIONS must be a positive number (got '$window')"
[[ $PROJECT =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "PROJECT '$PROJECT' is not a project name"
keep=$((10#$keep))

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The AWS CLI pages through every list by itself
# (https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-pagination.html).
ec2() { aws ec2 "$@" --region "$REGION" --output json; }

# 1. The channel's images, and what is in use.
ec2 describe-images --owners self --filters "Name=tag:Project,Values=$PROJECT" "Name=tag:Channel,Values=$CHANNEL" \
	>"$work/images.json" || die "could not list the $CHANNEL channel's images"
aws ssm get-parameters-by-path --region "$REGION" --output json --path "/$PROJECT" --recursive \
	--parameter-filters Key=Type,Values=String >"$work/parameters.json" || die "could not read the parameters under /$PROJECT"
ec2 describe-launch-templates --filters "Name=tag:Project,Values=$PROJECT" >"$work/templates.json" ||
	die "could not list the project's launch templates"
: >"$work/versions.json"
while read -r id latest default; do
	first=$((latest - window + 1 > 1 ? latest - window + 1 : 1))
	ec2 describe-launch-template-versions --launch-template-id "$id" --min-version "$first" --max-version "$latest" \
		>>"$work/versions.json" || die "could not read versions $first to $latest of $id"
	ec2 describe-launch-template-versions --launch-template-id "$id" --versions "$default" \
		>>"$work/versions.json" || die "could not read the default version of $id"
done < <(jq -r '.LaunchTemplates[] | "\(.LaunchTemplateId) \(.LatestVersionNumber) \(.DefaultVersionNumber)"' "$work/templates.json")

jq -r '.Parameters[].Value' "$work/parameters.json" >"$work/in-use"
jq -r '.LaunchTemplateVersions[].LaunchTemplateData.ImageId // empty' "$work/versions.json" >>"$work/in-use"

# 2. Candidates: available images past the newest KEEP (newest first by creation time, then
# id, so equal times order the same way every run), less the ones in use.
jq -r --argjson keep "$keep" --rawfile used "$work/in-use" '
	($used | split("\n") | map(select(. != ""))) as $inuse
	| [.Images[] | select(.State == "available")] | sort_by(.CreationDate, .ImageId) | reverse
	| .[$keep:][] | select(.ImageId as $id | $inuse | index($id) | not) | .ImageId' "$work/images.json" >"$work/candidates"
mapfile -t candidates <"$work/candidates"
if ((${#candidates[@]})); then
	# Instances of anything, tagged or not, keep the image they run.
	ec2 describe-instances --filters "Name=image-id,Values=$(
		IFS=,
		echo "${candidates[*]}"
	)" "Name=instance-state-name,Values=pending,running,stopping,stopped" >"$work/instances.json" ||
		die "could not list the instances of the candidate images"
	jq -r --rawfile c "$work/candidates" '
		[.Reservations[].Instances[].ImageId] as $running
		| $c | split("\n")[] | select(. != "" and (. as $id | $running | index($id) | not))' "$work/instances.json" >"$work/retire"
	mapfile -t candidates <"$work/retire"
fi
printf '%s\n' "${candidates[@]}" >"$work/retire"
total=$(jq '[.Images[] | select(.State == "available")] | length' "$work/images.json")
echo "images/prune.sh: $CHANNEL channel: $total available image(s), keeping the newest $keep and those in use; retiring ${#candidates[@]}" >&2

# 3. Retire them. A snapshot stays while a remaining image still uses it.
failed=0
for ami in "${candidates[@]}"; do
	if ! ec2 deregister-image --image-id "$ami" >/dev/null; then
		echo "images/prune.sh: could not deregister $ami; its snapshots stay" >&2
		failed=1
		continue
	fi
	mapfile -t snapshots < <(jq -r --arg ami "$ami" --rawfile gone "$work/retire" '
		(.Images | map(select(.ImageId != $ami and (.ImageId as $i | ($gone | split("\n") | index($i)) | not)))
			| [.[].BlockDeviceMappings[]?.Ebs.SnapshotId // empty]) as $kept
		| .Images[] | select(.ImageId == $ami) | .BlockDeviceMappings[]?.Ebs.SnapshotId // empty
		| select(. as $s | $kept | index($s) | not)' "$work/images.json")
	deleted=0
	for snap in "${snapshots[@]}"; do
		if ec2 delete-snapshot --snapshot-id "$snap" >/dev/null; then
			deleted=$((deleted + 1))
		else
			echo "images/prune.sh: deregistered $ami but could not delete its snapshot $snap" >&2
			failed=1
		fi
	done
	echo "images/prune.sh: deregistered $ami and deleted $deleted snapshot(s)" >&2
done
exit "$failed"
