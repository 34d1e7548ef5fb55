#!/usr/bin/env bash
# Base system: current packages, the tools the runtime scripts use, no automatic upgrades
# (changes arrive as new images), SSH without passwords.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# On the AWS build instance the user-data (ssm-agent.sh.pkrtpl) may still be finishing when
# Packer connects through the agent it installed: wait for cloud-init so apt is not shared.
# Its exit status is not this script's business (a failed bootstrap leaves no agent to connect).
if [[ -d /run/systemd/system ]] && command -v cloud-init >/dev/null; then
	cloud-init status --wait >/dev/null || true
fi
apt-get update -q
apt-get -y -q -o Dpkg::Options::=--force-confold upgrade
# rsyslog and logrotate are named because the log shipping needs them (Debian's AMI may not have them).
# gpg checks the signatures of what the build downloads outside apt (40-certbot-aws.sh).
# e2fsprogs and cloud-guest-utils: cloud-init grows the root partition and filesystem to the
# instance's volume (the image is smaller); named, not assumed of the base image.
apt-get -y -q install --no-install-recommends jq curl unzip gpg ca-certificates openssl prometheus-node-exporter rsyslog logrotate \
	e2fsprogs cloud-guest-utils

# Immutable: an instance never changes its packages; a new image does.
apt-get -y -q purge unattended-upgrades
systemctl disable apt-daily.timer apt-daily-upgrade.timer
# Stopped too when systemd runs (the AWS build instance); a chroot (the local build) has none.
if [[ -d /run/systemd/system ]]; then
	systemctl stop apt-daily.timer apt-daily-upgrade.timer
fi

install -d -m 0755 /etc/ssh/sshd_config.d
cat >/etc/ssh/sshd_config.d/60-immutable-edge.conf <<'CONF'
# Shell access is Session Manager; SSH, if ever reachable, takes no passwords and no root.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
CONF
