#!/usr/bin/perl
# compliance_auth_failure_limit and key=ip with IPv6 clients: an address
# is its /64, so rotating addresses inside one's own prefix does not
# escape a lockout; another /64 is unaffected; IPv4-mapped addresses are
# their IPv4 client.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;

my $t = Test::Compliance->new;
my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';
my $keys = $t->path('keys.txt');
system("$bin/compliance-keygen --file $keys --principal p >/dev/null") == 0
    or die 'keygen failed';

$t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;

    compliance_limit_zone failures 1m;
    compliance_limit_zone perip 1m;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        compliance on;
        compliance_api_keys $keys;
        compliance_auth_failure_limit zone=failures rate=3r/m block=1m;

        location / {
            return 200 "ok\\n";
        }

        location /pub {
            compliance_public "per-address limit";
            compliance_limit zone=perip rate=2r/m key=ip;
            return 200 "pub\\n";
        }
    }
}
EOF

$t->run;

sub from {
    my ($addr, $uri, @h) = @_;
    return $t->http(uri => $uri,
                    headers => [['X-Forwarded-For', $addr], @h]);
}

my $bad = ['X-API-Key', 'ck_aaaaaaaaaaaa_' . 'A' x 43];

# four failures from four addresses of one /64 trip a 3r/m limit
my @r = map { from("2001:db8:1:2::$_", '/x', $bad) } 1 .. 4;
is($r[0]{status}, 401, 'first failure is a 401');

my $r = from('2001:db8:1:2::99', '/x');
is($r->{status}, 429, 'another address of the same /64 is locked out');
is(decode_json($r->{body})->{reason}, 'locked_out', 'reason locked_out');

$r = from('2001:db8:1:3::1', '/x');
is($r->{status}, 401, 'a neighbouring /64 is not');

$r = from('192.0.2.7', '/x');
is($r->{status}, 401, 'an IPv4 client is not');

# key=ip limits see the same /64
is(from('2001:db8:9:9::1', '/pub')->{status}, 200, 'first of the /64');
is(from('2001:db8:9:9::2', '/pub')->{status}, 200, 'second of the /64');
is(from('2001:db8:9:9::3', '/pub')->{status}, 429,
   'third address of the /64 shares the bucket');
is(from('2001:db8:9:a::1', '/pub')->{status}, 200, 'another /64 has its own');

# an IPv4-mapped address is the IPv4 client
is(from('198.51.100.1', '/pub')->{status}, 200, 'IPv4 client');
is(from('::ffff:198.51.100.1', '/pub')->{status}, 200, 'same client, mapped');
is(from('198.51.100.1', '/pub')->{status}, 429, 'one bucket for both forms');

$t->finish;
