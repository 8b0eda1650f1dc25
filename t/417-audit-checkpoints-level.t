#!/usr/bin/perl
# Chain checkpoints are written to every main-level error log whatever
# its level: with Debian's default "error_log ... error" they are still
# there, so compliance-audit verify --checkpoints still catches records
# cut from the end of the trail (issue 13).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceAudit qw(audit_bin genkey chained_public_config);

my $t = Test::Compliance->new;
my $bin = audit_bin($t);
my $audit = "$bin/compliance-audit";

my $keyfile = genkey($t, 'chain.key');

chained_public_config($t, $keyfile, "checkpoint test",
    main => 'error_log %%PREFIX%%/logs/errors-only.log error;');

$t->run;
$t->http(uri => "/r/$_") for 1 .. 5;
$t->stop;

my $errors = $t->read_file('logs/errors-only.log') // '';
like($errors, qr/\[notice\] \d+#0: compliance audit checkpoint seq=5 chain=[0-9a-f]{64}/,
     'the checkpoint of the last record is in the error-level log');
unlike($errors, qr/\[(?:info|notice)\] (?!\d+#0: compliance audit checkpoint)/,
       'and nothing else below error there');

my $file = $t->path('logs/audit.jsonl');
my $cp = $t->path('logs/errors-only.log');
my $out = `$audit verify --key $keyfile --checkpoints $cp $file 2>&1`;
is($? >> 8, 0, 'the whole trail verifies against them') or diag($out);

my @l = split /^/m, $t->read_file('logs/audit.jsonl');
my $cut = $t->write_file('cut.jsonl', join '', @l[0 .. $#l - 1]);
$out = `$audit verify --key $keyfile --checkpoints $cp $cut 2>&1`;
is($? >> 8, 1, 'a trail with its last record cut fails');
like($out, qr/records missing at the end/, 'records missing at the end');

$t->finish;
