#!/usr/bin/env bash
# The immutable-edge runtime: boot and renewal scripts at fixed paths (internal/bootstrap's
# user-data runs them from there), the certificate-metric, self-healing, worker-check and job timers, and the syslog rules that give
# HAProxy and the containers their own log files for the CloudWatch agent.
set -euo pipefail

install -d -m 0755 /usr/local/lib/immutable-edge /etc/immutable-edge /etc/immutable-edge/services
install -m 0755 "$FILES"/usr/local/lib/immutable-edge/*.sh /usr/local/lib/immutable-edge/
# The deploy hook is registered once, by boot.sh's certbot --deploy-hook, which certbot keeps in
# the certificate's renewal configuration (renew_hook) for every later renewal. A link in
# /etc/letsencrypt/renewal-hooks/deploy would run it a second time on each renewal.
install -m 0644 "$FILES"/etc/systemd/system/ie-cert-metric.service "$FILES"/etc/systemd/system/ie-cert-metric.timer \
	"$FILES"/etc/systemd/system/ie-health-watch.service "$FILES"/etc/systemd/system/ie-health-watch.timer \
	"$FILES"/etc/systemd/system/ie-worker-check@.service "$FILES"/etc/systemd/system/ie-worker-check@.timer \
	"$FILES"/etc/systemd/system/ie-job@.service "$FILES"/etc/systemd/system/ie-job@.timer /etc/systemd/system/
install -m 0644 "$FILES"/etc/rsyslog.d/30-immutable-edge.conf /etc/rsyslog.d/
install -m 0644 "$FILES"/etc/logrotate.d/immutable-edge /etc/logrotate.d/
# rsyslog writes there: as user syslog where the distribution runs it so (Ubuntu), as root (Debian).
owner=root
getent passwd syslog >/dev/null && owner=syslog
install -d -m 0755 -o "$owner" -g adm /var/log/immutable-edge
