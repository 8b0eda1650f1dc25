#!/usr/bin/perl
# compliance-audit verify: a file that does not start the chain (seq 1)
# fails unless the caller anchors it, with --prev HEX or an explicit
# --continuation.  Covers a deleted head, an edited first record of a
# rotated file, and a one-record file checked with the wrong key.

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
my $other = genkey($t, 'other.key');

chained_public_config($t, $keyfile, "anchor test");

$t->run;
$t->http(uri => "/r/$_") for 1 .. 10;
$t->stop;

my @lines = split /^/m, $t->read_file('logs/audit.jsonl');
is(scalar @lines, 10, 'ten chained records');

sub chain_of { ($_[0] =~ /"chain":"([0-9a-f]{64})"/)[0] }

sub verify {
    my ($key, $content, @opt) = @_;
    my $f = $t->write_file('check.jsonl', $content);
    my $out = `$audit verify --key $key @opt $f 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = verify($keyfile, join('', @lines));
is($rc, 0, 'the whole trail verifies') or diag($out);
is($out, "OK 10 records\n", 'OK line unchanged for a trail from seq 1');

# the head deleted: nothing proves what the first records were
my $headless = join('', @lines[1 .. 9]);
($rc, $out) = verify($keyfile, $headless);
is($rc, 1, 'a file starting at seq 2 fails without an anchor');
like($out, qr/^line 1: the file starts at seq 2, not 1/m,
     'names line 1 and the missing head');
like($out, qr/--prev HEX/, 'says how to anchor it');

($rc, $out) = verify($keyfile, $headless, '--prev', chain_of($lines[0]));
is($rc, 0, 'anchored with --prev it verifies') or diag($out);
is($out, "OK 9 records\n", 'anchored OK line');

($rc, $out) = verify($keyfile, $headless, '--continuation');
is($rc, 0, '--continuation accepts an unchecked head') or diag($out);
like($out, qr/^OK 9 records \(head unanchored at seq 2\)$/m,
     'the OK line says the head is unanchored');

# the first record of a rotated file edited
(my $edited = $lines[1]) =~ s/"status":200/"status":204/;
my $rotated = join('', $edited, @lines[2 .. 9]);
($rc, $out) = verify($keyfile, $rotated);
is($rc, 1, 'edited head of a rotated file fails without an anchor');
($rc, $out) = verify($keyfile, $rotated, '--prev', chain_of($lines[0]));
is($rc, 1, 'edited head fails against its anchor');
like($out, qr/^line 1: chain mismatch/m, 'as a chain mismatch on line 1');

# one record, wrong key: must not pass as "OK 1 records"
($rc, $out) = verify($other, $lines[4]);
is($rc, 1, 'a one-record file with the wrong key fails');
($rc, $out) = verify($other, $lines[4], '--prev', chain_of($lines[3]));
is($rc, 1, 'and fails anchored, as a chain mismatch');
like($out, qr/chain mismatch/, 'wrong key named as a chain mismatch');
($rc, $out) = verify($keyfile, $lines[4], '--prev', chain_of($lines[3]));
is($rc, 0, 'the right key and anchor verify the one record') or diag($out);

# the two anchors exclude each other: a usage error
($rc, $out) = verify($keyfile, $headless, '--continuation', '--prev',
                     chain_of($lines[0]));
is($rc, 2, '--prev with --continuation is a usage error');

$t->finish;
