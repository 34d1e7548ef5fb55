#!/usr/bin/env bash
# Leave nothing of this build behind, so every instance boots fresh: a new machine-id, new SSH
# host keys, cloud-init state and logs cleared.
set -euo pipefail

apt-get -y -q autoremove
apt-get clean
rm -rf /var/lib/apt/lists/* "${FILES:?}" "${TRUST:?}" /var/lib/immutable-edge-build
cloud-init clean --logs --seed
truncate -s 0 /etc/machine-id
rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*
# No SSH daemon on the instances: shell access is Session Manager, and no security group opens
# port 22. Disabled, not stopped: Packer still talks to this build instance's running sshd
# (through Session Manager) for the manifest download after this script. cloud-init then makes
# no host keys at first boot either (ssh_genkeytypes), which also saves the boot their cost.
systemctl disable ssh.service
install -d -m 0755 /etc/cloud/cloud.cfg.d
cat >/etc/cloud/cloud.cfg.d/90-immutable-edge.cfg <<'CFG'
# immutable-edge: no sshd runs on the instances (images/scripts/90-cleanup.sh), so no host keys.
ssh_genkeytypes: []
CFG
# The journal is journald's to rotate; a chroot (the local build) has none running, and no journal.
if [[ -d /run/systemd/system ]]; then
	journalctl --rotate
	journalctl --vacuum-time=1s
fi
find /var/log -type f -name '*.log' -exec truncate -s 0 {} +
rm -f /root/.bash_history /home/admin/.bash_history
