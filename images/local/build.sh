#!/usr/bin/env bash
# Builds the golden image on this machine, for the boot tests: Debian 13 (trixie), amd64 (or
# arm64 with IE_ARCH=arm64, whose maintainer scripts run through qemu-user and binfmt_misc), from
# Debian's archive with mmdebstrap, then provisioned in a chroot of that root by the scripts
# golden.pkr.hcl's build runs, in its order, with its files and trust/ at its paths and its
# environment. IE_LOCAL_BUILD=1 tells them what they cannot do here: fetch from Amazon's
# servers (the CloudWatch agent; the AWS CLI then comes from Debian's awscli package), or talk
# to a running systemd. The result is a raw ext4 root with the kernel and initrd beside it
# (QEMU boots them directly), cached by the content hash of what goes into it, outside the
# clone, so a build is redone only when images/ changes. Prints the cache directory.
# Environment: IE_IMAGE_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/immutable-edge/images),
# DEBIAN_MIRROR (default http://deb.debian.org/debian), IE_ARCH (amd64, the default, or arm64). Needs root (mmdebstrap's root mode, chroot).
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
images=$(dirname "$here")
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${IE_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/immutable-edge/images}
arch=${IE_ARCH:-amd64}
case $arch in
amd64 | arm64) ;;
*)
	echo "images/local/build.sh: IE_ARCH must be amd64 or arm64, not '$arch'" >&2
	exit 2
	;;
esac

# What Packer's shell provisioner runs, read from the template itself so the two cannot drift.
mapfile -t scripts < <(awk '/^[[:space:]]*scripts = \[/ { on = 1; next } on && /\]/ { on = 0 } on { gsub(/[",[:space:]]/, ""); print }' "$images/golden.pkr.hcl")
((${#scripts[@]} > 0)) || { echo "images/local/build.sh: no scripts = [...] in golden.pkr.hcl" >&2; exit 1; }
pinned() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"\(.*\)\"/\1/p" "$images/golden.pkr.hcl" | head -n 1; }

hash=$(cd "$images" && { printf '%s\n' "$mirror" "$arch"; find golden.pkr.hcl scripts files trust local/build.sh -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-16)
out=$cache/$hash
# keep_recent leaves the three most recently used builds (about 1 GiB each): another clone on
# this machine may be on another revision of images/.
keep_recent() {
	local old
	mapfile -t old < <(find "$cache" -mindepth 1 -maxdepth 1 -type d -name '[0-9a-f]*' -printf '%T@ %p\n' | sort -rn | tail -n +4 | cut -d' ' -f2-)
	((${#old[@]} == 0)) || rm -rf "${old[@]}"
}
# One build at a time per cache: another test process (or clone) waits, then finds it cached.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [[ -s $out/root.img && -s $out/vmlinuz && -s $out/initrd.img && -s $out/build.json ]]; then
	touch "$out"
	keep_recent
	echo "images/local/build.sh: cached $out" >&2
	printf '%s\n' "$out"
	exit 0
fi
work=$(mktemp -d "$cache/.build-XXXXXX")
# --one-file-system: a killed mmdebstrap can leave the host's /sys or /dev mounted in the root.
cleanup() { rm -rf --one-file-system "$work"; }
trap cleanup EXIT
started=$(date +%s)

# The Debian AMI's role: a bootable minimal trixie with cloud-init and OpenSSH's server (the
# AMI has it; Packer's communicator tunnels SSH through Session Manager). systemd-networkd (in
# systemd) brings the network up from cloud-init's config; no ifupdown, whose networking
# service waits five minutes for DHCP on an interface it has no configuration for.
base=linux-image-$arch,systemd-sysv,udev,systemd-resolved,dbus,cloud-init,openssh-server,ca-certificates,netbase,iproute2,procps
# The AMI brings its network up by itself; here systemd-networkd, which cloud-init's network
# configuration is rendered for, must be enabled (systemd ships it disabled).
hooks=(--customize-hook="chroot \"\$1\" systemctl enable systemd-networkd.service"
	--customize-hook="mkdir -p \"\$1/tmp/immutable-edge-files\" \"\$1/tmp/immutable-edge-trust\" \"\$1/tmp/immutable-edge-scripts\""
	--customize-hook="copy-in $images/files/. /tmp/immutable-edge-files"
	--customize-hook="copy-in $images/trust/. /tmp/immutable-edge-trust")
for s in "${scripts[@]}"; do
	hooks+=(--customize-hook="copy-in $images/$s /tmp/immutable-edge-scripts")
	hooks+=(--customize-hook="chroot \"\$1\" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
IE_LOCAL_BUILD=1 ARCH=$arch FILES=/tmp/immutable-edge-files TRUST=/tmp/immutable-edge-trust CHANNEL=local \
GIT_REVISION=$hash CLOUDWATCH_AGENT_VERSION=$(pinned cloudwatch_agent_version) AWS_CLI_VERSION=$(pinned aws_cli_version) \
bash /tmp/immutable-edge-scripts/$(basename "$s")")
done
hooks+=(--customize-hook="rm -rf \"\$1/tmp/immutable-edge-scripts\""
	--customize-hook="copy-out /usr/share/immutable-edge/image-manifest.json $work")
mmdebstrap --variant=minbase --architectures="$arch" --include="$base" "${hooks[@]}" trixie "$work/root" "$mirror" >"$work/mmdebstrap.log" 2>&1 || {
	echo "images/local/build.sh: mmdebstrap failed; the last lines:" >&2
	tail -n 40 "$work/mmdebstrap.log" >&2
	exit 1
}
provisioned=$(date +%s)
cp -L "$work/root/vmlinuz" "$work/vmlinuz"
cp -L "$work/root/initrd.img" "$work/initrd.img"
# 4 GiB, sparse: the instances' root volume is larger; this holds the image and a few images pulled.
mkfs.ext4 -q -L root -d "$work/root" "$work/root.img" 4G >&2
rm -rf --one-file-system "$work/root"
jq -n --arg hash "$hash" --argjson provision "$((provisioned - started))" --argjson total "$(($(date +%s) - started))" \
	--arg scripts "${scripts[*]}" '{hash: $hash, seconds: {provision: $provision, total: $total}, scripts: ($scripts | split(" "))}' >"$work/build.json"
rm -rf "$out"
mv "$work" "$out"
trap - EXIT
keep_recent
echo "images/local/build.sh: built $out in $(($(date +%s) - started)) s" >&2
printf '%s\n' "$out"
