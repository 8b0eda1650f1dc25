#!/usr/bin/perl
# compliance_limit under concurrency: 2 workers, 64 connections for 10 s
# (wrk), one key, rate=600r/m burst=10.  A saturated token bucket that
# starts full accepts burst + rate x (time of the last accept - time of
# the first), to within the rounding of one token and the workers'
# cached clocks: checked within +-2.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceAuth qw(keygen);

my ($wrk) = grep { -x } map { "$_/wrk" } split /:/, $ENV{PATH} // '';
plan skip_all => 'wrk is not installed' unless $wrk;

my $t = Test::Compliance->new;

my $file = $t->path('keys.txt');
my $key = keygen($file, '--principal', 'load');

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;
events {
    worker_connections 1024;
    accept_mutex off;
}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_api_keys %%PREFIX%%/keys.txt;
    compliance_limit_zone acc 1m;

    keepalive_requests 1000000;

    map $status $ok {
        200      1;
        default  0;
    }

    log_format ms '$msec';

    server {
        listen 127.0.0.1:%%PORT_0%% reuseport;

        location /acc {
            compliance_limit zone=acc rate=600r/m burst=10;
            access_log %%PREFIX%%/logs/ok.log ms if=$ok;
            return 200 "ok\n";
        }
    }
}
EOF

$t->run;

my $url = 'http://127.0.0.1:' . $t->port(0) . '/acc';
my $out = `$wrk -t2 -c64 -d10s -H 'X-API-Key: $key' --latency $url 2>&1`;

my ($total) = $out =~ /(\d+) requests in/;
my ($non2xx) = $out =~ /Non-2xx or 3xx responses: (\d+)/;
$non2xx //= 0;

ok(defined $total && $total > 1000, 'wrk ran') or diag($out);
$total //= 0;

# the server's own record of every accepted request, to the millisecond
$t->stop;

my @ms = sort { $a <=> $b }
         grep { /^\d+\.\d+$/ } split /\n/, $t->read_file('logs/ok.log') // '';

my $accepted = scalar @ms;
my $elapsed = @ms ? $ms[-1] - $ms[0] : 0;
my $expected = 10 + 10 * $elapsed;

diag(sprintf('wrk: %d requests, %d refused; accepted %d over %.3f s, '
             . 'expected %.1f', $total, $non2xx, $accepted, $elapsed,
             $expected));

cmp_ok($elapsed, '>', 9, 'accepts spread over the whole run');
ok(abs($accepted - $expected) <= 2,
   'accepted = burst + rate x elapsed, within +-2')
    or diag("accepted $accepted, expected $expected");
ok(abs(($total - $non2xx) - $accepted) <= 2,
   'wrk saw the same number of 2xx responses')
    or diag('wrk 2xx: ' . ($total - $non2xx));
cmp_ok($non2xx, '>', $total / 2, 'most requests were refused with 429');

$t->finish;
