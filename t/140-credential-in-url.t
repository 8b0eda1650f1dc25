#!/usr/bin/perl
# Credentials in the query string (SPEC 5): a parameter named api_key,
# apikey or access_token (any case, percent-encoded or not), or any
# parameter whose value is a JWT or a ck_ API key, is refused 401
# credential_in_url -- even with a good credential in the headers and on
# public locations -- and is never written to error.log.  Other
# secret-looking names (token, key) are not refused.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceAuth qw(make_secret pyjwt keygen oct_jwk jwks reason_of
    requests);

plan skip_all => 'Debian python3-jwt not available'
    unless Test::ComplianceAuth::python_ok();

my $t = Test::Compliance->new;

my $hs = make_secret($t, 'hs', 32);
$t->write_file('hs.jwks', jwks(oct_jwk($hs->{bytes}, kid => 'hs')));
my $jwt = pyjwt($t, { op => 'jwt', alg => 'HS256', key => $hs->{key},
    kid => 'hs', claims => { sub => 'u', exp => time + 600 } });
my $key = keygen($t->path('keys.txt'), '--principal', 'k');

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_jwt_keys %%PREFIX%%/hs.jwks;
    compliance_api_keys %%PREFIX%%/keys.txt;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location / {
            return 200 "ok $compliance_principal\n";
        }

        location /health {
            compliance_public "probe";
            return 200 "public\n";
        }

        location /off {
            compliance off;
            return 200 "off\n";
        }
    }
}
EOF

$t->run;

(my $jwt_pct = $jwt) =~ s/\./%2E/g;
(my $jwt_pct2 = $jwt) =~ s/\./%252E/g;

# a token whose JOSE header starts with a blank: " {" is base64url "IHs"
my $ws_jwt = do {
    require MIME::Base64;
    my $h = MIME::Base64::encode_base64url(' {"alg":"HS256","kid":"hs"}');
    (my $rest = $jwt) =~ s/^[^.]*//;
    $h . $rest;
};
(my $key_pct = $key) =~ s/_/%5F/g;
my @auth = ([ 'Authorization', "Bearer $jwt" ]);

my @refused = (
    "api_key=$key",
    'api_key=anything',
    'api_key=',
    'api_key',
    'apikey=x',
    'access_token=x',
    'API_KEY=x',
    'ApiKey=x',
    'Access_Token=x',
    'api%5Fkey=x',
    '%61pi_key=x',
    'a=1&b=2&apikey=x',
    "q=$jwt",
    "redirect=$jwt_pct",
    "x=$key",
    "x=$key_pct",
    "a=1&state=$key&b=2",
    "token=$jwt",
    # issue 11 item 7: recognised by decoding, not by the first bytes
    "auth=Bearer+$jwt",
    "auth=bearer%20$jwt",
    "auth=ApiKey+$key",
    "t=$jwt%20",
    "t=%0A$key%09",
    "a=1;t=$jwt",
    'a=1;access_token=x',
    'user[api_key]=x',
    'access-token=x',
    "k=\U$key",
    "h=$ws_jwt",
    "d=$jwt_pct2",
);

my @allowed = (
    'token=abc',
    'key=abc',
    'password=hunter2',
    'q=hello',
    'q=eyJhbGciOi',
    'q=ck_short',
    'api_keys=x',
    'my_api_key=x',
    'auth=Bearer+abc',
    'file=app.min.js&v=1.2.3',
    'a=1;b=2',
);

my @req = (
    (map { { uri => "/?$_" } } @refused),
    (map { { uri => "/?$_", headers => \@auth } } @refused),
    { uri => "/health?api_key=x" },
    { uri => "/health?q=$jwt" },
    { uri => "/?api_key=x", method => 'POST', body => 'a=b',
      headers => \@auth },
    { uri => "/?api_key=x", method => 'HEAD', headers => \@auth },
    (map { { uri => "/?$_", headers => \@auth } } @allowed),
    { uri => "/off?api_key=x" },
);

my @r = requests($t, \@req);
my $i = 0;

for my $q (@refused) {
    my $r = $r[$i++] || {};
    is($r->{status}, 401, "?$q refused");
    is(reason_of($r), 'credential_in_url', "?$q: credential_in_url");
}

for my $q (@refused) {
    my $r = $r[$i++] || {};
    is(reason_of($r), 'credential_in_url',
       "?$q refused even with a good Authorization header");
}

for my $what ('?api_key=x', '?q=<jwt>') {
    my $r = $r[$i++] || {};
    is($r->{status}, 401, "public location, $what: refused");
    is(reason_of($r), 'credential_in_url', "public location, $what: reason");
}

is($r[$i++]{status}, 401, 'POST with ?api_key refused');
is($r[$i++]{status}, 401, 'HEAD with ?api_key refused');

for my $q (@allowed) {
    my $r = $r[$i++] || {};
    is($r->{status}, 200, "?$q is not a credential") or diag($r->{body});
}

is($r[$i++]{body}, "off\n", 'compliance off: not checked');

my $log = $t->error_log;
my $secret = substr($key, 16);
my $sig = (split /\./, $jwt)[2];
unlike($log, qr/\Q$secret\E/, 'the key is not in error.log');
unlike($log, qr/\Q$sig\E/, 'the JWT is not in error.log');

$t->finish;
