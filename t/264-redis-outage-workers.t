#!/usr/bin/perl
# SPEC 15, one node's outage across its workers (docs/fleet.md "One
# alert record per outage and zone"): 2 workers reach a real
# redis-server through a proxy that can cut every connection and then
# let exactly one reconnect through.  With one worker back and the
# other still falling back, the outage goes on: no "is back" line, the
# gauge stays 1, no second alert record.  It ends when the last worker
# is back, with one "is back" line; the next cut is a second outage.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Test::Compliance;
use Test::ComplianceRedis;

my $t = Test::Compliance->new;

my $redis = Test::ComplianceRedis->new(t => $t, port => $t->port(1));
my $rport = $redis->{port};
my $pport = $t->port(2);
my $proxy = Test::ComplianceRedis->proxy($t, $pport, $rport, 0);

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;
events {
    accept_mutex off;
}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_audit_log %%PREFIX%%/logs/audit.log;

    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;

    compliance_limit_zone fleet 1m redis=127.0.0.1:%%PORT_2%% fail=open;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location /lim {
            compliance_public "outage test";
            compliance_limit zone=fleet rate=6000r/m burst=1000 key=ip;
            add_header X-Worker $pid always;
            return 200 "lim\n";
        }

        location = /metrics {
            compliance_public "metrics of the test";
            compliance_status;
        }
    }
}
EOF

$t->run;

my $loads = sub { $redis->calls('script|load') };

ok($t->wait_for(sub { $loads->() >= 2 }, timeout => 6),
   'both workers loaded the script through the proxy');

sub gate {
    my ($mode) = @_;

    $t->write_file('redis-proxy.gate', "$mode\n");
}

sub metric {
    my ($name) = @_;

    my $m = $t->http(uri => '/metrics')->{body} // '';

    return $m =~ /^compliance_limit_redis_\Q$name\E\{zone="fleet"\} (\d+)$/m
           ? $1 : undef;
}

sub alerts {
    my $log = -e $t->path('logs/audit.log')
              ? $t->read_file('logs/audit.log') : '';

    return scalar grep { /"event":"alert"/ && /"reason":"limits_unavailable"/ }
                  split /\n/, $log;
}

sub count_log {
    my ($re) = @_;

    return scalar(() = $t->error_log =~ /$re/g);
}

my $down_re = qr/Redis 127\.0\.0\.1:$pport of zone "fleet": [^\n]*fall back to the local buckets/;
my $back_re = qr/Redis 127\.0\.0\.1:$pport of zone "fleet" is back/;

# requests, one connection each, until both workers have answered
# (at most 60): the statuses and the workers seen
sub both_workers {
    my %pids;
    my @st;

    for my $i (1 .. 60) {
        my $r = $t->http(uri => '/lim',
                         headers => [[ 'X-Forwarded-For', '10.2.0.1' ]]);
        push @st, $r->{status} // 'none';
        my $w = $r->{header}->('X-Worker');
        $pids{$w} = 1 if defined $w;
        last if keys %pids >= 2 && $i >= 4;
    }

    return (scalar(keys %pids), @st);
}

my ($n, @st) = both_workers();
is($n, 2, 'Redis up: both workers answered');
is((grep { $_ ne '200' } @st), 0, 'Redis up: all admitted');
is(metric('outage'), 0, 'Redis up: no outage');
is(alerts(), 0, 'Redis up: no alert record');

# the proxy cuts both connections and refuses every reconnect
gate('drop');
ok($t->wait_for(sub { count_log($down_re) >= 2 }, timeout => 6),
   'cut: each worker logs its connection going');
($n, @st) = both_workers();
is($n, 2, 'cut: both workers answered');
is((grep { $_ ne '200' } @st), 0, 'cut, fail=open: the local buckets admit');
is(metric('outage'), 1, 'cut: the outage runs');
is(metric('outages_total'), 1, 'cut: one outage');
is(alerts(), 1, 'cut: one alert record for the node');
is(count_log($down_re), 2, 'cut: one line per worker, not one per retry');

# one reconnect passes; the other worker's next attempt is refused
my ($passed0) = Test::ComplianceRedis->proxy_stats($proxy);
gate('one');
ok($t->wait_for(sub {
       (Test::ComplianceRedis->proxy_stats($proxy))[0] > $passed0
   }, timeout => 6), 'one: a worker reconnected');
my (undef, $refused1) = Test::ComplianceRedis->proxy_stats($proxy);
ok($t->wait_for(sub {
       (Test::ComplianceRedis->proxy_stats($proxy))[1] > $refused1
   }, timeout => 6), 'one: the other worker is still refused');
is(count_log($back_re), 0, 'one worker back: no "is back" line yet');
is(metric('outage'), 1, 'one worker back: the outage goes on');
my $fallbacks = metric('fallbacks_total');
($n, @st) = both_workers();
is($n, 2, 'one worker back: both workers answered');
is((grep { $_ ne '200' } @st), 0, 'one worker back: all admitted');
cmp_ok(metric('fallbacks_total'), '>', $fallbacks,
       'one worker back: the other one still decides locally');
is(alerts(), 1, 'one worker back: still one alert record');
is(metric('outages_total'), 1, 'one worker back: still one outage');

# every reconnect passes: the last worker back ends the outage
gate('open');
ok($t->wait_for(sub { count_log($back_re) >= 1 }, timeout => 6),
   'open: the outage ends');
sleep 0.3;
is(count_log($back_re), 1, 'open: one "is back" line for the node');
like($t->error_log, qr/$back_re \(outages 1,/,
     'open: logged with the outage count');
is(metric('outage'), 0, 'open: the gauge is back to 0');
my $f = metric('fallbacks_total');
($n, @st) = both_workers();
is($n, 2, 'open: both workers answered');
is(metric('fallbacks_total'), $f, 'open: no worker falls back');

# the next cut is a second outage, with its own alert
gate('drop');
ok($t->wait_for(sub { count_log($down_re) >= 4 }, timeout => 6),
   'second cut: each worker logs it');
both_workers();
is(metric('outages_total'), 2, 'second cut: a second outage');
is(alerts(), 2, 'second cut: a second alert record');
gate('open');
ok($t->wait_for(sub { count_log($back_re) >= 2 }, timeout => 6),
   'second cut: it ends');
is(metric('outage'), 0, 'second cut: the gauge is back to 0');

kill 'TERM', $proxy->{pid};
waitpid $proxy->{pid}, 0;
$t->finish;
$redis->stop;
