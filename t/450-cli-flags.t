#!/usr/bin/perl
# Every CLI: --help prints the usage on stdout and exits 0, --version
# prints the version and exits 0, an unknown option is a usage error
# (exit 2, usage on stderr) (issue 13).

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

$t->finish;
