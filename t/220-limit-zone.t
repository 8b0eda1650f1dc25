#!/usr/bin/perl
# compliance_limit_zone as shared memory: a reload (during traffic) keeps
# every bucket; a changed zone size starts fresh; a full zone evicts the
# least recently used key and keeps serving, without [alert] or [crit];
# and the memory per key: a 1m zone keeps at least 8,000 keys.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX ();
use Test::Compliance;
use Test::ComplianceAuth qw(keygen requests);

my $t = Test::Compliance->new;

my $file = $t->path('keys.txt');
my $alice = keygen($file, '--principal', 'alice');
my $bob = keygen($file, '--principal', 'bob');

my $conf = <<'EOF';
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_api_keys %%PREFIX%%/keys.txt;

    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;

    compliance_limit_zone keep %%KEEP_SIZE%%;
    compliance_limit_zone tiny 32k;
    compliance_limit_zone mem 1m;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location /keep {
            compliance_limit zone=keep rate=10r/m;
            return 200 "keep %%GEN%%\n";
        }

        location /tiny {
            compliance_public "eviction test";
            compliance_limit zone=tiny rate=2r/h;
            return 200 "tiny\n";
        }

        location /mem {
            compliance_public "memory test";
            compliance_limit zone=mem rate=1r/h;
            return 200 "mem\n";
        }
    }
}
EOF

sub config {
    my ($size, $gen) = @_;

    (my $c = $conf) =~ s/%%KEEP_SIZE%%/$size/;
    $c =~ s/%%GEN%%/$gen/;
    $t->write_config($c);
}

sub remaining {
    my ($r) = @_;

    return undef unless $r;
    return ($r->{header}->('ratelimit') // '') =~ /;r=(\d+);/ ? $1 : undef;
}

sub keep {
    my ($key) = @_;

    return $t->http(uri => '/keep', headers => [ [ 'X-API-Key', $key ] ]);
}

config('1m', 1);
$t->run;

# --- a reload keeps every bucket, during traffic
my @r = map { keep($alice) } 1 .. 5;
is_deeply([ map { remaining($_) } @r ], [ 9, 8, 7, 6, 5 ],
          'bucket half used before the reload');

# traffic on another key while the master reloads
my $pid = fork // die "fork: $!";

if ($pid == 0) {
    my $bad = 0;
    my $end = time + 1.5;

    while (time < $end) {
        my $r = keep($bob);
        $bad++ unless $r && ($r->{status} == 200 || $r->{status} == 429);
        sleep(0.02);
    }

    POSIX::_exit($bad ? 1 : 0);
}

sleep(0.3);
config('1m', 2);
$t->reload;
waitpid($pid, 0);
is($? >> 8, 0, 'requests during the reload were all answered');

my $r = keep($alice);
is($r->{body}, "keep 2\n", 'the new configuration serves');
is(remaining($r), 4, 'the reload kept the bucket: remaining continues');

$t->reload;
is(remaining(keep($alice)), 3, 'a second reload keeps it too');

# a zone of another size is another zone: it starts with new buckets
config('2m', 3);
$t->reload;
$r = keep($alice);
is($r->{body}, "keep 3\n", 'reloaded with a bigger zone');
is(remaining($r), 9, 'a resized zone starts fresh');

# --- a full zone evicts the least recently used key and keeps serving
my $off = $t->log_offset;

sub tiny {
    my (@addr) = @_;

    return requests($t, [ map {
        { uri => '/tiny', headers => [ [ 'X-Forwarded-For', $_ ] ] }
    } @addr ]);
}

sub addr {
    my ($n) = @_;

    return sprintf('10.%d.%d.%d', ($n >> 16) & 255, ($n >> 8) & 255,
                   $n & 255);
}

# the oldest key empties its bucket, then 1,000 other keys pass through
@r = tiny('192.0.2.1', '192.0.2.1', '192.0.2.1');
is_deeply([ map { $_->{status} } @r ], [ 200, 200, 429 ],
          'tiny zone: first key empties its bucket');

@r = tiny(map { addr($_) } 1 .. 1000);
is(scalar(grep { $_ && $_->{status} == 200 } @r), 1000,
   'tiny zone: 1,000 new keys all served while the zone is full');

# the most recent keys survive, with their used bucket
@r = tiny(addr(1000), addr(999));
is_deeply([ map { remaining($_) } @r ], [ 0, 0 ],
          'recently used keys keep their buckets');

$r = (tiny('192.0.2.1'))[0];
is($r->{status}, 200, 'the least recently used key was evicted');
is(remaining($r), 1, '... and starts again with a full bucket');

my $log = $t->error_log($off);
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no [alert] or [crit] on eviction');
like($log, qr/\[warn\].*zone is full, least recently used keys are evicted in compliance_limit_zone "tiny"/,
     'one warning that the zone is full');

# --- memory: fill a 1m zone with 10,000 keys (each bucket emptied by its
# only token), then probe from the newest backwards: a kept key is still
# empty (429), the first evicted one is new (200).
my $N = 10_000;

@r = requests($t, [ map {
    { uri => '/mem', headers => [ [ 'X-Forwarded-For', addr($_) ] ] }
} 1 .. $N ]);
is(scalar(grep { $_ && $_->{status} == 200 } @r), $N,
   "1m zone: $N new keys served");

my $kept = 0;
my $step = 500;

PROBE: for (my $hi = $N; $hi > 0; $hi -= $step) {
    my $lo = $hi - $step + 1;
    $lo = 1 if $lo < 1;

    for my $p (requests($t, [ map {
        { uri => '/mem', headers => [ [ 'X-Forwarded-For', addr($_) ] ] }
    } reverse $lo .. $hi ])) {
        last PROBE unless $p && $p->{status} == 429;
        $kept++;
    }
}

cmp_ok($kept, '>=', 8000, "1m zone keeps at least 8,000 keys ($kept)");
cmp_ok($kept, '<', $N, '... and did evict the oldest');
diag("keys kept by a 1m zone: $kept");

$t->finish;
