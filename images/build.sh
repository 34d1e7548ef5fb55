#!/usr/bin/env bash
# Builds the golden AMI and prints its id as the only line on stdout; components/image runs it
# (pulumi-command) and publishes the id to the channel's SSM parameter. Packer's output goes to
# stderr; on failure, or a manifest without an AMI id, the tail of it is shown and the exit is
# non-zero, so a deployment never proceeds with an empty id. The build instance runs in
# SUBNET_ID (the stack's public subnet), never in a default VPC. What the image holds is
# summarised on stderr from the manifest the build downloads from it.
# Environment: REGION, CHANNEL, ARCHITECTURE, SUBNET_ID; GIT_REVISION (optional).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
: "${REGION:?REGION is required}" "${CHANNEL:?CHANNEL is required}" "${ARCHITECTURE:?ARCHITECTURE is required}"
: "${SUBNET_ID:?SUBNET_ID is required (the subnet the build instance runs in)}"

if ! command -v packer >/dev/null 2>&1; then
	echo "images/build.sh: packer is not installed (tools/build.sh builds the pinned version into .tools/bin)" >&2
	exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log=$work/packer.log
fail() {
	echo "images/build.sh: $1; the last lines of Packer's output:" >&2
	tail -n 40 "$log" >&2
	exit 1
}

rm -f manifest.json
packer init . >"$log" 2>&1 || fail "packer init failed"
packer build -color=false \
	-var "region=$REGION" -var "channel=$CHANNEL" -var "architecture=$ARCHITECTURE" -var "subnet_id=$SUBNET_ID" \
	-var "git_revision=${GIT_REVISION:-unknown}" -var "image_manifest=$work/image-manifest.json" . >>"$log" 2>&1 ||
	fail "packer build failed"
[[ -f manifest.json ]] || fail "packer wrote no manifest.json"
# artifact_id is "<region>:<ami id>" for the build of this run.
ami=$(jq -r '. as $m | $m.builds[] | select(.packer_run_uuid == $m.last_run_uuid) | .artifact_id' manifest.json | cut -d: -f2)
[[ $ami =~ ^ami-[0-9a-f]{8,17}$ ]] || fail "manifest.json holds no AMI id (got '$ami')"
if [[ -f $work/image-manifest.json ]]; then
	jq -r --arg ami "$ami" '"images/build.sh: \($ami) holds \(.packages | length) packages, e.g. " +
		([.packages | to_entries[] | select(.key | IN("haproxy", "docker.io", "certbot", "amazon-cloudwatch-agent"))
			| "\(.key) \(.value)"] | join(", ")) +
		"; verified downloads: " + ([.downloads[] | "\(.name) \(.version)"] | join(", "))' "$work/image-manifest.json" >&2
else
	echo "images/build.sh: $ami built, but Packer brought back no image manifest" >&2
fi
printf '%s\n' "$ami"
