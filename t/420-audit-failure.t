#!/usr/bin/perl
# compliance_audit_failure: a full disk (/dev/full) under "open" keeps
# serving and writes a gap record once a writable path returns via
# reload; under "closed" requests get 503 while the trail cannot be
# written.  The chain still verifies across the gap.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;

plan skip_all => '/dev/full not available' unless -c '/dev/full';

my $t = Test::Compliance->new;
my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';
my $keyfile = $t->path('chain.key');
system("$bin/compliance-vault genkey $keyfile 2>/dev/null") == 0
    or die "genkey failed";

my $conf = <<"EOF";
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_audit_chain $keyfile;
    compliance_audit_log TARGET;
    compliance_audit_failure POLICY;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location / {
            compliance_public "failure test";
            return 200 "ok\\n";
        }
    }
}
EOF

sub config {
    my ($target, $policy) = @_;
    my $c = $conf;
    $c =~ s/TARGET/$target/;
    $c =~ s/POLICY/$policy/;
    $t->write_config($c);
}

# --- open: a full disk never stops the service
config('/dev/full', 'open');
$t->run;

my $ok = 0;
$ok += ($t->http(uri => "/full/$_")->{status} // 0) == 200 for 1 .. 5;
is($ok, 5, 'open: requests served while the trail cannot be written');
$t->wait_for(sub { $t->error_log =~ /cannot write to "\/dev\/full"/ },
             timeout => 3);
like($t->error_log, qr/\[error\].*cannot write to "\/dev\/full"/,
     'the write error is logged');
my @errs = $t->error_log =~ /cannot write to/g;
is(scalar @errs, 1, 'write-error messages are rate-limited');

# a writable path returns via reload
config('logs/audit.jsonl', 'open');
$t->reload;

my $r = $t->http(uri => '/back');
is($r->{status}, 200, 'served after the reload');
$t->wait_for(sub { ($t->read_file('logs/audit.jsonl') // '') =~ /back/ },
             timeout => 3);

my @recs = map { decode_json($_) }
           split /\n/, $t->read_file('logs/audit.jsonl');
is($recs[0]{event}, 'gap', 'the first record is a gap');
is($recs[0]{lost_records}, 5, 'it counts the five lost records');
is($recs[0]{severity}, 'critical', 'gap severity');
is($recs[1]{path}, '/back', 'then the request itself');

my $out = `cd ${\ $t->prefix} && $bin/compliance-audit verify --key $keyfile logs/audit.jsonl 2>&1`;
is($? >> 8, 0, 'the chain verifies across the gap') or diag($out);

$t->stop;

# --- closed: no service without a trail
config('/dev/full', 'closed');
$t->run;

$r = $t->http(uri => '/first');
$t->wait_for(sub { $t->error_log =~ /cannot write to "\/dev\/full"/ },
             timeout => 3);

$r = $t->http(uri => '/second');
is($r->{status}, 503, 'closed: 503 once the trail cannot be written');
is($r->{header}->('content-type'), 'application/problem+json',
   'problem+json');
is(decode_json($r->{body})->{reason}, 'audit_unavailable', 'reason');
like($r->{header}->('x-request-id') // '', qr/^[0-9a-f-]{36}$/,
     'request id on the 503');

config('logs/audit.jsonl', 'closed');
$t->reload;

# the first request after the reload finds the flag still set and is
# refused; its record is written, which clears the flag
$t->http(uri => '/probe');
$r = $t->http(uri => '/recovered');
is($r->{status}, 200, 'closed: served again once the trail is writable');

$t->finish;
