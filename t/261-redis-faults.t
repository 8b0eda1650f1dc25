#!/usr/bin/perl
# SPEC 15 faults, with a real redis-server and 2 workers: Redis down at
# start, started later, killed (SIGKILL) mid-traffic, restarted, slow
# (DEBUG SLEEP, and a TCP proxy that delays its replies), answering
# errors (a key of the wrong type).  fail=open decides with the local
# buckets, fail=closed refuses with 503 limits_unavailable; no request
# waits past 50 ms (checked with slack for a busy machine); one alert
# record per outage and zone; reconnects with backoff.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX ();
use Test::Compliance;
use Test::ComplianceRedis;

my $t = Test::Compliance->new;

my $rport = $t->port(1);
my $pport = $t->port(2);

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_audit_log %%PREFIX%%/logs/audit.log;

    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;

    compliance_limit_zone open 1m redis=127.0.0.1:%%PORT_1%% fail=open;
    compliance_limit_zone closed 1m redis=127.0.0.1:%%PORT_1%% fail=closed;
    compliance_limit_zone slow 1m redis=127.0.0.1:%%PORT_2%%;
    compliance_limit_zone slowsync 1m redis=127.0.0.1:%%PORT_2%% mode=sync
                          sync=50ms;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location /open {
            compliance_public "fault test";
            compliance_limit zone=open rate=5r/m key=ip;
            return 200 "open\n";
        }

        location /closed {
            compliance_public "fault test";
            compliance_limit zone=closed rate=5r/m key=ip;
            return 200 "closed\n";
        }

        location /slow {
            compliance_public "fault test";
            compliance_limit zone=slow rate=5r/m key=ip;
            return 200 "slow\n";
        }

        location /slowsync {
            compliance_public "fault test";
            compliance_limit zone=slowsync rate=5r/m key=ip;
            return 200 "slowsync\n";
        }

        location = /metrics {
            compliance_public "metrics of the test";
            compliance_status;
        }
    }
}
EOF

# Redis down at start
$t->run;
sleep 0.3;

my $slowest = 0;

sub get {
    my ($uri, $ip) = @_;

    my $t0 = time;
    my $r = $t->http(uri => $uri, headers => [[ 'X-Forwarded-For', $ip ]]);
    my $dt = time - $t0;
    $slowest = $dt if $dt > $slowest;

    return $r;
}

