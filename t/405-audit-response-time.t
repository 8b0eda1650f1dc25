#!/usr/bin/perl
# response_time_ms is milliseconds: a request that a slow backend keeps
# for 1.2 s is recorded as about 1200, not 1.2 (issue 13).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use JSON::PP;
use Test::Compliance;

my $t = Test::Compliance->new;

# a backend that answers each request after 1.2 s
my $listen = IO::Socket::INET->new(
    Proto => 'tcp', LocalAddr => '127.0.0.1:' . $t->port(1), Listen => 8,
    ReuseAddr => 1) or die "listen: $!";

my $pid = fork // die "fork: $!";
if ($pid == 0) {
    while (my $c = $listen->accept) {
        my $req = '';
        while (<$c>) {
            $req .= $_;
            last if /^\r?\n$/;
        }
        select(undef, undef, undef, 1.2);
        print {$c} "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
            . "Connection: close\r\n\r\nslow\n";
        close $c;
    }
    exit 0;
}
close $listen;

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance on;
    compliance_audit_log %%PREFIX%%/logs/audit.jsonl;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location /slow {
            compliance_public "response time test";
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /fast {
            compliance_public "response time test";
            return 200 "fast\n";
        }
    }
}
EOF

$t->run;

my $r = $t->http(uri => '/slow');
is($r->{status}, 200, 'the slow backend answered');
$r = $t->http(uri => '/fast');
is($r->{status}, 200, 'a fast request');

$t->stop;
kill 'TERM', $pid;
waitpid $pid, 0;

my @rec = map { decode_json($_) } split /\n/,
    $t->read_file('logs/audit.jsonl') // '';
is(scalar @rec, 2, 'two records');

my ($slow) = grep { $_->{path} eq '/slow' } @rec;
my ($fast) = grep { $_->{path} eq '/fast' } @rec;

cmp_ok($slow->{response_time_ms}, '>=', 1150, 'slow: at least 1150 ms');
cmp_ok($slow->{response_time_ms}, '<', 5000,
       "slow: $slow->{response_time_ms} ms, not seconds");
cmp_ok($fast->{response_time_ms}, '<', 1000, 'fast: under a second');
like($t->read_file('logs/audit.jsonl'), qr/"response_time_ms":\d+\.000,/,
     'written with 3 decimals');

$t->finish;
