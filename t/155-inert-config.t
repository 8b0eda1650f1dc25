#!/usr/bin/perl
# nginx -t refuses configurations that would make a control inert or
# forgeable: an oct JWK whose secret is a public key (RS->HS confusion by
# configuration), two keys under one kid, scopes and limits where
# "compliance" is off, scopes in a public location, an absurd leeway.
# The legitimate neighbours of each case load.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceAuth qw(make_keys oct_jwk jwks b64url);

my $t = Test::Compliance->new;

plan skip_all => 'openssl not available' unless $t->openssl_available;

my $k = make_keys($t, rsa => 'rsa');
my $pem = $k->{rsa}{pem};

my $pub_der = `openssl pkey -pubin -in '$k->{rsa}{pub}' -outform DER 2>/dev/null`;
ok(length $pub_der > 200, 'the public key as DER');

$t->write_file('confused-pem.json',
               jwks(oct_jwk($pem, kid => 'hs')), 0600);
$t->write_file('confused-der.json',
               jwks(oct_jwk($pub_der, kid => 'hs')), 0600);
$t->write_file('dup-kid.json',
               jwks(oct_jwk('a' x 32, kid => 'same'),
                    oct_jwk('b' x 32, kid => 'same')), 0600);
$t->write_file('one.json', jwks(oct_jwk('c' x 32, kid => 'k1')), 0600);
$t->write_file('one-again.json', jwks(oct_jwk('d' x 32, kid => 'k1')), 0600);
$t->write_file('two.json', jwks(oct_jwk('e' x 32, kid => 'k2')), 0600);

sub conf {
    my (%o) = @_;

    $o{$_} //= '' for qw(http server loc);

    return <<"EOF";
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance_limit_zone z 1m;
    $o{http}
    server {
        listen 127.0.0.1:%%PORT_5%%;
        $o{server}
        location /x/ {
            $o{loc}
        }
    }
}
EOF
}

sub refused {
    my ($name, $re, %o) = @_;
    $t->config_refused(conf(%o), $re, $name);
}

sub accepted {
    my ($name, %o) = @_;
    $t->config_accepted(conf(%o), $name);
}

my $on = 'compliance on;';

# --- keys
refused('an oct key whose k is a public key PEM',
        qr/key #0: oct "k" is a public key \(PEM, DER or JWK text\): anyone who has that key could sign tokens/,
        server => "$on compliance_jwt_keys confused-pem.json;");
refused('an oct key whose k is a public key DER',
        qr/oct "k" is a public key/,
        server => "$on compliance_jwt_keys confused-der.json;");
refused('two keys under one kid in a JWKS',
        qr/key #1: "kid" "same" is used by another key of this set/,
        server => "$on compliance_jwt_keys dup-kid.json;");
refused('one kid in two files of one key set',
        qr/"kid" "k1" is used by another key of this set/,
        server => "$on compliance_jwt_keys one.json;"
                  . ' compliance_jwt_keys one-again.json;');
accepted('two files with distinct kids',
         server => "$on compliance_jwt_keys one.json;"
                   . ' compliance_jwt_keys two.json;');
accepted('one kid in two different key sets (server, location)',
         server => "$on compliance_jwt_keys one.json;",
         loc => 'compliance_jwt_keys one-again.json;');

# --- controls where compliance is off
refused('compliance_require_scope in a location under compliance off',
        qr/"compliance_require_scope" in location "\/x\/", where "compliance" is off, would never be enforced/,
        loc => 'compliance_require_scope read;');
refused('compliance_limit in a location under compliance off',
        qr/"compliance_limit" in location "\/x\/", where "compliance" is off/,
        loc => 'compliance_limit zone=z rate=1r/s;');
refused('compliance_auth_failure_limit under compliance off',
        qr/"compliance_auth_failure_limit" in location "\/x\/", where/,
        loc => 'compliance_auth_failure_limit zone=z rate=5r/m;');
refused('a location turning compliance off next to its scopes',
        qr/"compliance_require_scope" in location "\/x\/", where/,
        server => $on, loc => 'compliance off; compliance_require_scope a;');
refused('compliance off and scopes in one server block',
        qr/"compliance_require_scope" in the server block, where/,
        server => 'compliance off; compliance_require_scope read;');
accepted('scopes at server level for locations that turn compliance on',
         server => 'compliance_require_scope read;',
         loc => "$on compliance_jwt_keys one.json;");
accepted('scopes at http level, a server under compliance off',
         http => 'compliance_require_scope read;',
         server => 'compliance off;');

# --- public and scopes
refused('compliance_public and compliance_require_scope in one location',
        qr/"compliance_require_scope" and "compliance_public" in location "\/x\/": a public location checks no scopes/,
        server => $on,
        loc => 'compliance_public "health"; compliance_require_scope a;');
accepted('inherited scopes, a public location',
         server => "$on compliance_jwt_keys one.json;"
                   . ' compliance_require_scope read;',
         loc => 'compliance_public "health";');

# --- leeway
refused('a leeway of 301 seconds',
        qr/"compliance_jwt_leeway" of 301 seconds is over 300: fix the clocks/,
        server => "$on compliance_jwt_leeway 301s;");
refused('a leeway of one year', qr/"compliance_jwt_leeway" of 31536000/,
        server => "$on compliance_jwt_leeway 1y;");
accepted('a leeway of 5 minutes',
         server => "$on compliance_jwt_keys one.json;"
                   . ' compliance_jwt_leeway 5m;');

# --- an API-key header nginx would drop
my $out = $t->config_accepted(conf(server => $on,
    loc => 'compliance_api_key_header X_Api_Key; compliance_public "x";'),
    'an API-key header with "_" loads');
like($out, qr/\[warn\].*"compliance_api_key_header X_Api_Key": nginx drops client headers with "_" unless "underscores_in_headers on"/,
     'with a warning that nginx drops such headers');
$out = $t->config_accepted(conf(server => "$on underscores_in_headers on;",
    loc => 'compliance_api_key_header X_Api_Key; compliance_public "x";'),
    'with underscores_in_headers on');
unlike($t->without_posture($out), qr/\[warn\]/, 'no warning then');

$t->finish;
