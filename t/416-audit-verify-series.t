#!/usr/bin/perl
# compliance-audit verify over a rotated series: after two renames and
# USR1 reopens, "verify --key K a.2 a.1 a" checks the chain running from
# one file into the next; the series out of order, with a file missing
# from the middle, or with the last file's tail cut (checkpoints) fails,
# naming the file.

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

chained_public_config($t, $keyfile, "series test");

$t->run;

my $file = $t->path('logs/audit.jsonl');

sub count_lines {
    my ($f) = @_;
    open my $fh, '<', $f or return 0;
    my $n = () = <$fh>;
    return $n;
}

$t->http(uri => "/a/$_") for 1 .. 5;
ok($t->wait_for(sub { count_lines($file) == 5 }), 'five records');
rename($file, "$file.2") or die "rename: $!";
$t->reopen;

$t->http(uri => "/b/$_") for 1 .. 4;
ok($t->wait_for(sub { count_lines($file) == 4 }), 'four more after USR1');
rename($file, "$file.1") or die "rename: $!";
$t->reopen;

$t->http(uri => "/c/$_") for 1 .. 3;
ok($t->wait_for(sub { count_lines($file) == 3 }), 'three in the new file');
$t->stop;

sub verify {
    my (@args) = @_;
    my $out = `$audit verify --key $keyfile @args 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = verify("$file.2", "$file.1", $file);
is($rc, 0, 'the series in order verifies') or diag($out);
like($out, qr/^OK 12 records in 3 files$/m, 'OK 12 records in 3 files');

($rc, $out) = verify("$file.2");
is($rc, 0, 'the oldest file alone verifies (it starts the chain)');

($rc, $out) = verify("$file.1", "$file.2", $file);
is($rc, 1, 'out of order: refused');
like($out, qr/the file starts at seq 6, not 1/, 'names the missing head');

($rc, $out) = verify("$file.2", $file, "$file.1");
is($rc, 1, 'files swapped: refused');
like($out, qr/seq 10 where 6 was expected \(records missing\)/,
     'names the gap');
like($out, qr/\(in "\Q$file\E"\)/, 'and the file');

($rc, $out) = verify("$file.2", $file);
is($rc, 1, 'a file missing from the middle: refused');
like($out, qr/records missing/, 'records missing');

# the last file without its last record, checked against checkpoints
my @last = split /^/m, $t->read_file('logs/audit.jsonl');
my $cut = $t->write_file('cut.jsonl', join '', @last[0 .. $#last - 1]);
my ($seq, $chain) = $last[-1] =~ /"seq":(\d+).*"chain":"([0-9a-f]{64})"/;
my $cp = $t->write_file('cp.log',
    "2026/12/03 06:00:00 [warn] 1#1: compliance audit checkpoint "
    . "seq=$seq chain=$chain\n");
($rc, $out) = verify('--checkpoints', $cp, "$file.2", "$file.1", $cut);
is($rc, 1, 'tail cut from the last file: refused with checkpoints');
like($out, qr/records missing at the end/, 'records missing at the end');

($rc, $out) = verify("$file.2", '--prev', 'x');
is($rc, 2, 'an option after the files: usage error');

$t->finish;
