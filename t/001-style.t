#!/usr/bin/perl

# nginx code style, mechanically checkable part, for every C source of the
# repository: no tab, no line over 80 columns, no // comment, no trailing
# whitespace, a final newline.  One test per file; problems go to diag.
#
#   prove t/001-style.t                      all tracked and new C files
#   perl t/001-style.t path/a.c path/b.h     just these files

use FindBin;
use lib "$FindBin::Bin/lib";

use strict;
use warnings;

use Test::More;

use Test::Compliance;

my $root = Test::Compliance::repo_root();
my @files;

if (@ARGV) {
    @files = map { [ $_, $_ ] } @ARGV;

} else {
    @files = map { [ "$root/$_", $_ ] } Test::Compliance::c_sources($root);
}

plan skip_all => 'no C sources found' unless @files;

my $max = 30;

for my $f (@files) {
    my ($path, $name) = @$f;
    my @p = Test::Compliance::style_problems($path, $name);

    ok(!@p, "style: $name") or do {
        my @show = @p > $max ? (@p[0 .. $max - 1],
            '... and ' . (@p - $max) . ' more') : @p;
        diag(join "\n", @show);
    };
}

done_testing();
