#!/usr/bin/env bash
# Build, run and test ngx_http_compliance_module against Debian's nginx.
#
#   ./build.sh          install missing Debian packages, build the module
#                       (build/ngx_http_compliance_module.so) and the CLIs
#                       (build/bin/)
#   ./build.sh run      build, then serve examples/quickstart.conf in the
#                       foreground (https://127.0.0.1:8443, http :8080)
#   ./build.sh test     build, then the C unit tests and prove -r t/
#   ./build.sh asan     the same suite with the module, core/ and CLIs
#                       built with -fsanitize=address
#
# NGINX_SRC overrides the nginx source tree (default: Debian's nginx-dev
# tree at /usr/share/nginx/src).  Everything is written under build/.

set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$top"

BUILD="$top/build"
NGINX_SRC=${NGINX_SRC:-/usr/share/nginx/src}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
JOBS=$(nproc 2>/dev/null || echo 2)

PACKAGES=(
    build-essential nginx nginx-dev libssl-dev zlib1g-dev libpcre2-dev
    libjansson-dev libjwt-dev libcmocka-dev openssl curl perl
    libio-socket-ssl-perl python3 python3-jwt python3-cryptography wrk
)

say() { printf '%s\n' "$*" >&2; }
die() { say "build.sh: $*"; exit 1; }

install_packages() {
    local missing=() p status

    for p in "$@"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null \
                 || true)
        [ "$status" = installed ] || missing+=("$p")
    done

    [ ${#missing[@]} -eq 0 ] && return 0

    say "installing Debian packages: ${missing[*]}"

    local sudo=
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "need root or sudo to install packages"
        sudo=sudo
    fi

    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
        || die "apt-get update failed"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
}

# configure the nginx tree once per set of module sources, then make the
# module; $1 = output directory, $2 = extra compiler flags
build_module() {
    local out=$1 extra=$2 tree="$1/nginx" stamp want

    [ -f "$NGINX_SRC/conf_flags" ] || die "no nginx tree at $NGINX_SRC"

    want=$( { cat "$top/config"; ls "$top"/ngx_compliance_module/*.[ch] \
              "$top"/ngx_compliance_module/core/*.[ch];
              echo "$extra"; cat "$NGINX_SRC/conf_flags"; } | sha256sum)
    stamp="$tree/.compliance-stamp"

    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        rm -rf "$tree"
        mkdir -p "$tree"
        cp -a "$NGINX_SRC"/. "$tree"/

        # shellcheck disable=SC1091
        . "$tree/conf_flags"

        (cd "$tree" && ./configure "${NGX_CONF_FLAGS[@]}" \
            --with-cc-opt="-g -O2 -fstack-protector-strong -Wformat \
-Werror=format-security -fPIC -D_FORTIFY_SOURCE=2 -Wextra $extra" \
            --with-ld-opt="-Wl,-z,relro -Wl,-z,now -fPIC $extra" \
            --add-dynamic-module="$top" >"$tree/configure.log" 2>&1) \
            || { tail -30 "$tree/configure.log" >&2; die "configure failed"; }

        echo "$want" > "$stamp"
    fi

    make -s -C "$tree" -f objs/Makefile -j"$JOBS" modules \
        >"$tree/make.log" 2>&1 \
        || { grep -E 'error|warning' "$tree/make.log" >&2 \
             || tail -30 "$tree/make.log" >&2; die "module build failed"; }

    cp "$tree/objs/ngx_http_compliance_module.so" "$out/"
}

build_core() {
    local out=$1 san=$2

    make -s -f Makefile.core BUILD="$out" SAN="$san" -j"$JOBS" core tools \
        || die "core/CLI build failed"
}

cmd_build() {
    install_packages "${PACKAGES[@]}"
    mkdir -p "$BUILD"
    build_module "$BUILD" ""
    build_core "$BUILD" ""
    say "built $BUILD/ngx_http_compliance_module.so and $BUILD/bin/"
}

run_suite() {
    local out=$1

    say "== C unit tests (core/)"
    make -s -f Makefile.core BUILD="$out" SAN="${2:-}" check \
        || die "unit tests failed"

    say "== integration tests (prove -r t/)"
    COMPLIANCE_MODULE="$out/ngx_http_compliance_module.so" \
    COMPLIANCE_BIN="$out/bin" COMPLIANCE_TESTBIN="$out/testbin" \
    NGINX_BIN="$NGINX_BIN" \
    PERL5LIB="$top/t/lib${PERL5LIB:+:$PERL5LIB}" \
        prove -r -j2 t/
}

cmd_test() {
    cmd_build
    run_suite "$BUILD"
}

cmd_asan() {
    local out="$BUILD/asan" lib

    install_packages "${PACKAGES[@]}"
    mkdir -p "$out"
    build_module "$out" "-fsanitize=address -fno-omit-frame-pointer"
    build_core "$out" "-fsanitize=address -fno-omit-frame-pointer"

    lib=$(gcc -print-file-name=libasan.so)
    [ -f "$lib" ] || die "libasan not found"

    # nginx itself is not instrumented: the runtime is preloaded into it
    export COMPLIANCE_ASAN_LIB="$lib"
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
    run_suite "$out" "-fsanitize=address -fno-omit-frame-pointer"
}

cmd_run() {
    cmd_build
    exec "$top/examples/run-quickstart.sh" "$top"
}

cmd_bench() {
    cmd_build
    NGINX_BIN="$NGINX_BIN" "$top/bench/run"
}

case "${1:-build}" in
    build)  cmd_build ;;
    run)    cmd_run ;;
    test)   cmd_test ;;
    asan)   cmd_asan ;;
    bench)  cmd_bench ;;
    *)      die "usage: ./build.sh [build|run|test|asan]" ;;
esac
