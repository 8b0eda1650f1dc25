#!/usr/bin/perl
# bench/results.md from the raw figures bench/run leaves in build/bench/.
#
#   report.pl BENCHDIR REPOROOT > results.md
#
# Per variant: medians over the rounds of requests/s and of worker CPU
# per request (on-CPU ns from /proc/<pid>/schedstat), and the median of
# the per-round ratios to plain nginx measured in the same round.  Then
# the targets, the cost of each layer, OpenSSL's own verify speed, limit
# zone capacity, audit throughput and the profiles.

use strict;
use warnings;
use utf8;

binmode STDOUT, ':encoding(UTF-8)';

my ($dir, $top) = @ARGV;
die "usage: report.pl BENCHDIR REPOROOT\n" unless $dir && $top;

sub slurp {
    my ($f) = @_;

    open my $fh, '<:encoding(UTF-8)', $f or return undef;
    local $/;
    my $s = <$fh>;
    close $fh;

    return $s;
}

sub median {
    my @v = sort { $a <=> $b } grep { defined } @_;

    return undef unless @v;
    return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}

sub f1 { defined $_[0] ? sprintf('%.1f', $_[0]) : 'n/a' }
sub f2 { defined $_[0] ? sprintf('%.2f', $_[0]) : 'n/a' }

sub thousands {
    my ($n) = @_;

    return 'n/a' unless defined $n;
    $n = sprintf '%.0f', $n;
    1 while $n =~ s/^(\d+)(\d{3})/$1,$2/;

    return $n;
}

my %m = map { /^([a-z_0-9]+)=(.*)$/ ? ($1, $2) : () }
        split /\n/, slurp("$dir/machine.txt") // '';

my (@order, %desc, %scheme, %check);

for (split /\n/, slurp("$dir/meta.tsv") // '') {
    my ($v, $s, $d, $c) = split /\t/;
    push @order, $v;
    ($scheme{$v}, $desc{$v}, $check{$v}) = ($s, $d, $c);
}

# $run{$v}{$round} = { us, us_ticks, rps, req, bad }
my %run;

for (split /\n/, slurp("$dir/raw.tsv") // '') {
    my ($r, $v, $req, $secs, $ns, $ticks, $non2xx, $errs, $bg)
        = split /\t/;
    next unless $req;

    $run{$v}{$r} = {
        us       => $ns / 1000 / $req,
        us_ticks => $ticks * 1e6 / ($m{clk_tck} || 100) / $req,
        rps      => $req / $secs,
        req      => $req,
        bad      => $non2xx + $errs,
        bg       => $bg,
    };
}

die "report.pl: no measurements in $dir/raw.tsv\n" unless %run;

sub rounds_of { sort { $a <=> $b } keys %{ $run{ $_[0] } || {} } }

sub med {
    my ($v, $k) = @_;

    return median(map { $run{$v}{$_}{$k} } rounds_of($v));
}

# median over the rounds of v's figure divided by (or minus) base's
sub paired {
    my ($v, $base, $op) = @_;

    return undef unless $run{$v} && $run{$base};

    return median(map {
        my ($a, $b) = ($run{$v}{$_}, $run{$base}{$_});
        ($a && $b) ? ($op eq '-' ? $a->{us} - $b->{us}
                                 : $a->{us} / $b->{us}) : undef
    } rounds_of($v));
}

