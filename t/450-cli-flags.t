#!/usr/bin/perl
# Every CLI: --help prints the usage on stdout and exits 0, --version
# prints the version and exits 0, an unknown option is a usage error
# (exit 2, usage on stderr); --list / list print a labelled table; no
# writer leaves a lock file behind (issue 13).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;

my $t = Test::Compliance->new;
my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';

sub run3 {
    my (@cmd) = @_;
    my $out = $t->path('out');
    my $err = $t->path('err');
    system("@cmd >'$out' 2>'$err'");
    return ($? >> 8, $t->read_file('out') // '', $t->read_file('err') // '');
}

for my $c (qw(compliance-audit compliance-keygen compliance-vault)) {
    my ($rc, $out, $err) = run3("$bin/$c", '--help');
    is($rc, 0, "$c --help: exit 0");
    like($out, qr/usage/i, "$c --help: usage on stdout");

    ($rc, $out) = run3("$bin/$c", '--version');
    is($rc, 0, "$c --version: exit 0");
    like($out, qr/^\Q$c\E \(ngx_http_compliance_module\) \d+\.\d+\.\d+$/m,
         "$c --version: name and version");

    ($rc, $out, $err) = run3("$bin/$c", '--no-such-option');
    is($rc, 2, "$c with an unknown option: exit 2");
    like($err, qr/usage/i, "$c with an unknown option: usage on stderr");
}

# labelled lists, and no lock file next to the files the writers replace
my $dir = $t->path('cli');
mkdir $dir or die "mkdir $dir: $!";

my ($rc, $out, $err) = run3("$bin/compliance-keygen", '--file', "$dir/keys",
                            '--principal', 'alice', '--scopes', 'a,b');
is($rc, 0, 'keygen: a key is created') or diag($err);

($rc, $out) = run3("$bin/compliance-keygen", '--file', "$dir/keys",
                   '--principal', 'bob');
is($rc, 0, 'keygen: a second key');

($rc, $out) = run3("$bin/compliance-keygen", '--file', "$dir/keys", '--list');
my @lines = split /\n/, $out;
is($lines[0], join("\t", qw(ID PRINCIPAL ORG SCOPES ALLOW EXPIRES)),
   'keygen --list: a header line names the columns');
is(scalar @lines, 3, 'keygen --list: then one line per key');
like($lines[1], qr/^\w{12}\talice\t-\ta,b\t-\t-$/,
     'keygen --list: the fields under their labels');

my ($id) = $lines[2] =~ /^(\w+)\tbob\t/;
($rc) = run3("$bin/compliance-keygen", '--file', "$dir/keys", '--revoke', $id);
is($rc, 0, 'keygen --revoke');

($rc, $out, $err) = run3("$bin/compliance-vault", 'genkey', "$dir/vault.key");
is($rc, 0, 'vault genkey') or diag($err);
($rc, $out, $err) = run3("echo -n s3cr3t-value |", "$bin/compliance-vault",
                         '--vault', "$dir/vault", '--key', "$dir/vault.key",
                         'set', 'db');
is($rc, 0, 'vault set') or diag($err);
($rc, $out) = run3("$bin/compliance-vault", '--vault', "$dir/vault", '--key',
                   "$dir/vault.key", 'list');
like($out, qr/\ANAME\tCREATED\tAGE\ndb\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\t0d\n\z/,
     'vault list: a header line, then name, creation time and age');
($rc) = run3("$bin/compliance-vault", '--vault', "$dir/vault", '--key',
             "$dir/vault.key", 'remove', 'db');
is($rc, 0, 'vault remove');

opendir(my $dh, $dir) or die "opendir $dir: $!";
my @left = sort grep { !/^\.\.?$/ } readdir $dh;
closedir $dh;
is_deeply(\@left, [qw(keys vault vault.key)],
          'no lock or temporary file left behind');

$t->finish;
