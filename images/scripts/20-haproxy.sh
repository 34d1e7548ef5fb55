#!/usr/bin/env bash
# HAProxy from Debian 13's archive: the 3.0 LTS line (supported upstream to 2029), security
# updates through new images. A self-signed placeholder certificate lets HAProxy start before
# the instance has its real one (the boot script replaces it).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

apt-get -y -q install --no-install-recommends haproxy openssl
install -d -m 0700 /etc/haproxy/certs
install -d -m 0755 /etc/haproxy/errors
key=$(mktemp)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
	-subj /CN=snakeoil.invalid -keyout "$key" -out /etc/haproxy/certs/edge.pem 2>/dev/null
cat "$key" >>/etc/haproxy/certs/edge.pem
rm -f "$key"
chmod 0600 /etc/haproxy/certs/edge.pem
systemctl enable haproxy.service
