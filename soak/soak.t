#!/usr/bin/perl
# Soak: ./build.sh soak.  About a million requests mixing valid,
# invalid, rate-limited, proxied (vault credential) and public traffic
# over 2 workers, while the master is sent 100 HUP reloads, the audit
# trail is rotated 10 times (rename + USR1) and a worker is killed with
# SIGKILL 3 times.  Holds: no response with a status its kind may not
# have; audit records = responses, apart from requests in flight at a
# kill or when a load run ends (counted, bounded, reported); every
# rotated file verifies, in order, as one chain; worker and master RSS
# grow less than 1 MiB after warm-up.  Bounded in count and time:
# SOAK_REQUESTS (1000000) and SOAK_MAX_SECONDS (600).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX ();
use Test::Compliance;
use Test::ComplianceAuth qw(make_secret oct_jwk jwks b64url);
use Digest::SHA qw(hmac_sha256);
use JSON::PP;

my $t = Test::Compliance->new;

my $TARGET = $ENV{SOAK_REQUESTS} // 1_000_000;
my $MAX_SECONDS = $ENV{SOAK_MAX_SECONDS} // 600;
my $CONNS = 32;
my $RELOADS = 100;
my $ROTATIONS = 10;
my $KILLS = 3;

my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';

for my $c ('wrk', "$bin/compliance-audit", "$bin/compliance-vault",
           "$bin/compliance-keygen")
{
    plan skip_all => "$c not found"
        unless -x $c || grep { -x "$_/$c" } split /:/, $ENV{PATH};
}

# a worker killed by the soak is expected, and so is nginx's note that it
# held a mutex (the module then repairs what it was doing); nothing else
# may alert
$t->ignore_log_lines(qr/worker process \d+ exited on signal 9/);
$t->ignore_log_lines(qr/shared memory zone "[^"]+" was locked by \d+/);

sub sh {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    die "$cmd: $out" if $?;
    return $out;
}

# --- material
my $chain_key = $t->path('chain.key');
my $vault_key = $t->path('vault.key');
sh("'$bin/compliance-vault' genkey '$chain_key'");
sh("'$bin/compliance-vault' genkey '$vault_key'");

my $secret = 'sk-soak-' . join '', map { ('a' .. 'z')[rand 26] } 1 .. 32;
open my $vin, '|-', "'$bin/compliance-vault' --vault '"
    . $t->path('vault.bin') . "' --key '$vault_key' set backend >/dev/null"
    or die;
print {$vin} $secret;
close $vin or die 'vault set failed';

my ($key) = sh("'$bin/compliance-keygen' --file '" . $t->path('keys.txt')
               . "' --principal soak-client") =~ /^(ck_\S+)$/m;
my $bad = 'ck_aaaaaaaaaaaa_' . ('A' x 43);

my $hmac = 'soak-hmac-secret-of-at-least-32-bytes!!';
$t->write_file('jwks.json', jwks(oct_jwk($hmac, kid => 'soak')), 0600);
my $h = b64url(encode_json({ alg => 'HS256', kid => 'soak' }));
my $p = b64url(encode_json({ sub => 'soak-user', exp => time + 86400 }));
my $jwt = "$h.$p." . b64url(hmac_sha256("$h.$p", $hmac));

$t->forbid_in_logs($key, $jwt, $secret, $hmac);

$t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;
events {
    worker_connections 1024;
}
http {
    %%TEST_GLOBALS_HTTP%%
    access_log off;

    compliance_audit_log %%PREFIX%%/logs/audit.jsonl buffer=64k;
    compliance_audit_chain $chain_key;
    compliance_vault %%PREFIX%%/vault.bin key=$vault_key;
    compliance_limit_zone soak 1m;

    map_hash_bucket_size 128;

    map \$http_authorization \$backend_ok {
        "Bearer $secret"  1;
        default           0;
    }

    # the backend: 200 only with the vault's secret; not the gateway's
    # trail (an upstream has its own)
    server {
        listen 127.0.0.1:%%PORT_1%%;
        keepalive_requests 100000;
        compliance_audit_log off;

        location / {
            if (\$backend_ok = 0) {
                return 403;
            }
            return 200 "backend\\n";
        }
    }

    upstream backend {
        server 127.0.0.1:%%PORT_1%%;
        keepalive 16;
    }

    server {
        listen 127.0.0.1:%%PORT_0%%;
        keepalive_requests 100000;

        compliance on;
        compliance_api_keys %%PREFIX%%/keys.txt;
        compliance_jwt_keys %%PREFIX%%/jwks.json;

        add_header X-Kind \$http_x_kind always;

        location /api/ {
            return 200 "api \$compliance_principal\\n";
        }

        location /limited/ {
            compliance_limit zone=soak rate=1r/m key=principal;
            return 200 "limited\\n";
        }

        location /proxy/ {
            compliance_upstream_credential backend "prefix=Bearer ";
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://backend;
        }

        location /pub/ {
            compliance_public "soak public endpoint";
            return 200 "public\\n";
        }
    }
}
EOF