sub statuses {
    my ($uri, $ip, $n) = @_;

    return join ' ', map { get($uri, $ip)->{status} // 'none' } 1 .. $n;
}

sub alerts {
    my ($path) = @_;

    my $log = -e $t->path('logs/audit.log')
              ? $t->read_file('logs/audit.log') : '';

    return scalar grep { /"event":"alert"/ && /"reason":"limits_unavailable"/
                         && /"path":"\Q$path\E"/ } split /\n/, $log;
}

is(statuses('/open', '10.1.0.1', 7), '200 200 200 200 200 429 429',
   'down at start, fail=open: the local bucket decides');
my $r = get('/closed', '10.1.0.1');
is($r->{status}, 503, 'down at start, fail=closed: 503');
like($r->{body}, qr/"reason":"limits_unavailable"/,
     'fail=closed: reason limits_unavailable');
get('/closed', '10.1.0.1') for 1 .. 3;
is(alerts('/open'), 1, 'one alert record for the outage (zone open)');
my $m = $t->http(uri => '/metrics')->{body} // '';
like($m, qr/^compliance_limit_redis_outage\{zone="open"\} 1$/m,
     'metrics: the outage runs');
like($m, qr/^compliance_limit_redis_fallbacks_total\{zone="open"\} 7$/m,
     'metrics: 7 requests decided without Redis (fail=open)');
like($m, qr/^compliance_limit_redis_refused_total\{zone="closed"\} 4$/m,
     'metrics: 4 refused without Redis (fail=closed)');
is(alerts('/closed'), 1, 'one alert record for the outage (zone closed)');
cmp_ok($slowest, '<', 0.5, sprintf('no request waited on the dead Redis '
       . '(slowest %.3f s)', $slowest));
like($t->error_log, qr/Redis 127\.0\.0\.1:$rport of zone "open": .*fall back to the local buckets/,
     'the outage is logged');

# started later: the workers reconnect (backoff up to 2 s)
my $redis = Test::ComplianceRedis->new(t => $t, port => $rport);
ok($t->wait_for(sub { $redis->calls('script|load') >= 4 }, timeout => 6),
   'both workers reconnected to the new Redis');
is(statuses('/open', '10.1.0.2', 6), '200 200 200 200 200 429',
   'back: counted in Redis');
is(scalar(() = $redis->keys_of('open')), 1, 'back: the key is in Redis');
is(get('/closed', '10.1.0.2')->{status}, 200, 'back: fail=closed admits');
like($t->error_log, qr/Redis 127\.0\.0\.1:$rport of zone "open" is back \(outages 1/,
     'back: logged with the counters');
$m = $t->http(uri => '/metrics')->{body} // '';
like($m, qr/^compliance_limit_redis_outage\{zone="open"\} 0$/m,
     'metrics: the outage is over');
like($m, qr/^compliance_limit_redis_outages_total\{zone="open"\} 1$/m,
     'metrics: one outage');
like($m, qr/^compliance_limit_redis_commands_total\{zone="open"\} [1-9]/m,
     'metrics: commands answered');

# killed mid-traffic
$slowest = 0;
my @st = map { get('/open', '10.1.0.3')->{status} } 1 .. 3;
$redis->kill9;
push @st, map { get('/open', '10.1.0.3')->{status} } 1 .. 4;
is("@st", '200 200 200 200 200 429 429',
   'killed: the local bucket goes on from the fleet\'s count (3 in '
   . 'Redis, 2 locally)');
is(get('/closed', '10.1.0.3')->{status}, 503, 'killed: fail=closed 503');
cmp_ok($slowest, '<', 0.5, sprintf('killed: no request waited (slowest '
       . '%.3f s)', $slowest));
is(alerts('/open'), 2, 'killed: a second outage, a second alert');

# restarted: an empty Redis
$redis->start;
ok($t->wait_for(sub { $redis->calls('script|load') >= 4 }, timeout => 6),
   'restarted: both workers reconnected');
is(statuses('/open', '10.1.0.4', 6), '200 200 200 200 200 429',
   'restarted: counted in Redis again');
is(alerts('/open'), 2, 'restarted: no alert while it works');

# slow: DEBUG SLEEP blocks the server for 2 s
my $pid = fork;
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    eval { $redis->{sock} = undef; $redis->cmd('DEBUG', 'SLEEP', '2') };
    POSIX::_exit(0);
}
sleep 0.2;
$slowest = 0;
my $t0 = time;
@st = map { get('/open', '10.1.0.5')->{status} } 1 .. 6;
my $spent = time - $t0;
is("@st", '200 200 200 200 200 429',
   'DEBUG SLEEP: decided by the local bucket');
cmp_ok($slowest, '<', 0.5, sprintf('DEBUG SLEEP: the slowest request took '
       . '%.3f s (Redis asleep for 2 s)', $slowest));
cmp_ok($spent, '<', 1.8, 'DEBUG SLEEP: all were answered while it slept');
is(get('/closed', '10.1.0.5')->{status}, 503, 'DEBUG SLEEP: fail=closed 503');
waitpid $pid, 0;
is(alerts('/open'), 3, 'DEBUG SLEEP: one alert for the slow outage');
like($t->error_log, qr/slower than 50 ms/, 'DEBUG SLEEP: logged as slow');
ok($t->wait_for(sub {
       my $s = get('/open', '10.1.0.6')->{status};
       return scalar(() = $redis->keys_of('open')) >= 2;
   }, timeout => 6), 'DEBUG SLEEP: back to Redis once it answers');

# slow: a proxy that delays Redis' replies by 0.3 s
my $proxy = Test::ComplianceRedis->proxy($t, $pport, $rport, 0.3);
ok($t->wait_for(sub {
       my $s = get('/slow', '10.1.0.7')->{status};
       return scalar(() = $redis->keys_of('slow')) >= 1;
   }, timeout => 6), 'proxy: the zone works through it');
my $before = alerts('/slow');
$t->write_file('redis-proxy.slow', '');
$slowest = 0;
@st = map { get('/slow', '10.1.0.8')->{status} } 1 .. 6;
is("@st", '200 200 200 200 200 429', 'proxy slow: local buckets');
cmp_ok($slowest, '<', 0.5, sprintf('proxy slow: the slowest request took '
       . '%.3f s (replies 0.3 s late)', $slowest));
is(alerts('/slow'), $before + 1, 'proxy slow: one alert');

# sync mode has no request waiting: the watchdog finds the slow replies
$before = alerts('/slowsync');
$slowest = 0;
ok($t->wait_for(sub {
       my $s = get('/slowsync', '10.1.0.11')->{status};
       return alerts('/slowsync') > $before;
   }, timeout => 3), 'proxy slow, sync mode: an outage (the watchdog)');
cmp_ok($slowest, '<', 0.5, sprintf('proxy slow, sync mode: no request '
       . 'waited (slowest %.3f s)', $slowest));
unlink $t->path('redis-proxy.slow');
kill 'TERM', $proxy->{pid};
waitpid $proxy->{pid}, 0;

# errors: a key of the wrong type makes the script fail
ok($t->wait_for(sub { get('/open', '10.1.0.9')->{status} == 200
                      && scalar(() = $redis->keys_of('open')) >= 3 },
                timeout => 6), 'errors: a key in Redis');
my ($key) = grep { /\x0a\x01\x00\x09\z/ } $redis->keys_of('open');
$redis->cmd('DEL', $key);
$redis->cmd('SET', $key, 'not a bucket');
is(get('/open', '10.1.0.9')->{status}, 200,
   'errors: fail=open answers from the local bucket');
(my $ckey = $key) =~ s/^compliance:open:/compliance:closed:/;
$redis->cmd('SET', $ckey, 'not a bucket');
$r = get('/closed', '10.1.0.9');
is($r->{status}, 503, 'errors: fail=closed refuses');
like($t->error_log, qr/of zone "open" answered "[^"]*WRONGTYPE/,
     'errors: the error reply is logged');
is(get('/closed', '10.1.0.10')->{status}, 200,
   'errors: only that key is affected');

$t->finish;
$redis->stop;
