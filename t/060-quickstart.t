#!/usr/bin/perl
# examples/quickstart.conf as `./build.sh run` serves it: the runner
# prepares certificates, a demo API key and a demo JWT, and nginx -t
# accepts the result.  (The fixed ports are not bound here.)

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Test::Compliance;

my $top = Test::Compliance->repo_root;
my $dir = tempdir('compliance-qs-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# under ./build.sh asan the module needs the sanitizer runtime in nginx
local $ENV{LD_PRELOAD} = $ENV{COMPLIANCE_ASAN_LIB}
    if $ENV{COMPLIANCE_ASAN_LIB};
local $ENV{ASAN_OPTIONS} = $ENV{ASAN_OPTIONS}
    // 'detect_leaks=0:abort_on_error=0';

my $out = `$top/examples/run-quickstart.sh --check $top $dir 2>&1`;
is($? >> 8, 0, 'quickstart prepared and nginx -t passes') or diag($out);

like($out, qr/^  (ck_[a-z2-7]{12}_[A-Za-z0-9_-]{43})$/m, 'a demo API key');
like($out, qr/^  eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/m,
     'a demo JWT');
like($out, qr/curl -ki https:\/\/127\.0\.0\.1:8443\/api\/orders -H/,
     'ready-to-paste curl lines');

ok(-f "$dir/api-keys.txt" && !((stat "$dir/api-keys.txt")[2] & 0007),
   'the key file is not readable by others');
my ($key) = $out =~ /^  (ck_\S+)$/m;
unlike(`cat $dir/api-keys.txt`, qr/\Q$key\E/,
       'the key file holds no key, only its hash');

done_testing;
