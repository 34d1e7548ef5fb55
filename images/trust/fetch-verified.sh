#!/usr/bin/env bash
# Downloads URL to OUT only if URL.sig, the detached signature its publisher puts next to it, is
# a good signature by the single public key in KEYFILE, and that key's primary fingerprint is
# the pinned FINGERPRINT. Anything else (a key file with another key or more than one, a bad
# signature, a signature by another key, an expired or revoked key, a failed download) leaves
# no OUT and exits non-zero. gpg runs in a throwaway home: nothing is trusted but KEYFILE.
#
# Usage: fetch-verified.sh URL OUT KEYFILE FINGERPRINT
# Environment: FETCH_PROTO, the protocols curl may use (default =https; the tests use =file).
set -euo pipefail
if (($# != 4)); then
	echo "usage: fetch-verified.sh URL OUT KEYFILE FINGERPRINT" >&2
	exit 2
fi
url=$1 out=$2 keyfile=$3
want=${4//[[:space:]]/}
want=${want^^}
die() {
	echo "fetch-verified.sh: $url: $*" >&2
	exit 1
}
rm -f "$out"
[[ $want =~ ^[0-9A-F]{40}$ ]] || die "the pinned fingerprint '$4' is not 40 hex digits"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GNUPGHOME=$work/gnupg
install -d -m 0700 "$GNUPGHOME"

# The primary fingerprint of each key in the file (the fpr line right after each pub line).
mapfile -t keys < <(gpg --batch --with-colons --show-keys "$keyfile" 2>/dev/null |
	awk -F: '$1 == "pub" { p = 1; next } p && $1 == "fpr" { print $10; p = 0 }')
((${#keys[@]} == 1)) || die "$keyfile must hold exactly one public key, it holds ${#keys[@]}"
[[ ${keys[0]} == "$want" ]] || die "$keyfile holds key ${keys[0]}, not the pinned $want"
gpg --batch --quiet --import "$keyfile" 2>/dev/null || die "gpg cannot import $keyfile"

fetch() { curl -fsSL --proto "${FETCH_PROTO:-=https}" --retry 3 -o "$2" "$1"; }
fetch "$url" "$work/file" || die "download failed"
fetch "$url.sig" "$work/file.sig" || die "the signature $url.sig could not be downloaded"

# GOODSIG: good signature by a key that is neither expired nor revoked (gpg's DETAILS file);
# VALIDSIG's last field is the signing key's primary fingerprint.
status=$(gpg --batch --status-fd 1 --verify "$work/file.sig" "$work/file" 2>/dev/null) || die "the signature does not verify"
grep -q '^\[GNUPG:\] GOODSIG ' <<<"$status" || die "no good signature (an expired or revoked key?)"
signer=$(awk '$2 == "VALIDSIG" { print $NF }' <<<"$status")
[[ $signer == "$want" ]] || die "signed by ${signer:-nobody}, not the pinned $want"

mv "$work/file" "$out"
echo "fetch-verified.sh: $url: good signature by $want" >&2
