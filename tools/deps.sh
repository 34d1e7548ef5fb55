#!/usr/bin/env bash
# Installs the programs the tests run for real (Debian packages), when they are missing.
# Under CI a missing program that cannot be installed is an error, never a skip.
set -euo pipefail

# program -> Debian package
declare -A packages=(
	[haproxy]=haproxy
	[shellcheck]=shellcheck
	[cloud-init]=cloud-init
	[systemd-analyze]=systemd
	[jq]=jq
	[openssl]=openssl
	[curl]=curl
	[aws]=awscli
	[strace]=strace
	[gpg]=gpg           # images/trust_test.go: signatures made and checked for real
	[dpkg-deb]=dpkg     # images/trust_test.go builds a real .deb; 80-manifest.sh reads dpkg's database
	[rsyslogd]=rsyslog
	[logrotate]=logrotate
	[logger]=bsdutils
	[node]=nodejs
	[npm]=npm
	# images/local: the golden image built from Debian's archive and booted under QEMU.
	[mmdebstrap]=mmdebstrap
	[mkfs.ext4]=e2fsprogs
	[qemu-system-x86_64]=qemu-system-x86
	[qemu-img]=qemu-utils
	[mkfs.vfat]=dosfstools # the NoCloud seed: cloud-init reads a vfat or ISO 9660 volume labelled CIDATA
	[mcopy]=mtools
	[socat]=socat # QEMU's guest forwards to the stand-ins on loopback
	[pebble]=pebble # Let's Encrypt's test CA, for certbot's real DNS-01 flow in the boot tests
	[pebble-challtestsrv]=pebble
	[docker-registry]=docker-registry # the stack's ECR registry in the boot tests (the Distribution registry)
)

missing=()
for program in "${!packages[@]}"; do
	command -v "$program" >/dev/null 2>&1 || missing+=("${packages[$program]}")
done
# images/local: a real PostgreSQL stands in for RDS in the voting boot test. Debian keeps its
# server programs off PATH, under /usr/lib/postgresql/<version>/bin.
postgres_present() { command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }
postgres_present || missing+=(postgresql)
if ((${#missing[@]} == 0)); then
	exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "tools/deps.sh: installing ${missing[*]}" >&2
sudo=()
if ((EUID != 0)); then
	command -v sudo >/dev/null 2>&1 || { echo "tools/deps.sh: need root or sudo to install ${missing[*]}" >&2; exit 1; }
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for program in "${!packages[@]}"; do
	command -v "$program" >/dev/null 2>&1 || { echo "tools/deps.sh: $program still missing" >&2; exit 1; }
done
postgres_present || { echo "tools/deps.sh: PostgreSQL's initdb still missing" >&2; exit 1; }
