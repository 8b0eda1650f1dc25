#!/usr/bin/env bash
# Fleet-wide limits on Redis (SPEC 15, docs/fleet.md): the worker CPU of
# a limited (and admitted) request with a local zone, a Redis zone in
# strict mode and one in sync mode, over a public location without a
# limit; and the requests per second one worker sustains in strict mode.
#
#   bench/redis.sh                        5 rounds x 5 s, wrk -c 32
#   REDIS_BENCH_ROUNDS=3 REDIS_BENCH_SECONDS=3 bench/redis.sh
#
# One nginx per variant (worker_processes 1: "the worker" is one pid) on
# 127.0.0.1, one redis-server started here on a free port (no
# persistence, its own directory), all stopped on exit.  Each round runs
# wrk once against every variant, in turn; around each run the worker's
# utime+stime is read from /proc/<pid>/stat.  Figures: medians over the
# rounds, written to build/bench/redis.md.  Redis' own CPU is not in the
# worker's figure; it is reported from INFO commandstats (usec_per_call).
# On a shared or busy machine the figures are indicative only.

set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B="$top/build/bench/redis"
ROUNDS=${REDIS_BENCH_ROUNDS:-5}
SECS=${REDIS_BENCH_SECONDS:-5}
CONNS=${REDIS_BENCH_CONNECTIONS:-32}
PORT=${REDIS_BENCH_PORT:-18580}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
MODULE=${COMPLIANCE_MODULE:-$top/build/ngx_http_compliance_module.so}
VARIANTS="public local strict sync"

say() { printf 'bench/redis: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

for c in wrk redis-server redis-cli "$NGINX_BIN"; do
    command -v "$c" >/dev/null || die "$c not found (./build.sh installs it)"
done
[ -f "$MODULE" ] || die "no module at $MODULE: run ./build.sh first"

rm -rf "$B"
mkdir -p "$B/redis"

pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT

RPORT=$((PORT + 10))
redis-server --bind 127.0.0.1 --port "$RPORT" --save '' --appendonly no \
    --dir "$B/redis" --logfile "$B/redis/redis.log" --daemonize no \
    >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -p "$RPORT" ping >/dev/null || die "redis-server did not start"

i=0
for v in $VARIANTS; do
    d="$B/$v"
    mkdir -p "$d/logs"
    case $v in
        public) zone=""; limit="" ;;
        local)  zone="compliance_limit_zone z 10m;"
                limit="compliance_limit zone=z rate=200000r/s burst=1000000 key=ip;" ;;
        strict) zone="compliance_limit_zone z 10m redis=127.0.0.1:$RPORT;"
                limit="compliance_limit zone=z rate=200000r/s burst=1000000 key=ip;" ;;
        sync)   zone="compliance_limit_zone z 10m redis=127.0.0.1:$RPORT mode=sync sync=100ms;"
                limit="compliance_limit zone=z rate=200000r/s burst=1000000 key=ip;" ;;
    esac
    cat > "$d/nginx.conf" <<EOF
load_module $MODULE;
worker_processes 1;
pid logs/nginx.pid;
error_log logs/error.log error;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;
    keepalive_requests 1000000;
    compliance on;
    compliance_posture off;
    $zone
    server {
        listen 127.0.0.1:$((PORT + i));
        location / {
            compliance_public "benchmark";
            $limit
            return 200 "ok\n";
        }
    }
}
EOF
    "$NGINX_BIN" -p "$d/" -c nginx.conf -g 'daemon off;' 2>"$d/stderr" &
    pids+=($!)
    i=$((i + 1))
done

sleep 1

worker_of() {
    local master
    master=$(cat "$B/$1/logs/nginx.pid")
    pgrep -P "$master" | head -1
}

cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

HZ=$(getconf CLK_TCK)
: > "$B/raw"

for r in $(seq "$ROUNDS"); do
    i=0
    for v in $VARIANTS; do
        w=$(worker_of "$v")
        c0=$(cpu_ticks "$w")
        out=$(wrk -t 1 -c "$CONNS" -d "${SECS}s" \
                  "http://127.0.0.1:$((PORT + i))/" 2>&1)
        c1=$(cpu_ticks "$w")
        reqs=$(printf '%s\n' "$out" | awk '/requests in/ { print $1 }')
        non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx/ { print $NF }')
        [ -z "$non2xx" ] || die "$v: $non2xx non-2xx responses"
        printf '%s %s %s %s\n' "$v" "$r" "$reqs" "$((c1 - c0))" >> "$B/raw"
        i=$((i + 1))
    done
    say "round $r of $ROUNDS done"
done

evals=$(redis-cli -p "$RPORT" info commandstats \
        | sed -n 's/^cmdstat_evalsha:.*usec_per_call=\([0-9.]*\).*/\1/p')

perl -e '
    my ($hz, $secs, $file, $evals) = @ARGV;
    my %d;
    open my $fh, "<", $file or die;
    while (<$fh>) {
        my ($v, $r, $reqs, $ticks) = split;
        push @{ $d{$v}{us} }, $ticks / $hz * 1e6 / $reqs;
        push @{ $d{$v}{rps} }, $reqs / $secs;
    }
    sub med { my @s = sort { $a <=> $b } @_; $s[$#s / 2] }
    print "| variant | worker CPU per request (median) | over public | rps (median, one worker, wrk -c'"$CONNS"') |\n";
    print "|---|---:|---:|---:|\n";
    my $base = med(@{ $d{public}{us} });
    for my $v (qw(public local strict sync)) {
        my $us = med(@{ $d{$v}{us} });
        printf "| %s | %.2f us | %+.2f us | %.0f |\n", $v, $us, $us - $base,
               med(@{ $d{$v}{rps} });
    }
    printf "\nRedis CPU per EVALSHA (INFO commandstats): %s us\n", $evals;
' "$HZ" "$SECS" "$B/raw" "${evals:-?}" | tee "$B/redis.md"

say "written: ${B#"$top"/}/redis.md"
