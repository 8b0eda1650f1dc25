#!/usr/bin/perl
# ./build.sh while nginx runs the module (the README's tour: leave
# ./build.sh run running, build in another terminal) installs the new
# .so by renaming a new file over the old one: the running workers keep
# their mapping and go on serving; writing into the loaded file in place
# killed every one of them with SIGSEGV (issue 13).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;

my $t = Test::Compliance->new;
my $top = $t->repo_root;
my $so = "$top/build/ngx_http_compliance_module.so";

plan skip_all => 'the module under test is not build/'
    . 'ngx_http_compliance_module.so (asan, or another build)'
    unless ($ENV{COMPLIANCE_MODULE} // $so) eq $so && -f $so;

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT_0%%;
        compliance on;
        location / {
            compliance_public "build test";
            return 200 "ok\n";
        }
    }
}
EOF

$t->run;

my @w = $t->worker_pids;
my $ino = (stat $so)[1];
is($t->http(uri => '/')->{status}, 200, 'served before the build');

my $out = `cd '$top' && ./build.sh 2>&1`;
is($? >> 8, 0, './build.sh succeeded') or diag($out);

isnt((stat $so)[1], $ino, 'the .so was replaced by a new file (rename)');
is_deeply([ $t->worker_pids ], \@w, 'the same workers are alive');
is($t->http(uri => '/')->{status}, 200, 'and still serve');

$t->finish;
