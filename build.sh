#!/usr/bin/env bash
# Build, run and test ngx_http_compliance_module against Debian's nginx.
#
#   ./build.sh          install missing Debian packages, build the module
#                       (build/ngx_http_compliance_module.so) and the CLIs
#                       (build/bin/)
#   ./build.sh run      build, then serve examples/quickstart.conf in the
#                       foreground (https://127.0.0.1:8443, http :8080,
#                       demo upstream :8081; PORT_HTTPS=, PORT_HTTP=,
#                       PORT_UPSTREAM= move them; a busy port is an error)
#   ./build.sh test     build, then the C unit tests and prove -r t/
#                       (a line per test file; VERBOSE=1 shows every test)
#   ./build.sh asan     the same suite with the module, core/ and CLIs
#                       built with -fsanitize=address
#   ./build.sh soak     about 1,000,000 requests through 2 workers with
#                       100 reloads, 10 rotations and 3 killed workers
#                       (soak/soak.t, ~3-10 minutes; build/soak-report.txt)
#   ./build.sh valgrind a subset of t/ with nginx as one process
#                       (master_process off) under valgrind
#   ./build.sh fuzz     the libFuzzer harnesses (FUZZ_SECONDS each)
#   ./build.sh bench    the benchmark (bench/run), then bench-graphql
#   ./build.sh bench-redact  response masking cost per KiB, core/ alone
#                       (bench/redact.c; BENCH_REDACT_ARGS="-n N -r R")
#   ./build.sh bench-graphql  the GraphQL check of core/ alone, 2 KiB query
#   ./build.sh deb      the Debian package build/deb/libnginx-mod-http-
#                       compliance_<version>_<arch>.deb (docs/packaging.md)
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
    json-schema-test-suite chromium redis-server faketime
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
    # no package's service is started by its install (redis-server: the
    # tests start their own on a free port); a policy-rc.d of the
    # machine's own is left as it is
    local policy=/usr/sbin/policy-rc.d made=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null \
            && $sudo chmod 755 "$policy" && made=1
    fi

    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null \
        || { [ -z "$made" ] || $sudo rm -f "$policy"
             die "apt-get install ${missing[*]} failed"; }

    [ -z "$made" ] || $sudo rm -f "$policy"
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

    # a new file renamed over the old one: an nginx running the module
    # keeps its mapping of the old file (writing into it in place kills
    # every worker with SIGSEGV)
    install_atomic "$tree/objs/ngx_http_compliance_module.so" \
        "$out/ngx_http_compliance_module.so"
}