$t->run;

my $url = 'http://127.0.0.1:' . $t->port(0);
my $audit = $t->path('logs/audit.jsonl');

$ENV{SOAK_KEY} = $key;
$ENV{SOAK_BAD_KEY} = $bad;
$ENV{SOAK_JWT} = $jwt;

my %total = map { $_ => 0 } qw(responses unexpected s200 s401 s429 other
                                connect read write timeout);
my @first;
my $runs = 0;

sub wrk_start {
    my ($secs) = @_;

    my $out = $t->path("wrk-$runs.out");
    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        open STDOUT, '>', $out or die;
        open STDERR, '>&', \*STDOUT or die;
        exec 'wrk', '-t2', "-c$CONNS", "-d${secs}s", '--timeout', '5s',
            '-s', "$FindBin::Bin/soak.lua", "$url/" or die "exec wrk: $!";
    }

    $runs++;
    return [ $pid, $out ];
}

sub wrk_wait {
    my ($w) = @_;

    waitpid $w->[0], 0;
    open my $fh, '<', $w->[1] or die "$w->[1]: $!";
    my $text = do { local $/; <$fh> };
    my ($line) = $text =~ /^(SOAK .*)$/m
        or die "wrk printed no summary:\n$text";

    my %r = $line =~ /(\w+)=(\S+)/g;
    $total{$_} += $r{$_} for grep { $_ ne 'first' } keys %total;
    push @first, $r{first} if $r{first} ne '-';

    return \%r;
}

sub rss_kib {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (<$fh>) {
        return $1 if /^VmRSS:\s+(\d+)\s+kB/;
    }
    return 0;
}

sub workers_rss {
    my $sum = 0;
    $sum += rss_kib($_) for $t->worker_pids;
    return $sum;
}

my $t0 = time;

# --- warm-up: the rate sets the length of the fault phase
my $r = wrk_wait(wrk_start(5));
my $rate = $r->{responses} / 5;
ok($rate > 1000, sprintf 'warm-up: %d responses, %.0f/s', $r->{responses},
   $rate);

# the master's baseline is taken after 10 reloads: its first reloads
# touch memory that later ones reuse (1.6 -> 4 MiB with any config)
my $master = $t->master_pid;
my $master_rss0;
my $WARM_RELOADS = 10;

# --- faults under load
my $left = $TARGET - $total{responses};
my $steady_share = 0.15;
my $fault_secs = POSIX::ceil($left * (1 - $steady_share) / $rate);
$fault_secs = 30 if $fault_secs < 30;
$fault_secs = $MAX_SECONDS / 2 if $fault_secs > $MAX_SECONDS / 2;

my @events = ((map { [ 'hup', $_ ] } 1 .. $RELOADS),
              (map { [ 'rotate', $_ ] } 1 .. $ROTATIONS),
              (map { [ 'kill', $_ ] } 1 .. $KILLS));

# spread evenly, kinds interleaved: a rotation every tenth, a kill at the
# quarters, reloads between
@events = sort { $a->[2] <=> $b->[2] } map {
    my ($k, $i) = @$_;
    my $at = $k eq 'hup' ? $i / ($RELOADS + 1)
           : $k eq 'rotate' ? ($i - 0.5) / $ROTATIONS
           : $i / ($KILLS + 1);
    [ $k, $i, $at * $fault_secs * 0.95 ]
} @events;

my %done = map { $_ => 0 } qw(hup rotate kill);
my @rotated;

my $w = wrk_start($fault_secs);
my $start = time;

for my $e (@events) {
    my ($kind, $i, $at) = @$e;
    my $wait = $start + $at - time;
    sleep $wait if $wait > 0;

    if ($kind eq 'hup') {
        $t->reload(timeout => 30);
        $master_rss0 = rss_kib($master) if $i == $WARM_RELOADS;

    } elsif ($kind eq 'rotate') {
        my $name = sprintf '%s.%03d', $audit, $i;
        rename $audit, $name or die "rename: $!";
        push @rotated, $name;
        $t->reopen(timeout => 30);

    } else {
        my @w = $t->worker_pids;
        kill 'KILL', $w[$i % @w] if @w;
        # the master starts a new one
        $t->wait_for(sub { $t->worker_pids >= 2 }, timeout => 10);
    }

    $done{$kind}++;
}

