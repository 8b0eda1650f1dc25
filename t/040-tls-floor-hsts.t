#!/usr/bin/perl
# compliance_tls_min (403 tls_too_old) and compliance_hsts (HTTPS only,
# every status, exact header text).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;

my $t = Test::Compliance->new;
my ($crt, $key) = $t->make_cert('server');

$t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_hsts max-age=31536000 includeSubDomains;

    server {
        listen 127.0.0.1:%%PORT_0%% ssl;
        listen 127.0.0.1:%%PORT_1%%;

        ssl_certificate $crt;
        ssl_certificate_key $key;
        ssl_protocols TLSv1.2 TLSv1.3;

        compliance_tls_min TLSv1.3;

        location / {
        }

        location = /ok {
            compliance_public "test";
            return 200 "ok\\n";
        }

        location = /missing {
            compliance_public "test";
        }

        location = /bad-gateway {
            compliance_public "test";
            proxy_pass http://127.0.0.1:%%PORT_4%%;
        }

        location = /upstream {
            compliance_public "test";
            proxy_pass http://127.0.0.1:%%PORT_3%%/sts;
        }

        location = /tls12 {
            compliance_public "test";
            compliance_tls_min TLSv1.2;
            compliance_hsts max-age=63072000 includeSubDomains preload;
            return 200 "tls12 ok\\n";
        }

        location = /short {
            compliance_public "test";
            compliance_tls_min TLSv1.2;
            compliance_hsts max-age=300;
            return 200 "short\\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_3%%;
        compliance off;

        location /sts {
            add_header Strict-Transport-Security "max-age=0";
            return 200 "upstream\\n";
        }
    }
}
EOF

$t->run;

my $HSTS = 'max-age=31536000; includeSubDomains';

# --- TLS floor
my $r = $t->https(uri => '/ok', ssl_version => 'TLSv1_3');
is($r->{status}, 200, 'TLSv1.3 client served');

$r = $t->https(uri => '/ok', ssl_version => 'TLSv1_2');
ok($r, 'TLSv1.2 handshake itself succeeds');
is($r->{status}, 403, 'TLSv1.2 client refused under compliance_tls_min TLSv1.3');
is($r->{header}->('content-type'), 'application/problem+json', 'problem+json');
my $p = decode_json($r->{body});
is($p->{reason}, 'tls_too_old', 'reason tls_too_old');
is($p->{title}, 'Forbidden', 'title');
is($r->{header}->('strict-transport-security'), $HSTS, 'HSTS on the 403');

$r = $t->https(uri => '/protected', ssl_version => 'TLSv1_2');
is($r->{status}, 403, 'floor checked before authentication');

$r = $t->https(uri => '/tls12', ssl_version => 'TLSv1_2');
is($r->{status}, 200, 'TLSv1.2 accepted where the floor is TLSv1.2');

$r = $t->http(port => $t->port(1), uri => '/ok');
is($r->{status}, 403, 'plain HTTP is below any TLS floor');
is(decode_json($r->{body})->{reason}, 'tls_too_old', 'reason for plain HTTP');

# --- HSTS on every HTTPS status, never on HTTP
$r = $t->https(uri => '/ok');
is($r->{header}->('strict-transport-security'), $HSTS, 'HSTS on 200');

$r = $t->https(uri => '/missing');
is($r->{status}, 404, 'status 404');
is($r->{header}->('strict-transport-security'), $HSTS, 'HSTS on 404');

$r = $t->https(uri => '/bad-gateway');
is($r->{status}, 502, 'status 502');
is($r->{header}->('strict-transport-security'), $HSTS, 'HSTS on 502');

$r = $t->https(uri => '/protected');
is($r->{status}, 401, 'status 401');
is($r->{header}->('strict-transport-security'), $HSTS, 'HSTS on 401');

$r = $t->https(uri => '/upstream');
my @sts = @{ $r->{headers}{'strict-transport-security'} || [] };
is_deeply(\@sts, [$HSTS], 'upstream HSTS replaced by ours, once');

$r = $t->https(uri => '/tls12');
is($r->{header}->('strict-transport-security'),
   'max-age=63072000; includeSubDomains; preload', 'preload text');

$r = $t->https(uri => '/short');
is($r->{header}->('strict-transport-security'), 'max-age=300',
   'max-age only');

for my $u (qw(/ok /missing /protected)) {
    $r = $t->http(port => $t->port(1), uri => $u);
    is($r->{header}->('strict-transport-security'), undef,
       "no HSTS over HTTP ($u)");
}

# --- refusals
my @bad = (
    [ 'compliance_tls_min TLSv1.1;',
      qr/invalid value "TLSv1.1" in "compliance_tls_min"/ ],
    [ 'compliance_tls_min tlsv1.3;',
      qr/invalid value "tlsv1.3" in "compliance_tls_min"/ ],
    [ 'compliance_hsts 31536000;',
      qr/invalid parameter "31536000" in "compliance_hsts"/ ],
    [ 'compliance_hsts max-age=soon;',
      qr/invalid max-age in "max-age=soon" of "compliance_hsts"/ ],
    [ 'compliance_hsts max-age=60 includesubdomains;',
      qr/invalid parameter "includesubdomains" in "compliance_hsts"/ ],
    [ 'compliance_hsts max-age=31536000 preload;',
      qr/"preload" in "compliance_hsts" requires "includeSubDomains"/ ],
    [ 'compliance_hsts max-age=600 includeSubDomains preload;',
      qr/max-age of at least 31536000/ ],
);

$t->config_refusals(\@bad);

$t->finish;
