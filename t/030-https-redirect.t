#!/usr/bin/perl
# compliance_https_redirect: 301 for GET/HEAD, 308 otherwise, path and
# query kept byte for byte; port=; the Location's host (the client's only
# when the server owns it, else its first plain name, else its address);
# config-time refusals.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::IP;
use Test::Compliance;

my $t = Test::Compliance->new;

# an IPv6 listener where the loopback has ::1
my $v6 = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0,
                             Proto => 'tcp', Listen => 1);
my $v6_server = $v6 ? <<'EOF' : '';
    server {
        listen [::1]:%%PORT_6%%;
        compliance_https_redirect on port=8443;
    }
EOF
undef $v6;

$t->write_config(<<'EOF' =~ s/%%V6_SERVER%%/$v6_server/r);
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_0%%;
        server_name fallback.example api.example *.tenants.example;

        compliance on;
        compliance_https_redirect on;

        location / {
            return 200 "never on plain HTTP\n";
        }

        location /public {
            compliance_public "redirected all the same";
            return 200 "never\n";
        }

        location /exempt {
            compliance off;
            compliance_https_redirect off;
            return 200 "plain ok\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        server_name localhost;
        compliance_https_redirect on port=8443;
    }

    server {
        listen 127.0.0.1:%%PORT_2%%;
        server_name localhost;
        compliance_https_redirect on port=443;
    }

    # no usable name: only a regex
    server {
        listen 127.0.0.1:%%PORT_3%%;
        server_name ~^api[0-9]+\.example\$;
        compliance_https_redirect on;
    }

    # a catch-all "_" is no host name; the next plain name is used
    server {
        listen 127.0.0.1:%%PORT_4%%;
        server_name _ ~^x *.wild.example api2.example;
        compliance_https_redirect on;
    }

    server {
        listen 127.0.0.1:%%PORT_5%%;
        server_name _;
        compliance_https_redirect on;
    }

%%V6_SERVER%%
}
EOF

$t->run;

my $uri = '/api/v1/orders/%2Fx?page=2&q=a%20b&sort=';

for my $m (qw(GET HEAD)) {
    my $r = $t->http(method => $m, uri => $uri,
                     headers => [['Host', 'api.example']]);
    is($r->{status}, 301, "$m gets 301");
    is($r->{header}->('location'), "https://api.example$uri",
       "$m: path and query kept");
}

for my $m (qw(POST PUT PATCH DELETE OPTIONS)) {
    my $r = $t->http(method => $m, uri => $uri, body => 'x=1',
                     headers => [['Host', 'api.example']]);
    is($r->{status}, 308, "$m gets 308");
    is($r->{header}->('location'), "https://api.example$uri",
       "$m: path and query kept");
}

my $r = $t->http(uri => '/public?x=1', headers => [['Host', 'api.example']]);
is($r->{status}, 301, 'public locations are redirected too');
unlike($r->{body}, qr/never/, 'no content over plain HTTP');

$r = $t->http(uri => '/exempt');
is($r->{status}, 200, 'compliance_https_redirect off in a location');

$r = $t->http(uri => '/p?a=1', headers => [['Host', 'api.example:8080']]);
is($r->{header}->('location'), 'https://api.example/p?a=1',
   'the client port is not carried over');

$r = $t->http(raw => "GET /old HTTP/1.0\r\n\r\n");
is($r->{status}, 301, 'HTTP/1.0 without Host');
is($r->{header}->('location'), 'https://fallback.example/old',
   'server_name used without Host');

$r = $t->http(port => $t->port(1), uri => '/x?y',
              headers => [['Host', 'localhost']]);
is($r->{header}->('location'), 'https://localhost:8443/x?y', 'port=8443');

$r = $t->http(port => $t->port(2), uri => '/x',
              headers => [['Host', 'localhost']]);
is($r->{header}->('location'), 'https://localhost/x', 'port=443 omitted');

# --- the Location never takes a Host the server does not own
$r = $t->http(uri => '/x', headers => [['Host', 'evil.example']]);
is($r->{status}, 301, 'a foreign Host: still redirected');
is($r->{header}->('location'), 'https://fallback.example/x',
   'to the server\'s first name, not to the Host');

$r = $t->http(uri => '/x', headers => [['Host', 'a.tenants.example']]);
is($r->{header}->('location'), 'https://a.tenants.example/x',
   'a Host under a wildcard server_name is kept');

$r = $t->http(uri => '/x', headers => [['Host', 'tenants.example.evil']]);
is($r->{header}->('location'), 'https://fallback.example/x',
   'a Host that only contains a name is not');

$r = $t->http(uri => '/x', headers => [['Host', 'xtenants.example']]);
is($r->{header}->('location'), 'https://fallback.example/x',
   'nor one that only ends like it');

$r = $t->http(port => $t->port(3), uri => '/x',
              headers => [['Host', 'evil.example']]);
is($r->{header}->('location'), 'https://127.0.0.1/x',
   'no usable name: the address the client connected to');

$r = $t->http(port => $t->port(4), uri => '/x',
              headers => [['Host', 'evil.example']]);
is($r->{header}->('location'), 'https://api2.example/x',
   'the first plain host name, not "_", a regex or a wildcard');

$r = $t->http(port => $t->port(5), uri => '/x',
              headers => [['Host', 'evil.example']]);
is($r->{header}->('location'), 'https://127.0.0.1/x',
   'server_name _ only: the address');

SKIP: {
    skip 'no IPv6 loopback', 1 unless $v6_server;

    my $s = IO::Socket::IP->new(PeerHost => '::1', PeerPort => $t->port(6),
                                Proto => 'tcp', Timeout => 5)
        or die "connect [::1]: $!";
    print $s "GET /x HTTP/1.0\r\nHost: evil.example\r\n\r\n";
    my $resp = do { local $/; <$s> } // '';
    like($resp, qr{^Location: https://\[::1\]:8443/x\r$}m,
         'an IPv6 address in brackets');
}

# --- refusals
my @bad = (
    [ 'compliance_https_redirect yes;',
      qr/invalid value "yes" in "compliance_https_redirect"/ ],
    [ 'compliance_https_redirect on port=0;',
      qr/invalid port in "port=0" of "compliance_https_redirect"/ ],
    [ 'compliance_https_redirect on port=70000;',
      qr/invalid port in "port=70000" of "compliance_https_redirect"/ ],
    [ 'compliance_https_redirect on to=8443;',
      qr/invalid parameter "to=8443" in "compliance_https_redirect"/ ],
);

$t->config_refusals(\@bad);

$t->finish;
