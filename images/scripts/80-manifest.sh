#!/usr/bin/env bash
# Records what the build installed in the image: every package dpkg has installed, with its
# version (apt verified the ones from the archive), and each download fetch-verified.sh
# checked (its URL, version, SHA-256 and signing key). An instance and the build log
# (images/build.sh) both read it; the AMI's tags carry the pinned versions.
# Environment: ARCH, CHANNEL, GIT_REVISION; IE_MANIFEST and IE_DOWNLOADS override the output and input paths (tests).
set -euo pipefail
manifest=${IE_MANIFEST:-/usr/share/immutable-edge/image-manifest.json}
downloads=${IE_DOWNLOADS:-/var/lib/immutable-edge-build/downloads.tsv}
# The local build downloads nothing outside apt (40-certbot-aws.sh): an empty list there, and
# the manifest says it is a local build.
if [[ ${IE_LOCAL_BUILD:-} == 1 ]]; then
	install -d -m 0700 "$(dirname "$downloads")"
	touch "$downloads"
else
	[[ -s $downloads ]] || {
		echo "80-manifest.sh: no verified downloads recorded in $downloads" >&2
		exit 1
	}
fi
install -d -m 0755 "$(dirname "$manifest")"

# Installed packages only ("ii"), by name and version.
dpkg-query -W -f='${db:Status-Abbrev}\t${binary:Package}\t${Version}\n' |
	awk -F'\t' '$1 ~ /^ii/ { print $2 "\t" $3 }' >"$manifest.packages"
jq -n --rawfile packages "$manifest.packages" --rawfile downloads "$downloads" \
	--arg channel "${CHANNEL:?}" --arg architecture "${ARCH:?}" --arg gitRevision "${GIT_REVISION:?}" \
	--argjson localBuild "$([[ ${IE_LOCAL_BUILD:-} == 1 ]] && echo true || echo false)" '
	def rows($text): $text | split("\n") | map(select(. != "") | split("\t"));
	{
		channel: $channel, architecture: $architecture, gitRevision: $gitRevision, localBuild: $localBuild,
		packages: (rows($packages) | map({key: .[0], value: .[1]}) | from_entries),
		downloads: (rows($downloads) | map({name: .[0], version: .[1], url: .[2], sha256: .[3], signedBy: .[4]}))
	}' >"$manifest.tmp"
rm -f "$manifest.packages"
mv "$manifest.tmp" "$manifest"
chmod 0644 "$manifest"
jq -r '"80-manifest.sh: \(.packages | length) packages and \(.downloads | length) verified downloads in the manifest"' "$manifest" >&2
