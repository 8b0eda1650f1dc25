#!/usr/bin/env bash
# Prepares run/ (certificate, demo keys, a demo JWT) and serves
# examples/quickstart.conf in the foreground.  Called by `./build.sh run`.
#
#   [PORT_HTTP=8080] [PORT_HTTPS=8443] [PORT_UPSTREAM=8081] \
#       run-quickstart.sh [--check] [TOP [RUNDIR]]
#
# The ports (on 127.0.0.1) replace 8080, 8443 and 8081 in the copy of
# quickstart.conf written to RUNDIR/nginx.conf; a port already in use
# stops the runner before anything is prepared.  --check prepares RUNDIR
# and runs `nginx -t` on it, without serving.
set -euo pipefail

die() { printf 'run-quickstart.sh: %s\n' "$*" >&2; exit 1; }

check=0
if [ "${1:-}" = --check ]; then
    check=1
    shift
fi

top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
run=${2:-$top/run}
# the test suite points these at another build (./build.sh asan)
bin=${COMPLIANCE_BIN:-$top/build/bin}
module=${COMPLIANCE_MODULE:-$top/build/ngx_http_compliance_module.so}
nginx=${NGINX_BIN:-/usr/sbin/nginx}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

http=${PORT_HTTP:-8080}
https=${PORT_HTTPS:-8443}
upstream=${PORT_UPSTREAM:-8081}

for v in PORT_HTTP:$http PORT_HTTPS:$https PORT_UPSTREAM:$upstream; do
    p=${v#*:}
    [[ "$p" =~ ^[1-9][0-9]{0,4}$ ]] && [ "$p" -le 65535 ] \
        || die "${v%%:*}=$p: not a port number (1-65535)"
done

[ "$http" != "$https" ] && [ "$http" != "$upstream" ] \
    && [ "$https" != "$upstream" ] \
    || die "PORT_HTTP, PORT_HTTPS and PORT_UPSTREAM must differ"

# a bind as nginx does it (SO_REUSEADDR): in use is in use for nginx too
for v in PORT_HTTP:$http PORT_HTTPS:$https PORT_UPSTREAM:$upstream; do
    p=${v#*:}
    why=$(perl -MIO::Socket::INET -e '
        IO::Socket::INET->new(LocalAddr => "127.0.0.1:$ARGV[0]",
            Proto => "tcp", Listen => 1, ReuseAddr => 1) or print "$!";
        ' "$p")
    [ -z "$why" ] || die "127.0.0.1:$p (${v%%:*}) cannot be used: $why; \
stop what listens there or choose another port: ${v%%:*}=N ./build.sh run"
done

mkdir -p "$run"
cd "$run"

# a year: a certificate within 30 days of expiry is a posture gap and
# a daily alert record
if [ ! -f cert.pem ] || [ ! -f key.pem ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=localhost \
        -keyout key.pem -out cert.pem >/dev/null 2>&1
    chmod 600 key.pem
fi

[ -f audit-chain.key ] || "$bin/compliance-vault" genkey audit-chain.key \
    2>/dev/null

# a fresh demo API key each run (the file keeps only its salted hash)
rm -f api-keys.txt api-keys.txt.lock
apikey=$("$bin/compliance-keygen" --file api-keys.txt \
         --principal demo-service --org demo-org --scopes orders:read)
chmod 640 api-keys.txt

# an HS256 signing secret and a JWT good for one hour
secret=$(openssl rand -hex 32)
k=$(printf '%s' "$secret" | perl -ne 'print pack("H*", $_)' | b64url)
printf '{"keys":[{"kty":"oct","kid":"demo","alg":"HS256","k":"%s"}]}\n' \
    "$k" > jwks.json
chmod 600 jwks.json

now=$(date +%s)
h=$(printf '{"alg":"HS256","kid":"demo","typ":"JWT"}' | b64url)
p=$(printf '{"iss":"https://demo.example","aud":"demo-api","sub":"demo-user",'\
'"org_id":"demo-org","scope":"orders:read orders:write","iat":%d,"exp":%d}' \
    "$now" $((now + 3600)) | b64url)
s=$(printf '%s.%s' "$h" "$p" \
    | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$secret" -binary | b64url)
jwt="$h.$p.$s"

sed -e "s|load_module ../build/ngx_http_compliance_module.so|load_module \
$module|" \
    -e "s/127\.0\.0\.1:8080\b/127.0.0.1:$http/" \
    -e "s/127\.0\.0\.1:8443\b/127.0.0.1:$https/; s/port=8443\b/port=$https/" \
    -e "s/127\.0\.0\.1:8081\b/127.0.0.1:$upstream/" \
    "$top/examples/quickstart.conf" > "$run/nginx.conf"

"$nginx" -t -q -p "$run/" -c "$run/nginx.conf"

location_port=":$https"
[ "$https" = 443 ] && location_port=

cat <<MSG

ngx_http_compliance_module quickstart
  HTTPS  https://127.0.0.1:$https   (self-signed: curl -k)
  HTTP   http://127.0.0.1:$http    (redirects to HTTPS)
  audit  $run/audit.jsonl

Demo API key (principal demo-service, scope orders:read):
  $apikey
Demo JWT (sub demo-user, scopes orders:read orders:write, 1 hour):
  $jwt

Try:
  curl -ki https://127.0.0.1:$https/health
      200, public endpoint, with X-Request-ID and Strict-Transport-Security
  curl -ki https://127.0.0.1:$https/api/orders
      401 application/problem+json, reason missing_credentials
  curl -ki https://127.0.0.1:$https/api/orders -H 'X-API-Key: $apikey'
      200 from the demo upstream, which sees the principal, not the key
  curl -ki https://127.0.0.1:$https/api/orders -H 'Authorization: Bearer $jwt'
      200 with a JWT
  curl -ki https://127.0.0.1:$https/api/admin -H 'Authorization: Bearer $jwt'
      403 insufficient_scope
  curl -ki 'https://127.0.0.1:$https/api/orders?api_key=$apikey'
      401 credential_in_url
  curl -i  http://127.0.0.1:$http/api/orders?page=2
      301 to https://localhost$location_port/api/orders?page=2

Check the trail:
  $bin/compliance-audit verify --key $run/audit-chain.key $run/audit.jsonl

Ctrl-C stops nginx.
MSG

[ $check = 1 ] && exit 0

exec "$nginx" -p "$run/" -c "$run/nginx.conf"
