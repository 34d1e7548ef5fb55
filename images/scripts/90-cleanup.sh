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
journalctl --rotate
journalctl --vacuum-time=1s
find /var/log -type f -name '*.log' -exec truncate -s 0 {} +
rm -f /root/.bash_history /home/ubuntu/.bash_history
