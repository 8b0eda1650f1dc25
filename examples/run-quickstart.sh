#!/usr/bin/env bash
# Prepares run/ and serves examples/quickstart.conf in the foreground.
# Called by `./build.sh run` after the build.
set -euo pipefail

top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
run="$top/run"
nginx=${NGINX_BIN:-/usr/sbin/nginx}

mkdir -p "$run"
cd "$run"

if [ ! -f cert.pem ] || [ ! -f key.pem ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
        -keyout key.pem -out cert.pem >/dev/null 2>&1
    chmod 600 key.pem
fi

cp "$top/examples/quickstart.conf" "$run/nginx.conf"

"$nginx" -t -q -p "$run/" -c "$run/nginx.conf"

cat <<MSG

ngx_http_compliance_module quickstart
  HTTPS  https://127.0.0.1:8443   (self-signed: curl -k)
  HTTP   http://127.0.0.1:8080    (redirects to HTTPS)

Try:
  curl -ki https://127.0.0.1:8443/health
      200, public endpoint, with X-Request-ID and Strict-Transport-Security
  curl -ki https://127.0.0.1:8443/api/orders
      401 application/problem+json, reason missing_credentials
  curl -i  http://127.0.0.1:8080/api/orders?page=2
      301 to https://localhost:8443/api/orders?page=2
  curl -ki --tls-max 1.1 https://127.0.0.1:8443/health
      handshake refused: TLS below 1.2 never reaches the API

Ctrl-C stops nginx.
MSG

exec "$nginx" -p "$run/" -c "$run/nginx.conf"