my $fr = wrk_wait($w);
is($done{hup}, $RELOADS, "$RELOADS reloads under load");
is($done{rotate}, $ROTATIONS, "$ROTATIONS rotations under load");
is($done{kill}, $KILLS, "$KILLS workers killed under load");
note("fault phase: $fault_secs s, $fr->{responses} responses");

# --- steady state on the same workers: their memory must stay flat
wrk_wait(wrk_start(5));
my $workers_rss0 = workers_rss();
my @steady_workers = sort $t->worker_pids;

$left = $TARGET - $total{responses};
my $steady_secs = POSIX::ceil($left / $rate);
$steady_secs = 10 if $steady_secs < 10;
$steady_secs = 120 if $steady_secs > 120;
wrk_wait(wrk_start($steady_secs));

my $workers_rss1 = workers_rss();
my $master_rss1 = rss_kib($master);
is_deeply([ sort $t->worker_pids ], \@steady_workers,
          'the same workers through the steady phase');

my $elapsed = time - $t0;

$t->stop;

# what the module repaired after the kills (ngx_http_compliance_audit.c)
my $elog = $t->read_file('logs/error.log') // '';
my $cut = () = $elog =~ /compliance audit: process \d+ died writing/g;
my $undone = () = $elog =~ /compliance audit: process \d+ died appending/g;

# --- the trail: every rotated file, in order, as one chain
my $out = `'$bin/compliance-audit' verify --key '$chain_key' @rotated '$audit' 2>&1`;
is($? >> 8, 0, 'the rotated series verifies in order') or diag($out);
my ($records) = $out =~ /^OK (\d+) records/m;
$records //= 0;
my $files = @rotated + 1;

is($total{unexpected}, 0, 'no unexpected status')
    or diag("first unexpected (kind:status): @first");
cmp_ok($total{responses}, '>=', $TARGET * 0.98,
       "about $TARGET responses: $total{responses}");

# requests in flight when a worker died have no record; requests in
# flight when a wrk run ended have a record and no response
my $lost_bound = $CONNS * $KILLS;
my $extra_bound = $CONNS * ($runs + $KILLS);
my $diff = $records - $total{responses};
cmp_ok($diff, '>=', -$lost_bound,
       "records >= responses - $lost_bound (in flight at the kills)");
cmp_ok($diff, '<=', $extra_bound,
       "records <= responses + $extra_bound (in flight at run ends)");

my $wgrow = $workers_rss1 - $workers_rss0;
my $mgrow = $master_rss1 - $master_rss0;
cmp_ok($wgrow, '<', 1024, "workers' RSS growth in the steady phase: $wgrow KiB");
cmp_ok($mgrow, '<', 1024,
       "master RSS growth after $WARM_RELOADS reloads: $mgrow KiB");
cmp_ok($elapsed, '<', $MAX_SECONDS, sprintf 'within %d s: %.0f s',
       $MAX_SECONDS, $elapsed);

my $report = sprintf <<'EOT',
soak: %d responses in %.0f s (%d wrk runs, %d connections, 2 workers)
  statuses: 200 %d, 401 %d, 429 %d, other %d; unexpected %d
  socket errors: connect %d, read %d, write %d, timeout %d
  faults: %d HUP reloads, %d rotations (rename + USR1), %d SIGKILLs
  audit: %d records in %d files, the series verifies; records - responses = %d
  repairs after a kill inside the audit mutex: %d partial writes cut, %d appends undone
  RSS: workers %+d KiB over the steady phase (%d -> %d KiB),
       master %+d KiB over the last 90 reloads (%d -> %d KiB)
EOT
    $total{responses}, $elapsed, $runs, $CONNS, $total{s200}, $total{s401},
    $total{s429}, $total{other}, $total{unexpected}, $total{connect},
    $total{read}, $total{write}, $total{timeout}, $done{hup},
    $done{rotate}, $done{kill}, $records, $files, $diff, $cut, $undone,
    $wgrow,
    $workers_rss0, $workers_rss1, $mgrow, $master_rss0, $master_rss1;

diag($report);
my $dir = $t->repo_root . '/build';
if (open my $fh, '>', "$dir/soak-report.txt") {
    print {$fh} $report;
    close $fh;
}

$t->finish;
