#!/usr/bin/env bash
# Edge benchmark on loopback: wrk against the Go backend directly, through HAProxy with the
# configuration internal/bootstrap renders (alb edge for plain HTTP, eip edge for HTTPS), and
# through nginx with an equivalent configuration (same TLS settings and forwarding headers; on
# HTTPS, as on the eip edge, a log line per request and HSTS; on HTTP, as on the alb edge, no
# per-request log because the ALB keeps one). Prints req/s, p99 and the ratios of one run.
# Usage: bench/edge.sh [seconds per run, default 8]. Needs haproxy, nginx, wrk, openssl, go.
set -euo pipefail

duration=${1:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

for tool in haproxy nginx wrk openssl go; do
	command -v "$tool" >/dev/null || { echo "bench/edge.sh: $tool is missing (apt-get install haproxy nginx-light wrk)" >&2; exit 1; }
done

# Loopback ports only: this benchmark never sends traffic anywhere else.
backend=127.0.0.1:3000 backend2=127.0.0.1:3001
ha_http=18080 ha_https=18443 ha_stats=18404 ng_http=19080 ng_https=19443

go build -o "$work/backend" "$root/bench/backend"
"$work/backend" "$backend" "$backend2" &
pids+=($!)

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=dev.example.com -addext "subjectAltName=DNS:dev.example.com,DNS:example.com" \
	-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cat "$work/cert.pem" "$work/key.pem" >"$work/edge.pem"

# The rendered configurations, with only binds and file paths moved into $work.
(cd "$root" && go run ./cmd/synth -stack prod -bootstrap-out "$work/alb" -format json >/dev/null 2>&1)
(cd "$root" && go run ./cmd/synth -stack dev -bootstrap-out "$work/eip" -format json >/dev/null 2>&1)
relocate() {
	sed -e "s#bind :8080\$#bind 127.0.0.1:$ha_http#" \
		-e "s#bind :80\$#bind 127.0.0.1:$((ha_http + 1))#" \
		-e "s#bind :443 ssl crt /etc/haproxy/certs/edge.pem#bind 127.0.0.1:$ha_https ssl crt $work/edge.pem#" \
		-e "s#bind 127.0.0.1:8404#bind 127.0.0.1:$2#" \
		-e "s#/etc/haproxy/errors#$1/files/etc/haproxy/errors#g" \
		-e "s#/run/haproxy/admin.sock#$1/admin.sock#" "$1/files/etc/haproxy/haproxy.cfg"
}
relocate "$work/alb" "$ha_stats" >"$work/alb.cfg"
relocate "$work/eip" "$((ha_stats + 1))" >"$work/eip.cfg"
haproxy -c -q -f "$work/alb.cfg"
haproxy -c -q -f "$work/eip.cfg"
haproxy -W -f "$work/alb.cfg" >/dev/null 2>&1 &
pids+=($!)
haproxy -W -f "$work/eip.cfg" >/dev/null 2>&1 &
pids+=($!)

cat >"$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
daemon off;
events { worker_connections 1024; }
http {
    access_log $work/access.log combined;
    upstream web { server $backend; keepalive 64; }
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    ssl_session_tickets off;
    # Plain HTTP is the alb edge: the ALB logs requests, so neither proxy logs normal ones.
    server {
        listen 127.0.0.1:$ng_http;
        server_name example.com dev.example.com;
        access_log off;
        location / {
            proxy_pass http://web; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        }
    }
    # HTTPS is the eip edge: a log line per request, HSTS, forwarding headers.
    server {
        listen 127.0.0.1:$ng_https ssl;
        ssl_certificate $work/cert.pem;
        ssl_certificate_key $work/key.pem;
        server_name example.com dev.example.com;
        location / {
            proxy_pass http://web; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto https;
            add_header Strict-Transport-Security "max-age=63072000" always;
        }
    }
    server { listen 127.0.0.1:$ng_http default_server; listen 127.0.0.1:$ng_https ssl default_server;
        ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem; return 404; }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)
sleep 2 # HAProxy's first health checks and nginx's workers

# run NAME URL HOST: one wrk run; prints "NAME req/s p99"
run() {
	local out rps p99
	out=$(wrk -t2 -c50 -d"${duration}s" --latency -H "Host: $3" "$2")
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	if grep -q "Non-2xx" <<<"$out"; then
		echo "bench/edge.sh: $1 answered non-2xx:" >&2
		echo "$out" >&2
		exit 1
	fi
	printf '%s %s %s\n' "$1" "$rps" "$p99"
}

results=$(
	run direct "http://$backend/" example.com
	run haproxy-http "http://127.0.0.1:$ha_http/" example.com
	run nginx-http "http://127.0.0.1:$ng_http/" example.com
	run haproxy-https "https://127.0.0.1:$ha_https/" dev.example.com
	run nginx-https "https://127.0.0.1:$ng_https/" dev.example.com
)
awk -v d="$duration" '
	{ rps[$1] = $2; p99[$1] = $3; order[NR] = $1 }
	END {
		printf "wrk -t2 -c50 -d%ss, loopback, one run\n\n", d
		printf "| path | req/s | p99 | ratio to direct |\n|---|---:|---:|---:|\n"
		for (i = 1; i <= NR; i++) { n = order[i]; printf "| %s | %.0f | %s | %.2f |\n", n, rps[n], p99[n], rps[n] / rps["direct"] }
		printf "\nHAProxy/nginx: HTTP %.2f, HTTPS %.2f\n", rps["haproxy-http"] / rps["nginx-http"], rps["haproxy-https"] / rps["nginx-https"]
	}' <<<"$results"
