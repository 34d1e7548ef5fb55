#!/usr/bin/env bash
# Deregisters a golden AMI and deletes its snapshots: the image component's delete command.
# The AMI id is the build command's output (PULUMI_COMMAND_STDOUT) unless given as $1.
set -euo pipefail
ami=${1:-${PULUMI_COMMAND_STDOUT:-}}
: "${REGION:?REGION is required}"
[[ $ami =~ ^ami-[0-9a-f]{8,17}$ ]] || { echo "images/deregister.sh: no AMI id to deregister (got '$ami')" >&2; exit 1; }

mapfile -t snapshots < <(aws ec2 describe-images --region "$REGION" --image-ids "$ami" \
	--query 'Images[0].BlockDeviceMappings[].Ebs.SnapshotId' --output text | tr '\t' '\n' | grep -E '^snap-' || true)
aws ec2 deregister-image --region "$REGION" --image-id "$ami"
for snap in "${snapshots[@]}"; do
	aws ec2 delete-snapshot --region "$REGION" --snapshot-id "$snap"
done
echo "images/deregister.sh: deregistered $ami and deleted ${#snapshots[@]} snapshot(s)" >&2