sub ratio { paired($_[0], $_[1] // 'plain', '/') }

# the middle half of the per-round ratios (25th to 75th percentile)
sub ratio_iqr {
    my ($v, $base) = @_;

    $base //= 'plain';
    return undef unless $run{$v} && $run{$base};

    my @r = sort { $a <=> $b } map {
        my ($a, $b) = ($run{$v}{$_}, $run{$base}{$_});
        ($a && $b) ? $a->{us} / $b->{us} : ()
    } rounds_of($v);

    return undef unless @r;

    my ($lo, $hi) = ($r[int($#r / 4)], $r[int($#r * 3 / 4 + 0.5)]);

    return sprintf('%.2f–%.2f', $lo, $hi);
}
sub delta { paired($_[0], $_[1], '-') }

my @rounds = rounds_of('plain');
my $truncate = ($m{truncate} // 0) > 0
    ? "are emptied every $m{truncate} s by the benchmark on wrk's CPU\n"
      . "  while wrk runs, and between runs"
    : "are emptied between runs only (BENCH_TRUNCATE=0)";

my $pin = $m{pinned}
    ? "Pinned with taskset: $m{pinned}. Unpinned, this 2-vCPU VM's "
      . "scheduler moved the worker and wrk between the CPUs and at times "
      . "onto the same one, and single runs of one variant spread over "
      . "1.7x (22.8 to 39.2 µs per request for full_tls) where pinned runs "
      . "stay within 1.2x."
    : 'Nothing pinned (BENCH_PIN=0).';
my $cpu_file = ($m{cpu_source} // 'schedstat') eq 'stat'
    ? 'stat' : 'schedstat';

my $nr = @rounds;

print <<EOF;
# Benchmark results

Written by `./build.sh bench` (bench/run, bench/report.pl) on $m{date}
in $m{elapsed} s.
Re-run it to refresh; every figure below comes from that one invocation.

## Machine

| | |
|---|---|
| CPUs (nproc) | $m{nproc} |
| CPU model | $m{cpu} ($m{mhz} MHz) |
| kernel | $m{kernel} |
| memory | $m{mem} |
| nginx | $m{nginx} (Debian's `/usr/sbin/nginx`) |
| OpenSSL | $m{openssl} |
| load generator | $m{wrk}, `wrk -t1 -c$m{connections} -d$m{seconds}s`, keepalive |
| module | build/ngx_http_compliance_module.so sha256 $m{module_sha256}..., commit $m{commit} + working tree |
| load average (1/5/15 min) | before $m{load_before}; after $m{load_after} |

## Method

- One nginx per variant, `worker_processes 1`, `keepalive_requests
  1000000`, all on 127.0.0.1, started together and idle except while
  measured. $pin Every variant answers the same request,
  `GET $m{uri}`, with a 43-byte GIF from `empty_gif` (the content phase,
  so every phase handler runs, as in a real API location).
- $nr rounds; each round runs every variant once for $m{seconds} s
  (variants alternate run by run), in an order that puts compared
  variants side by side (plain, the auth variants, ..., plain TLS,
  approximation TLS, full stack TLS), every other round in reverse.
  Every variant was checked with curl (200) and warmed up for 1 s first.
- **Worker CPU per request** (the primary figure): the worker's
  `utime + stime` from `/proc/<pid>/$cpu_file` (user + system, including
  the loopback TCP work done in the worker's context; CLK_TCK
  $m{clk_tck}) read before and after the wrk run, divided by the requests
  wrk completed: what an outside observer measures. `BENCH_CPU=schedstat`
  uses the on-CPU nanoseconds of `/proc/<pid>/schedstat` instead.
- The machine is shared: a run during which other processes kept more
  than $m{max_bg} CPU busy (from /proc/stat, less the worker and wrk) is
  run again, up to 4 attempts, and the quietest attempt is kept;
  $m{retries} runs were repeated. The rounds, the openssl speed runs and
  each profile start once the machine is quiet (or after a bounded wait).
- Log files (the module's audit trail, nginx's access log) $truncate.
  Every record still goes through write(2) into the page
  cache; the file just stays a few MB. On this VM freed memory goes back
  to the host (virtio-balloon free page reporting), so a page-cache page
  the guest has not used lately is a host fault: appending to a file
  that grew by 100 MB a run made the same audit records cost 0.05 to 0.8
  µs a request from one run to the next (`copy_folio_from_iter_atomic`,
  0 to 8.9 % of the worker's samples). A small file reuses the pages it
  just freed, as a server whose page cache is full reuses reclaimed
  ones (docs/decisions.md D100).
- Figures are medians over the rounds; a ratio is the median of the
  per-round ratios to plain nginx measured in the same round (pairing
  cancels slow drifts of the machine).
- req/s is what one wrk thread and one worker reach together on
  $m{nproc} CPUs with other processes running: it is shown, but worker CPU
  per request is the comparison that does not depend on the load
  generator.
- Distinct-token variants: wrk's Lua script (bench/tokens.lua) sends a
  different token on every request, cycling through $m{tokens} tokens
  minted once with bench/mint.c (OpenSSL); the cache has 4096 direct-mapped
  slots per worker, so a token comes back after $m{tokens} others and is
  still cached with probability about e^-(20000/4096) ≈ 0.8%: nearly every
  request verifies a signature.
- A cached credential is compared with a public location answering the
  same request: `public_key`, `public_hs` and `public_rs` send the header
  of `apikey`, `hs256` and `rs256` (a 632-byte RS256 bearer token costs
  nginx's header parser and the kernel's copy the same with or without
  the module), so `rs256 − public_rs` is what the module spends on the
  token; `rs256 − public_audit` also counts those bytes. The same
  way, the full stack over TLS is judged against `plain_rs_tls`, plain
  nginx over TLS receiving full_tls's request, bearer token included
  (docs/decisions.md D47, D99); its ratio to the token-less
  `plain_tls` is printed beside it.
- The JWT variants check `iss`, `aud` and `exp` and the location needs
  scope `orders:read`; every module variant writes an audit record per
  request (`compliance_audit_log ... buffer=64k flush=1s`).
- The full stack: `compliance on`, JWT RS256 from a JWKS with `iss`/`aud`,
  `compliance_require_scope`, `compliance_limit zone=per_key
  rate=250000r/s` (key=principal; one worker answers fewer than
  200,000 requests a second, so it never refuses),
  `compliance_auth_failure_limit`, the audit log with
  `compliance_audit_chain`, `compliance_redact` with all seven detectors;
  over TLS also `compliance_tls_min TLSv1.2` and `compliance_hsts`.
- The nginx-only approximation (no module): `limit_req_zone
  \$http_x_api_key zone=per_key:10m rate=1000000r/s` with `limit_req
  burst=100000 nodelay` (never refuses), an 8-field `log_format ...
  escape=json` written with `access_log ... buffer=64k flush=1s`, and
  `add_header X-Request-ID \$request_id always` (plus HSTS over TLS).
  `limit_req` runs in PREACCESS, after a location's `return` would already
  have answered, so this variant answers from the content phase with
  `empty_gif` (no file I/O; a 43-byte body instead of 3).
- Each variant's configuration is left in
  `build/bench/run/<variant>/conf/nginx.conf`.

EOF

print "## Results\n\n";
print "| variant | what | req/s | worker µs/req | ratio to plain "
    . "(middle half of rounds) | ratio to plain TLS | µs/req min–max | "
    . "µs/req utime+stime | other load (CPUs) |\n";
print "|---|---|---:|---:|---:|---:|---:|---:|---:|\n";

my @display = grep { my $v = $_; grep { $_ eq $v } @order }
    qw(plain plain_tls approx approx_tls public_audit public_chain
       public_key apikey public_hs public_rs
       hs256 rs256 rs256_miss es256_miss full_http plain_rs_tls full_tls);
push @display, grep { my $v = $_; !grep { $_ eq $v } @display } @order;

for my $v (@display) {
    next unless $run{$v};

    my @us = map { $run{$v}{$_}{us} } rounds_of($v);
    my ($lo, $hi) = (sort { $a <=> $b } @us)[0, -1];
    my $tls = $v =~ /_tls$/ && $v ne 'plain_tls' && $run{plain_tls}
              ? '**' . f2(ratio($v, 'plain_tls')) . '** ('
                . ratio_iqr($v, 'plain_tls') . ')' : '';

    printf "| %s | %s | %s | **%s** | **%s** (%s) | %s | %s–%s | %s | %s |\n",
        $v, $desc{$v}, thousands(med($v, 'rps')), f1(med($v, 'us')),
        $v eq 'plain' ? '1.00' : f2(ratio($v)),
        $v eq 'plain' ? '1.00–1.00' : ratio_iqr($v), $tls, f1($lo),
        f1($hi), f1(med($v, 'us_ticks')), f2(med($v, 'bg'));
}

my @bad = grep { my $v = $_; grep { $run{$v}{$_}{bad} } rounds_of($v) }
          @order;

my @bgs = sort { $a <=> $b } grep { defined }
          map { my $v = $_; map { $run{$v}{$_}{bg} } rounds_of($v) } @order;

printf "\n\"Other load\": CPUs kept busy by other processes (not this "
    . "worker, not wrk) during a run, from /proc/stat: median %s, max %s "
    . "of %s over all runs. The machine was shared with other jobs; "
    . "the min–max column shows what that did to single runs.\n",
    f2(median(@bgs)), f2($bgs[-1]), $m{nproc} if @bgs;

print "\nEvery measured response was 2xx and no socket error occurred.\n"
    unless @bad;
print "\n**Non-2xx responses or socket errors in: @bad** (see "
    . "build/bench/out/).\n" if @bad;

print "\nAudit trail checks after the warm-up (records written for the "
    . "requests wrk completed plus the curl check; chain verified with "
    . "`compliance-audit verify`):\n\n";

for my $v (@order) {
    next if !defined $check{$v} || $check{$v} eq '-';
    print "- $v: $check{$v}\n";
}

# profiles: $prof{$v}{$symbol} = share of the worker's samples under it
my %prof;

# every variant bench/run profiled; the call-graph tables are printed for
# the ones the analysis takes apart, the top symbols for all of them
my @profiled = grep { -s "$dir/profile-$_.txt" } @order;
my %detailed = map { $_ => 1 }
    qw(full_tls full_http plain_tls plain_rs_tls approx_tls rs256
       rs256_miss);

for my $v (@profiled) {
    for (split /\n/, slurp("$dir/profile-$v.txt") // '') {
        next unless /^\s*([\d.]+)%\s+([\d.]+)%\s+\[(.)\]\s+(.*?)\s+-\s+-\s*$/
                    || /^\s*([\d.]+)%\s+([\d.]+)%\s+\[(.)\]\s+(\S+(?: \(inlined\))?)/;
        my ($ch, $self, $sym) = ($1, $2, $4);
        $sym =~ s/\s+$//;
        $prof{$v}{$sym} //= $ch;
        push @{ $prof{$v}{''} }, [ $ch, $self, $sym ];
    }
}

# µs per request under a function, from the profile and the median
sub prof_us {
    my ($v, $sym) = @_;

    return undef unless $prof{$v} && defined $prof{$v}{$sym} && $run{$v};
    return $prof{$v}{$sym} / 100 * med($v, 'us');
}

# targets
my %v = map { $_ => 1 } @order;

sub verdict { $_[0] ? '**met**' : '**missed**' }

my @t;

# the targets of issue 12, each against its pair measured in the same
# rounds; a missing variant leaves its target out
sub target {
    my ($what, $ok, $measured) = @_;
    push @t, [ $what, $measured, verdict($ok) ];
}

my $rsa = slurp("$dir/openssl-rsa.txt") // '';
my $ec = slurp("$dir/openssl-ec.txt") // '';
my ($rsa_v) = $rsa =~ /^rsa\s+2048 bits\s+\S+\s+\S+\s+[\d.]+\s+([\d.]+)/m;
my ($ec_v) = $ec =~ /256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+[\d.]+\s+([\d.]+)/m;
my $rsa_us = $rsa_v ? 1e6 / $rsa_v : undef;
my $ec_us = $ec_v ? 1e6 / $ec_v : undef;

# issue 14: validating a 1 KiB body, over the same request unvalidated
if ($v{validate_1k} && $v{post_1k}) {
    my $d = delta('validate_1k', 'post_1k');
    target('JSON body validation, 1 KiB, 10-property schema: ≤ 10 µs per '
           . 'KiB (over the same POST unvalidated)', $d <= 10,
           sprintf('%+.2f µs (validate_1k − post_1k)', $d));
}

if ($v{off}) {
    my $r = ratio('off');
    target('module loaded, `compliance off`: ≤ ×1.01', $r <= 1.01,
           sprintf('×%s (middle half %s)', f2($r), ratio_iqr('off')));
}

for my $a ([ 'hs256', 'JWT HS256, one token', 'public_hs' ],
           [ 'rs256', 'JWT RS256, one token', 'public_rs' ],
           [ 'apikey', 'API key', 'public_key' ])
{
    # the base: a public location answering the same request (the same
    # credential header, which nginx parses and the kernel copies), else
    # public + audit without the header
    my $base = $a->[2];
    $base = 'public_audit' unless $v{$base};
    next unless $v{ $a->[0] } && $v{$base};
    my $d = delta($a->[0], $base);
    target("$a->[1]: ≤ +1.0 µs (over public + audit, which has the same "
           . 'record' . ($base ne 'public_audit'
                         ? ', for the same request)' : ')'), $d <= 1.0,
           sprintf('%+.2f µs (%s − %s)', $d, $a->[0], $base));
}

if ($v{public_audit}) {
    my $d = delta('public_audit', 'plain');
    target('public + audit: ≤ +1.5 µs over plain nginx', $d <= 1.5,
           sprintf('%+.2f µs', $d));
}

if ($v{public_audit} && $v{nginx_json}) {
    my $d = delta('public_audit', 'nginx_json');
    target('public + audit never above nginx\'s own escape=json access '
           . 'log of the same fields', $d <= 0,
           sprintf('%+.2f µs (public_audit − nginx_json; nginx_json is '
                   . '%+.2f µs over plain)', $d,
                   delta('nginx_json', 'plain')));
}

if ($v{hs256_miss} && $v{hs256}) {
    my $d = delta('hs256_miss', 'hs256');
    target('HS256 cache miss: ≤ +3 µs', $d <= 3,
           sprintf('%+.2f µs (hs256_miss − hs256)', $d));
}

if ($v{rs256_miss} && $v{rs256} && $rsa_us) {
    my $d = delta('rs256_miss', 'rs256');
    my $bound = 1.15 * $rsa_us + 2;
    target('RS256 cache miss: ≤ 1.15 × OpenSSL RSA-2048 verify + 2 µs',
           $d <= $bound,
           sprintf('%+.2f µs (rs256_miss − rs256) vs %.2f µs (OpenSSL '
                   . '%.2f µs)', $d, $bound, $rsa_us));
}

if ($v{hs256_limit} && $v{hs256_miss} && $v{nginx_limit}) {
    my $m = delta('hs256_limit', 'hs256_miss');
    my $n = delta('nginx_limit', 'plain');
    target('limit with 100,000 keys no dearer than `limit_req` with the '
           . 'same keys', $m <= $n,
           sprintf('%+.2f µs (hs256_limit − hs256_miss) vs %+.2f µs '
                   . '(nginx_limit − plain)', $m, $n));
}

# against plain TLS serving the same request, bearer token included
# (D47, D99); the ratio to the token-less plain_tls is printed beside it
if ($v{full_tls} && $v{plain_rs_tls}) {
    my $r = ratio('full_tls', 'plain_rs_tls');
    my $t = $v{plain_tls} ? sprintf('; ×%s against plain_tls, whose '
                                    . 'request has no token (middle half '
                                    . '%s)', f2(ratio('full_tls',
                                                      'plain_tls')),
                                    ratio_iqr('full_tls', 'plain_tls'))
                          : '';
    target('full stack over TLS: ≤ ×1.25 plain TLS (serving the same '
           . 'request)', $r <= 1.25,
           sprintf('×%s (full_tls / plain_rs_tls, middle half %s)%s',
                   f2($r), ratio_iqr('full_tls', 'plain_rs_tls'), $t));
} elsif ($v{full_tls} && $v{plain_tls}) {
    my $r = ratio('full_tls', 'plain_tls');
    target('full stack over TLS: ≤ ×1.25 plain TLS', $r <= 1.25,
           sprintf('×%s (middle half %s)', f2($r),
                   ratio_iqr('full_tls', 'plain_tls')));
}

my $miss = delta('rs256_miss', 'rs256');
my $emiss = delta('es256_miss', 'rs256');
my $ver = prof_us('rs256_miss', 'compliance_jwt_verify');
my $sig = prof_us('rs256_miss', 'compliance_jwt_sig_verify');

print "\n## Targets\n\n| target | measured | verdict |\n|---|---|---|\n";
print "| $_->[0] | $_->[1] | $_->[2] |\n" for @t;

# the same question answered inside one run: the profile's share of the
# worker's time under the module's handlers (or nginx's equivalents)
my @share = (
    [ 'full_tls', 'the module (access handler + audit LOG handler + header '
      . 'filter)', qw(ngx_http_compliance_access_handler
                      ngx_http_compliance_audit_handler
                      ngx_http_compliance_header_filter) ],
);

my @sl;
for my $s (@share) {
    my ($v, $what, @f) = @$s;
    next unless $prof{$v};
    my $p = 0;
    $p += $prof{$v}{$_} // 0 for @f;
    push @sl, sprintf('%s: %s take %.1f%% of the worker\'s CPU, %s µs of '
                      . '%s µs per request; without them the request would '
                      . 'cost %s µs (the rest: nginx, TLS, the kernel)',
                      $v, $what, $p, f1($p / 100 * med($v, 'us')),
                      f1(med($v, 'us')),
                      f1((1 - $p / 100) * med($v, 'us')));
}

if (@sl) {
    print "\nThe same comparison inside single profiled runs (perf, see "
        . "the profiles below), which no other load on the machine can "
        . "skew the way it skews two separate runs:\n\n";
    print "- $_\n" for @sl;
}

# cost of each layer, from differences between variants
my @layers = (
    [ 'TLS (plain_tls − plain)', 'plain_tls', 'plain' ],
    [ 'module base + audit record (public_audit − plain)',
      'public_audit', 'plain' ],
    [ 'HMAC chain (public_chain − public_audit)',
      'public_chain', 'public_audit' ],
    [ 'the credential header alone: nginx and the kernel (public_rs − '
      . 'public_audit)', 'public_rs', 'public_audit' ],
    [ 'API key + scope (apikey − public_key)', 'apikey', 'public_key' ],
    [ 'cached JWT HS256 + claims + scope (hs256 − public_hs)',
      'hs256', 'public_hs' ],
    [ 'cached JWT RS256 + claims + scope (rs256 − public_rs)',
      'rs256', 'public_rs' ],
    [ 'API key + scope (apikey − public_audit)', 'apikey', 'public_audit' ],
    [ 'cached JWT HS256 + claims + scope (hs256 − public_audit)',
      'hs256', 'public_audit' ],
    [ 'cached JWT RS256 + claims + scope (rs256 − public_audit)',
      'rs256', 'public_audit' ],
    [ 'RS256 miss: verify + parse (rs256_miss − rs256)',
      'rs256_miss', 'rs256' ],
    [ 'ES256 miss: verify + parse (es256_miss − rs256)',
      'es256_miss', 'rs256' ],
    [ 'limit + lockout + chain + all detectors (full_http − rs256)',
      'full_http', 'rs256' ],
    [ 'TLS + TLS floor + HSTS under the module (full_tls − full_http)',
      'full_tls', 'full_http' ],
    [ 'the bearer token alone over TLS: nginx, OpenSSL and the kernel '
      . '(plain_rs_tls − plain_tls)', 'plain_rs_tls', 'plain_tls' ],
    [ 'the module\'s full stack over TLS, same request (full_tls − '
      . 'plain_rs_tls)', 'full_tls', 'plain_rs_tls' ],
    [ 'nginx approximation over plain (approx − plain)', 'approx',
      'plain' ],
    [ 'JSON body validation, 1 KiB, 10-property schema (validate_1k − '
      . 'post_1k)', 'validate_1k', 'post_1k' ],
);

print "\n## Where the CPU goes\n\nMedian per-round difference of worker "
    . "µs per request between two variants (noise: see the min–max "
    . "column above).\n\n| layer | µs/req |\n|---|---:|\n";

for my $l (@layers) {
    next unless $v{ $l->[1] } && $v{ $l->[2] };
    printf "| %s | %+.1f |\n", $l->[0], delta($l->[1], $l->[2]);
}

print "\n## Signature verification alone\n\n";
printf "`openssl speed -seconds 3 rsa2048`: %s verify/s = %s µs per "
    . "verify. Module RS256 miss path: %s µs, %sx.\n\n",
    thousands($rsa_v), f1($rsa_us), f1($miss),
    $rsa_us && defined $miss ? f2($miss / $rsa_us) : 'n/a' if $rsa_v;
printf "`openssl speed -seconds 3 ecdsap256`: %s verify/s = %s µs per "
    . "verify. Module ES256 miss path: %s µs, %sx.\n",
    thousands($ec_v), f1($ec_us), f1($emiss),
    $ec_us && defined $emiss ? f2($emiss / $ec_us) : 'n/a' if $ec_v;

# the miss penalty, piece by piece, from the two profiles
if (defined $ver && $prof{rs256}) {
    my $evict = prof_us('rs256_miss', 'json_decref (inlined)')
                // prof_us('rs256_miss', 'json_delete');
    my $wake = (prof_us('rs256_miss', 'sock_def_readable') // 0)
               - (prof_us('rs256', 'sock_def_readable') // 0);
    my $rest = $miss - $ver - ($evict // 0) - $wake;

    print "\nThe RS256 miss penalty (rs256_miss − rs256, " . f1($miss)
        . " µs) taken apart with the profiles of rs256 and rs256_miss:\n\n"
        . "| part | µs/req |\n|---|---:|\n";
    printf "| `compliance_jwt_verify`: base64url, JSON parse (jansson), key "
        . "choice, signature | %s |\n", f1($ver);
    printf "| of which `compliance_jwt_sig_verify` (RSA_verify) | %s |\n",
        f1($sig);
    printf "| freeing parsed JSON (`json_decref`/`json_delete`: the evicted "
        . "cache entry and the header) | %s |\n", f1($evict);
    printf "| waking the idle load generator (`sock_def_readable` in the "
        . "worker's writes, miss minus hit) | %s |\n", f1($wake);
    printf "| rest (malloc, pool, noise) | %s |\n", f1($rest);
}

# audit throughput
print "\n## Audit records per second, one worker\n\n";

for my $v (qw(public_audit public_chain full_tls)) {
    next unless $v{$v};
    my $us = med($v, 'us');
    printf "- %s: %s records/s measured (one record per request; the "
        . "load generator shares the %s CPUs), **%s records/s** per "
        . "fully busy worker (1 s / %s µs per request).\n",
        $v, thousands(med($v, 'rps')), $m{nproc}, thousands(1e6 / $us),
        f1($us);
}

# zone capacity
my %cap;
for (split /\n/, slurp("$dir/capacity.txt") // '') {
    $cap{$1} = { sent => $2, ok => $3, kept => $4 }
        if /^(\d+)m sent=(\d+) pass1_200=(\d+) retained=(\d+)/;
}

if ($cap{1} && $cap{4}) {
    my $slope = ($cap{4}{kept} - $cap{1}{kept}) / 3;

    print "\n## Keys per MiB of limit zone\n\n";
    print "Measured with bench/zone-capacity.pl (key=ip, one request an "
        . "hour per address, addresses from X-Forwarded-For via realip): "
        . "send N distinct addresses once, then again newest first; the "
        . "addresses still refused (429) are the ones the zone kept.\n\n";
    print "| zone | addresses sent | kept |\n|---|---:|---:|\n";
    printf "| %d MiB | %s | %s |\n", $_, thousands($cap{$_}{sent}),
        thousands($cap{$_}{kept}) for 1, 4;
    printf "\n**%s keys per MiB** (the 4 MiB zone holds %s more than the "
        . "1 MiB one: %s per extra MiB; a 1 MiB zone holds %s). Each key "
        . "takes one 128-byte slab chunk (IPv4/IPv6 addresses and "
        . "principals up to 48 bytes).\n",
        thousands($cap{4}{kept} / 4),
        thousands($cap{4}{kept} - $cap{1}{kept}), thousands($slope),
        thousands($cap{1}{kept});

    my $lim = slurp("$top/docs/limits.md");
    if ($lim && $lim =~ /([^\n]*(?:per MiB|per megabyte|keys per)[^\n]*)/i) {
        (my $q = $1) =~ s/^\s+//;
        print "\ndocs/limits.md says: \"$q\"\n";
    }
}

# profiles
my $interesting = qr/^(?:ngx_http_compliance_\w+|compliance_\w+
    |RSA_verify|BN_mod_exp_mont|ECDSA_do_verify|ossl_ecdsa_\w*verify\w*
    |EVP_DigestVerify\w*|EVP_PKEY_verify\w*|HMAC\w*|SHA256\w*|EVP_Digest\w*
    |json_loadb|json_decref|json_delete|json_object_get
    |SSL_read|SSL_write|ngx_ssl_recv|ngx_ssl_send_chain|ngx_ssl_write
    |ngx_http_limit_req_handler|ngx_http_log_handler|ngx_http_log_write
    |ngx_http_headers_filter|ngx_http_write_filter|ngx_writev
    |ngx_unix_recv|epoll_wait|do_syscall_64|ngx_http_process_request_line
    |ngx_http_process_request_headers|ngx_http_core_run_phases
    |ngx_http_finalize_request|ngx_http_set_keepalive|ngx_http_empty_gif_handler
    |ngx_http_script_return_code|ngx_http_variable_request_id
    |ngx_http_headers_filter|ngx_http_log_variable|ngx_http_limit_req_lookup
    |RAND_bytes_ex|ngx_http_get_indexed_variable|ngx_http_core_generic_phase
    |ngx_http_core_rewrite_phase|ngx_http_core_content_phase
    |ngx_http_free_request|ngx_http_send_response|ngx_http_send_header
    |sock_def_readable|tcp_sendmsg|tcp_recvmsg
    |malloc|cfree|free|ngx_palloc\w*|ngx_pcalloc|ngx_create_pool
    |ngx_destroy_pool|ngx_vslprintf|ngx_escape_json)(?:\s|$)/x;

# self time: "  7.20%  dso  [k] symbol  -  -"
sub self_rows {
    my ($v) = @_;
    my @rows;

    for (split /\n/, slurp("$dir/profile-$v-self.txt") // '') {
        next unless /^\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*?)(?:\s+-\s+-)?\s*$/;
        push @rows, [ $1, $2, $4 ];
    }

    return @rows;
}

# the share of samples with a library anywhere on the stack
sub dso_children {
    my ($v, $dso) = @_;

    for (split /\n/, slurp("$dir/profile-$v-dsoc.txt") // '') {
        return $1 if /^\s*([\d.]+)%\s+[\d.]+%\s+\Q$dso\E\s*$/;
    }

    return undef;
}

if (@profiled) {
    print "\n## Profiles\n\n"
        . "`perf record -e cpu-clock -F 999 --call-graph dwarf` on the "
        . "worker during one 3 s run of every variant, after the measured "
        . "rounds (a separate run, not one of the measured ones). "
        . "Shares are of the worker's samples; µs/req converts a share "
        . "with the variant's median worker µs per request above. "
        . "\"Module on the stack\" is the share of samples with a function "
        . "of ngx_http_compliance_module.so anywhere in the call chain "
        . "(its own code and what it calls: OpenSSL, libc, the kernel's "
        . "write of the audit file).\n\n"
        . "### Top symbols of every variant (self time)\n";

    for my $v (@profiled) {
        next unless $run{$v};

        my $us = med($v, 'us');
        my @rows = self_rows($v);
        my $mod = dso_children($v, 'ngx_http_compliance_module.so');

        next unless @rows;

        print "\n#### $v\n\n";
        printf "Module on the stack: %.1f%% = %.1f µs of %.1f µs per "
            . "request.\n\n", $mod, $mod / 100 * $us, $us
            if defined $mod;
        print "| symbol | library | self | µs/req |\n|---|---|---:|---:|\n";
        printf "| `%s` | %s | %.1f%% | %.2f |\n", $_->[2], $_->[1], $_->[0],
            $_->[0] / 100 * $us for @rows[0 .. ($#rows < 11 ? $#rows : 11)];
    }
}

for my $v (@profiled) {
    next unless $detailed{$v} && $prof{$v} && $prof{$v}{''} && $run{$v};

    my $us = med($v, 'us');
    my (@rows, %seen);

    for (@{ $prof{$v}{''} }) {
        my ($ch, $self, $sym) = @$_;
        next if $ch < 0.3 || $seen{$sym}++;
        next unless $sym =~ $interesting;
        push @rows, $_;
    }

    my $d = slurp("$dir/profile-$v-dso.txt") // '';

    print "\n## Profile: $v\n\n"
        . "The same perf run as above. Self time by library:\n\n```\n$d```"
        . "\n\nTime under selected functions (callees included, so rows "
        . "nest), converted to µs with this variant's median "
        . f1($us) . " µs per request:\n\n"
        . "| function | share of worker CPU | µs/req |\n|---|---:|---:|\n";

    printf "| `%s` | %.1f%% | %.1f |\n", $_->[2], $_->[0],
        $_->[0] / 100 * $us for @rows[0 .. ($#rows < 39 ? $#rows : 39)];
}

my $notes = slurp("$top/bench/notes.md");
print "\n$notes" if $notes;

my $err = slurp("$dir/errors.txt");
if ($err && $err =~ /\S/) {
    print "\n## nginx errors during the run\n\n```\n$err```\n";
}