install_atomic() {
    local src=$1 dst=$2

    cp "$src" "$dst.tmp.$$" || die "cannot write $dst.tmp.$$"
    mv -f "$dst.tmp.$$" "$dst" || die "cannot rename onto $dst"
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

# Quiet unless VERBOSE=1: a line per unit-test binary and prove's line
# per test file; a failure always shows its whole output.
run_suite() {
    local out=$1 prove_opts=()

    # --failures: the "not ok" lines of a failing file (diag shows anyway)
    prove_opts=(--failures)
    [ -n "${VERBOSE:-}" ] && prove_opts=(-v)

    say "== C unit tests (core/)"
    make -s -f Makefile.core BUILD="$out" SAN="${2:-}" \
        VERBOSE="${VERBOSE:-}" check \
        || die "unit tests failed"

    say "== integration tests (prove -r t/)"
    COMPLIANCE_MODULE="$out/ngx_http_compliance_module.so" \
    COMPLIANCE_BIN="$out/bin" COMPLIANCE_TESTBIN="$out/testbin" \
    NGINX_BIN="$NGINX_BIN" \
    PERL5LIB="$top/t/lib${PERL5LIB:+:$PERL5LIB}" \
        prove -r -j2 "${prove_opts[@]}" t/
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

cmd_soak() {
    cmd_build

    COMPLIANCE_MODULE="$BUILD/ngx_http_compliance_module.so" \
    COMPLIANCE_BIN="$BUILD/bin" NGINX_BIN="$NGINX_BIN" \
    PERL5LIB="$top/t/lib${PERL5LIB:+:$PERL5LIB}" \
        prove -v soak/soak.t
}

# tests that need no second worker and no timing (a single nginx
# process under valgrind is 20 to 50 times slower; a reload is a restart
# there).  Not t/430: PCRE2's JIT code, which its operator pattern runs,
# reads words past the subject and valgrind cannot see into it (the JIT
# paths run under ./build.sh asan instead).
VALGRIND_TESTS="t/100-jwt.t t/110-jwt-hostile.t t/120-apikey.t t/130-scopes.t
t/140-credential-in-url.t t/172-redirect-recheck.t t/305-vault-redirects.t
t/435-log-sources.t"

cmd_valgrind() {
    cmd_build
    install_packages valgrind

    # shellcheck disable=SC2086
    COMPLIANCE_VALGRIND=1 \
    COMPLIANCE_MODULE="$BUILD/ngx_http_compliance_module.so" \
    COMPLIANCE_BIN="$BUILD/bin" COMPLIANCE_TESTBIN="$BUILD/testbin" \
    NGINX_BIN="$NGINX_BIN" \
    PERL5LIB="$top/t/lib${PERL5LIB:+:$PERL5LIB}" \
        prove -j2 ${VALGRIND_TESTS_ONLY:-$VALGRIND_TESTS}
}

# PORT_HTTP, PORT_HTTPS and PORT_UPSTREAM reach the runner, which checks
# them (and that they are free) before it prepares run/
cmd_run() {
    cmd_build
    exec "$top/examples/run-quickstart.sh" "$top"
}

cmd_bench() {
    cmd_build
    NGINX_BIN="$NGINX_BIN" "$top/bench/run"
    cmd_bench_graphql
}

# bench/graphql.c: microseconds per compliance_graphql check (issue 14)
cmd_bench_graphql() {
    install_packages "${PACKAGES[@]}"
    make -s -f Makefile.core BUILD="$BUILD" "$BUILD/bench/bench-graphql"
    "$BUILD/bench/bench-graphql"
}

cmd_bench_redact() {
    make -s -f Makefile.core BUILD="$BUILD" "$BUILD/bench/bench-redact"
    # shellcheck disable=SC2086
    "$BUILD/bench/bench-redact" ${BENCH_REDACT_ARGS:-}
}

# libFuzzer harnesses of core/ (fuzz/README.md); CI runs them 30 s each
# after the suite (.ci/run).  Each harness runs FUZZ_SECONDS (default 60)
# from the committed corpus (fuzz/corpus/<harness>, read-only) and the
# seeds made here; FUZZ_TARGETS picks some of "jwt text vault schema
# stream graphql jwks revoke resp oauth2".
# Keys, the growing corpora and crash inputs go under build/fuzz/.
cmd_fuzz() {
    local out="$BUILD/fuzz" secs=${FUZZ_SECONDS:-60} h k bin log src
    local max runs crash targets failed=()
    # shellcheck disable=SC2054
    local cflags=(-std=gnu11 -O1 -g -Wall -Wextra -Werror
                  -fno-omit-frame-pointer -fsanitize=address,undefined
                  -fno-sanitize-recover=undefined
                  -I"$top/ngx_compliance_module/core" -I"$top/fuzz")
    local libs=(-ljansson -lpcre2-8 -lcrypto)

    [[ "$secs" =~ ^[1-9][0-9]*$ ]] || die "FUZZ_SECONDS: not a number: $secs"
    read -r -a targets <<< "${FUZZ_TARGETS:-jwt text vault schema stream graphql jwks revoke resp oauth2}"

    install_packages clang libclang-rt-14-dev libssl-dev libjansson-dev \
        libpcre2-dev openssl

    mkdir -p "$out/keys" "$out/corpus" "$out/crashes"

    # test keys made here, never committed; the seeds are signed with them
    for k in rsa ec256 ec384; do
        if [ -s "$out/keys/$k.pub" ]; then
            continue
        fi

        case $k in
            rsa)   set -- -algorithm RSA -pkeyopt rsa_keygen_bits:2048 ;;
            ec256) set -- -algorithm EC -pkeyopt ec_paramgen_curve:P-256 ;;
            ec384) set -- -algorithm EC -pkeyopt ec_paramgen_curve:P-384 ;;
        esac
        if ! openssl genpkey "$@" -out "$out/keys/$k.pem" 2>/dev/null \
           || ! openssl pkey -in "$out/keys/$k.pem" -pubout \
                    -out "$out/keys/$k.pub"
        then
            die "openssl: cannot make the $k test key"
        fi
    done

    # core/*.c compiled into every binary, instrumented (not the gcc .a)
    for h in "${targets[@]}" seeds; do
        src="$top/fuzz/fuzz_$h.c"
        bin="$out/fuzz_$h"
        [ -f "$src" ] \
            || die "no harness $src (FUZZ_TARGETS:" \
                   "jwt text vault schema stream graphql jwks revoke resp oauth2)"

        if [ -x "$bin" ] && [ -z "$(find "$top/fuzz" \
                "$top/ngx_compliance_module/core" -name '*.[ch]' \
                -newer "$bin")" ]; then
            continue
        fi

        say "== clang $src"
        if [ "$h" = seeds ]; then
            clang "${cflags[@]}" -o "$bin" "$src" \
                "$top"/ngx_compliance_module/core/*.c "${libs[@]}"
        else
            clang "${cflags[@]}" -fsanitize=fuzzer -o "$bin" "$src" \
                "$top"/ngx_compliance_module/core/*.c "${libs[@]}"
        fi || die "fuzz_$h build failed"
    done

    export COMPLIANCE_FUZZ_KEYS="$out/keys"
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

    "$out/fuzz_seeds" "$out/corpus" || die "seed generation failed"

    for h in "${targets[@]}"; do
        bin="$out/fuzz_$h"
        log="$out/fuzz_$h.log"
        case $h in
            jwt)    max=9000 ;;
            text)   max=16384 ;;
            schema) max=16384 ;;
            stream) max=4096 ;;
            graphql) max=16384 ;;
            revoke) max=16384 ;;
            resp)   max=8192 ;;
            oauth2) max=9000 ;;
            *)      max=20000 ;;
        esac

        mkdir -p "$out/corpus/$h" "$out/crashes/$h"
        say "== fuzz_$h, ${secs}s (log: ${log#"$top"/})"

        if "$bin" -max_total_time="$secs" -timeout=25 -max_len="$max" \
               -print_final_stats=1 -artifact_prefix="$out/crashes/$h/" \
               "$out/corpus/$h" "$top/fuzz/corpus/$h" >"$log" 2>&1; then
            runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
            say "   fuzz_$h: ${runs:-?} runs, no crash"
            continue
        fi

        failed+=("fuzz_$h")
        grep -E 'ERROR:|FAIL|runtime error:|^fuzz_' "$log" | head -5 >&2 \
            || true
        crash=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
        say "   fuzz_$h FAILED; input: ${crash:-none written, see $log}"
        if [ -n "$crash" ]; then
            say "   reproduce: COMPLIANCE_FUZZ_KEYS=${out#"$top"/}/keys" \
                "${bin#"$top"/} ${crash#"$top"/}"
        fi
    done

    [ ${#failed[@]} -eq 0 ] || die "fuzzing found problems: ${failed[*]}"
    say "fuzzing found nothing (corpora in ${out#"$top"/}/corpus)"
}

# The Debian package, from a copy of the tree under build/deb/src (the
# .deb, .buildinfo and .changes of dpkg-buildpackage land next to the
# source directory): debian/rules builds the module with nginx-dev's
# nginx_mod build system and dh_nginx, the CLIs and the unit tests with
# Makefile.core.  No root needed (Rules-Requires-Root: no), nothing
# installed.  The .deb (and its -dbgsym) end up in build/deb/.
cmd_deb() {
    local out="$BUILD/deb" pkg=libnginx-mod-http-compliance
    local ver chver arch src log deb f

    # logrotate: t/068 runs the package's logrotate file
    install_packages "${PACKAGES[@]}" debhelper dpkg-dev logrotate

    ver=$(sed -n 's/^#define COMPLIANCE_VERSION *"\(.*\)"$/\1/p' \
          ngx_compliance_module/core/compliance_version.h)
    chver=$(dpkg-parsechangelog -l debian/changelog -S Version)
    [ -n "$ver" ] || die "no COMPLIANCE_VERSION in compliance_version.h"
    [ "$ver" = "$chver" ] || die "debian/changelog is at $chver but" \
        "compliance_version.h at $ver: add a changelog entry for $ver"
    arch=$(dpkg-architecture -qDEB_HOST_ARCH)

    mkdir -p "$out"
    exec 9>"$out/.lock"
    flock 9 || die "cannot lock $out/.lock"

    # the unit tests' Wycheproof vectors (t/unit/testdata) come with the
    # copy of the tree below

    src="$out/src/$pkg-$ver"
    log="$out/build.log"
    rm -rf "$out/src" "$out/tmp"
    mkdir -p "$src" "$out/tmp"
    tar -C "$top" --exclude-vcs --exclude=./build --exclude=./run \
        --exclude=./t/tmp --exclude='*.o' -cf - . | tar -C "$src" -xf - \
        || die "cannot copy the tree to $src"

    say "== dpkg-buildpackage (log: ${log#"$top"/})"
    if ! (cd "$src" && TMPDIR="$out/tmp" dpkg-buildpackage -b -us -uc \
              -J"$JOBS") >"$log" 2>&1; then
        tail -40 "$log" >&2
        die "dpkg-buildpackage failed"
    fi

    deb="${pkg}_${ver}_${arch}.deb"
    [ -f "$out/src/$deb" ] || die "no $deb was built"
    install_atomic "$out/src/$deb" "$out/$deb"
    f="${pkg}-dbgsym_${ver}_${arch}.deb"
    if [ -f "$out/src/$f" ]; then
        install_atomic "$out/src/$f" "$out/$f"
    fi
    rm -rf "$out/tmp"

    if command -v lintian >/dev/null; then
        lintian "$out/src/${pkg}_${ver}_${arch}.changes" >&2 \
            || say "lintian reported problems (above)"
    fi

    say "built ${out#"$top"/}/$deb"
}

case "${1:-build}" in
    build)  cmd_build ;;
    run)    cmd_run ;;
    test)   cmd_test ;;
    asan)   cmd_asan ;;
    bench)  cmd_bench ;;
    bench-redact) cmd_bench_redact ;;
    bench-graphql) cmd_bench_graphql ;;
    fuzz)   cmd_fuzz ;;
    soak)   cmd_soak ;;
    valgrind) cmd_valgrind ;;
    deb)    cmd_deb ;;
    *)      die "usage: ./build.sh [build|run|test|asan|bench|bench-redact|fuzz|soak|valgrind|deb]" ;;
esac
