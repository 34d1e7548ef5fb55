#!/usr/bin/env bash
# Edge benchmark on loopback: wrk against the Go backend directly, through HAProxy with the
# configuration internal/bootstrap renders (alb edge for plain HTTP, eip edge for HTTPS), and
# through nginx with an equivalent configuration (same TLS settings and forwarding headers; on
# HTTPS, as on the eip edge, a log line per request and HSTS; on HTTP, as on the alb edge, no
# per-request log because the ALB keeps one). Prints req/s, p99 and the ratios of one run.
# The paths are measured in interleaved rounds and the medians reported, because this machine
# is noisy: a slow moment then hurts one round of every path, not one path.
# Usage: bench/edge.sh [seconds per run, default 5] [rounds, default 3].
# Needs haproxy, nginx, wrk, openssl, go.
set -euo pipefail

duration=${1:-5}
rounds=${2:-3}
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
	out=$(timeout $((duration + 30)) wrk -t2 -c50 -d"${duration}s" --latency -H "Host: $3" "$2")
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
	for ((round = 1; round <= rounds; round++)); do
		run direct "http://$backend/" example.com
		run haproxy-http "http://127.0.0.1:$ha_http/" example.com
		run nginx-http "http://127.0.0.1:$ng_http/" example.com
		run haproxy-https "https://127.0.0.1:$ha_https/" dev.example.com
		run nginx-https "https://127.0.0.1:$ng_https/" dev.example.com
	done
)
# Median req/s and p99 (in ms) per path over the rounds.
sort -k1,1 -k2,2n <<<"$results" | awk -v d="$duration" -v r="$rounds" '
	function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; return v * 1000 }
	{ n = $1; c[n]++; rps[n, c[n]] = $2; lat[n, c[n]] = ms($3) }
	END {
		split("direct haproxy-http nginx-http haproxy-https nginx-https", order, " ")
		for (i = 1; i <= 5; i++) {
			n = order[i]; k = c[n]; m = int((k + 1) / 2)
			med[n] = rps[n, m]
			# p99s sorted separately for their median
			for (j = 1; j <= k; j++) l[j] = lat[n, j]
			for (a = 1; a <= k; a++) for (b = a + 1; b <= k; b++) if (l[b] < l[a]) { t = l[a]; l[a] = l[b]; l[b] = t }
			p99[n] = l[m]
		}
		printf "wrk -t2 -c50, loopback, %s rounds of %ss per path, interleaved; medians\n\n", r, d
		printf "| path | req/s | p99 | ratio to direct |\n|---|---:|---:|---:|\n"
		for (i = 1; i <= 5; i++) { n = order[i]; printf "| %s | %.0f | %.2f ms | %.2f |\n", n, med[n], p99[n], med[n] / med["direct"] }
		printf "\nHAProxy/nginx: HTTP %.2f, HTTPS %.2f\n", med["haproxy-http"] / med["nginx-http"], med["haproxy-https"] / med["nginx-https"]
	}'
