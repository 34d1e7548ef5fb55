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
# The journal is journald's to rotate; a chroot (the local build) has none running, and no journal.
if [[ -d /run/systemd/system ]]; then
	journalctl --rotate
	journalctl --vacuum-time=1s
fi
find /var/log -type f -name '*.log' -exec truncate -s 0 {} +
rm -f /root/.bash_history /home/ubuntu/.bash_history
