#!/usr/bin/perl
# SPEC 15: the fleet's buckets run on Redis' clock (TIME), so nodes with
# skewed clocks agree.  Instance b runs under faketime at 4x speed: its
# local zone refills four times too fast (the control), while the Redis
# zone it shares with instance a refills at the real rate.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Test::Compliance;
use Test::ComplianceRedis;

my ($faketime) = grep { -x } map { "$_/faketime" } split /:/, $ENV{PATH} // '';
plan skip_all => 'faketime is not installed (./build.sh installs it)'
    unless $faketime;
# libfaketime and a preloaded sanitizer runtime (./build.sh asan) hang
# together; valgrind runs one process without the wrapper
plan skip_all => 'not with a preloaded sanitizer runtime or valgrind'
    if $ENV{COMPLIANCE_ASAN_LIB} || $ENV{COMPLIANCE_VALGRIND};

my $a = Test::Compliance->new;

# nginx for instance b, its clock (monotonic and wall) at 4x
my $fast = $a->path('nginx-fast');
$a->write_file('nginx-fast', <<"EOF", 0755);
#!/bin/sh
exec $faketime -f '+0 x4' $a->{nginx} "\$@"
EOF
my $b = Test::Compliance->new(nginx => $fast);

my $redis = Test::ComplianceRedis->new(t => $a, port => $a->port(1));
my $rport = $redis->{port};

my $conf = <<'EOF';
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 1;
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;

    compliance_limit_zone fleet 1m redis=127.0.0.1:REDIS fail=closed;
    compliance_limit_zone local 1m;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location /fleet {
            compliance_public "clock test";
            compliance_limit zone=fleet rate=60r/m burst=5 key=ip;
            return 200 "fleet\n";
        }

        location /local {
            compliance_public "clock test";
            compliance_limit zone=local rate=60r/m burst=5 key=ip;
            return 200 "local\n";
        }
    }
}
EOF
$conf =~ s/REDIS/$rport/g;

for my $t ($a, $b) {
    $t->write_config($conf);
    $t->run;
}

ok($a->wait_for(sub { $redis->calls('script|load') >= 2 }, timeout => 5),
   'both instances loaded the script');

sub granted {
    my ($t, $uri, $n) = @_;

    my $ok = 0;

    for (1 .. $n) {
        my $r = $t->http(uri => $uri,
                         headers => [[ 'X-Forwarded-For', '10.3.0.1' ]]);
        $ok++ if $r && ($r->{status} // 0) == 200;
    }

    return $ok;
}

# the control: b's own clock runs fast
is(granted($b, '/local', 8), 5, 'local zone on b: the burst');
sleep 1.2;
cmp_ok(granted($b, '/local', 8), '>=', 4,
       'local zone on b: 4 tokens back after 1.2 s (4.8 s of its clock)');

# the fleet's bucket on Redis' clock: 1 token a second, whoever asks
is(granted($b, '/fleet', 4) + granted($a, '/fleet', 4), 5,
   'fleet zone: the burst, over both instances');
my $t0 = time;
sleep 1;
my $more = granted($b, '/fleet', 8) + granted($a, '/fleet', 8);
my $dt = time - $t0;
cmp_ok($more, '<=', int($dt) + 1,
       sprintf('fleet zone: %d granted after %.1f s, as Redis\' clock '
               . 'refills, not b\'s', $more, $dt));

$a->finish(done_testing => 0);
$b->finish;
$redis->stop;
