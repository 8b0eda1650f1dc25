#!/usr/bin/perl
# Config-time refusals of the authentication directives: each makes
# "nginx -t" fail with a message naming the directive and the bad value
# (or file).  Plus the key-file permission warning and the accepted
# forms of each directive.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceAuth qw(make_keys pyjwt oct_jwk jwks apikey_record
    run_cmd);

plan skip_all => 'Debian python3-jwt not available'
    unless Test::ComplianceAuth::python_ok();
plan skip_all => 'openssl CLI not available'
    unless Test::Compliance::openssl_available();

my $t = Test::Compliance->new;

my $k = make_keys($t, rsa => 'rsa', small => 'rsa1024', ec => 'ec256');

for my $cmd ([ 'genpkey', '-algorithm', 'EC', '-pkeyopt',
               'ec_paramgen_curve:P-521', '-out', $t->path('p521.key') ],
             [ 'pkey', '-in', $t->path('p521.key'), '-pubout', '-out',
               $t->path('p521.pub') ])
{
    my ($rc, $out) = run_cmd('openssl', @$cmd);
    die "openssl @$cmd: $out\n" if $rc;
}

my ($rsa_jwk, $small_jwk, $ec_jwk) = pyjwt($t,
    { op => 'jwk', pub => $k->{rsa}{pub}, kid => 'r' },
    { op => 'jwk', pub => $k->{small}{pub}, kid => 's' },
    { op => 'jwk', pub => $k->{ec}{pub}, kid => 'e' });

sub with { my ($json, %f) = @_; my $h = JSON::PP::decode_json($json);
           return { %$h, %f } }

my $secret32 = 'k' x 32;

$t->write_file('short.jwks', jwks(oct_jwk('s' x 31, kid => 'h')));
$t->write_file('ok32.jwks', jwks(oct_jwk($secret32, kid => 'h')), 0600);
$t->write_file('ok32-0644.jwks', jwks(oct_jwk($secret32, kid => 'h')),
    0644);
$t->write_file('rsa-es.jwks', jwks(with($rsa_jwk, alg => 'ES256')));
$t->write_file('oct-rs.jwks', jwks(oct_jwk($secret32, alg => 'RS256')));
$t->write_file('ec-es384.jwks', jwks(with($ec_jwk, alg => 'ES384')));
$t->write_file('rsa-hs.jwks', jwks(with($rsa_jwk, alg => 'HS256')));
$t->write_file('small.jwks', jwks($small_jwk));
$t->write_file('private.jwks',
    jwks(with($rsa_jwk, d => 'AQAB', p => 'AQAB', q => 'AQAB')));
$t->write_file('garbage.txt', "this is not a key\n");
$t->write_file('badjson.jwks', '{"keys":[');
$t->write_file('empty.jwks', '');
$t->write_file('nokeys.jwks', '{"keys":[]}');
$t->write_file('bad-kty.jwks', '{"keys":[{"kty":"OKP","crv":"Ed25519",'
    . '"x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}');
$t->write_file('bad-n.jwks', '{"keys":[{"kty":"RSA","n":"!!","e":"AQAB"}]}');
mkdir $t->path('a-directory');

my ($akey, $aline) = apikey_record(principal => 'p');
$t->write_file('keys.txt', $aline, 0600);
$t->write_file('keys-bad.txt', "this is not a key record\n", 0600);
$t->write_file('keys-badfield.txt', $aline =~ s/principal=p/princip=p/r,
    0600);
$t->write_file('keys-baddate.txt', $aline =~ s/$/ expires=2024-02-30/r,
    0600);
$t->write_file('keys-badcidr.txt', $aline =~ s/$/ allow=10.0.0.0\/33/r,
    0600);

my $P = $t->prefix;

sub conf {
    my ($loc, $srv) = @_;

    $srv //= '';

    return <<"EOF";
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance on;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        $srv
        location / {
            $loc
        }
    }
}
EOF
}

my $KEYS = "compliance_jwt_keys $P/rsa.pub;";
my $HSKEYS = "compliance_jwt_keys $P/ok32.jwks;";

# [directives, message]
my @bad = (
    # the allow-list
    [ "$KEYS compliance_jwt_algorithms none;",
      qr/invalid algorithm "none" in "compliance_jwt_algorithms"/ ],
    [ "$KEYS compliance_jwt_algorithms None;",
      qr/invalid algorithm "None" in "compliance_jwt_algorithms"/ ],
    [ "$KEYS compliance_jwt_algorithms NONE;",
      qr/invalid algorithm "NONE" in "compliance_jwt_algorithms"/ ],
    [ "$KEYS compliance_jwt_algorithms RS256 nOnE;",
      qr/invalid algorithm "nOnE" in "compliance_jwt_algorithms"/ ],
    [ "$KEYS compliance_jwt_algorithms HS1024;",
      qr/invalid algorithm "HS1024" in "compliance_jwt_algorithms"/ ],
    [ "$KEYS compliance_jwt_algorithms rs256;",
      qr/invalid algorithm "rs256" in "compliance_jwt_algorithms"/ ],
    [ "$KEYS compliance_jwt_algorithms ES512;",
      qr/invalid algorithm "ES512" in "compliance_jwt_algorithms"/ ],
    [ "$KEYS compliance_jwt_algorithms EdDSA;",
      qr/invalid algorithm "EdDSA" in "compliance_jwt_algorithms"/ ],
    [ "$KEYS compliance_jwt_algorithms RS256; "
      . "compliance_jwt_algorithms PS256;",
      qr/"compliance_jwt_algorithms" directive is duplicate/ ],
    [ "compliance_jwt_keys $P/ec.pub; compliance_jwt_algorithms RS256;",
      qr/no key loaded by "compliance_jwt_keys" can verify any algorithm allowed by "compliance_jwt_algorithms"/ ],

    # key files
    [ "compliance_jwt_keys $P/short.jwks;",
      qr/invalid key file "[^"]*short\.jwks" in "compliance_jwt_keys".*HMAC secret of 31 bytes, at least 32/ ],
    [ "compliance_jwt_keys $P/rsa-es.jwks;",
      qr/invalid key file "[^"]*rsa-es\.jwks" in "compliance_jwt_keys".*"alg" ES256 does not fit the key type/ ],
    [ "compliance_jwt_keys $P/rsa-hs.jwks;",
      qr/invalid key file "[^"]*rsa-hs\.jwks" in "compliance_jwt_keys".*"alg" HS256 does not fit/ ],
    [ "compliance_jwt_keys $P/oct-rs.jwks;",
      qr/invalid key file "[^"]*oct-rs\.jwks" in "compliance_jwt_keys".*"alg" RS256 does not fit/ ],
    [ "compliance_jwt_keys $P/ec-es384.jwks;",
      qr/invalid key file "[^"]*ec-es384\.jwks" in "compliance_jwt_keys".*"alg" ES384 does not fit/ ],
    [ "compliance_jwt_keys $P/small.pub;",
      qr/invalid key file "[^"]*small\.pub" in "compliance_jwt_keys".*RSA modulus of 1024 bits, 2048 to 8192 required/ ],
    [ "compliance_jwt_keys $P/small.jwks;",
      qr/invalid key file "[^"]*small\.jwks" in "compliance_jwt_keys".*RSA modulus of 1024 bits/ ],
    [ "compliance_jwt_keys $P/p521.pub;",
      qr/invalid key file "[^"]*p521\.pub" in "compliance_jwt_keys".*not supported/ ],
    [ "compliance_jwt_keys $P/does-not-exist.pem;",
      qr/invalid key file "[^"]*does-not-exist\.pem" in "compliance_jwt_keys".*cannot open/ ],
    [ "compliance_jwt_keys $P/a-directory;",
      qr/invalid key file "[^"]*a-directory" in "compliance_jwt_keys".*not a regular file/ ],
    [ "compliance_jwt_keys $P/garbage.txt;",
      qr/invalid key file "[^"]*garbage\.txt" in "compliance_jwt_keys"/ ],
    [ "compliance_jwt_keys $P/badjson.jwks;",
      qr/invalid key file "[^"]*badjson\.jwks" in "compliance_jwt_keys".*invalid JSON/ ],
    [ "compliance_jwt_keys $P/empty.jwks;",
      qr/invalid key file "[^"]*empty\.jwks" in "compliance_jwt_keys".*empty/ ],
    [ "compliance_jwt_keys $P/nokeys.jwks;",
      qr/invalid key file "[^"]*nokeys\.jwks" in "compliance_jwt_keys"/ ],
    [ "compliance_jwt_keys $P/bad-kty.jwks;",
      qr/invalid key file "[^"]*bad-kty\.jwks" in "compliance_jwt_keys".*kty/ ],
    [ "compliance_jwt_keys $P/bad-n.jwks;",
      qr/invalid key file "[^"]*bad-n\.jwks" in "compliance_jwt_keys"/ ],
    [ "compliance_jwt_keys $P/rsa.key;",
      qr/invalid key file "[^"]*rsa\.key" in "compliance_jwt_keys".*PRIVATE KEY/ ],
    [ "compliance_jwt_keys $P/private.jwks;",
      qr/invalid key file "[^"]*private\.jwks" in "compliance_jwt_keys".*private key/ ],

    # methods
    [ 'compliance_auth jwt;',
      qr/"compliance_auth jwt" needs "compliance_jwt_keys"/ ],
    [ 'compliance_auth api_key;',
      qr/"compliance_auth api_key" needs "compliance_api_keys"/ ],
    [ "$KEYS compliance_auth jwt api_key;",
      qr/"compliance_auth api_key" needs "compliance_api_keys"/ ],
    [ "$KEYS compliance_auth basic;",
      qr/invalid method "basic" in "compliance_auth"/ ],
    [ "$KEYS compliance_auth JWT;",
      qr/invalid method "JWT" in "compliance_auth"/ ],

    # claims and policy
    [ "$KEYS compliance_jwt_claims user=sub;",
      qr/invalid parameter "user=sub" in "compliance_jwt_claims"/ ],
    [ "$KEYS compliance_jwt_claims principal=;",
      qr/invalid parameter "principal=" in "compliance_jwt_claims"/ ],
    [ "$KEYS compliance_jwt_claims principal;",
      qr/invalid parameter "principal" in "compliance_jwt_claims"/ ],
    [ "$KEYS compliance_jwt_claims =sub;",
      qr/invalid parameter "=sub" in "compliance_jwt_claims"/ ],
    [ "$KEYS compliance_jwt_claims principal=a principal=b;",
      qr/invalid parameter "principal=b" in "compliance_jwt_claims"/ ],
    [ "$KEYS compliance_jwt_max_lifetime garbage;",
      qr/invalid value "garbage" in "compliance_jwt_max_lifetime"/ ],
    [ "$KEYS compliance_jwt_max_lifetime 0;",
      qr/invalid value "0" in "compliance_jwt_max_lifetime"/ ],
    [ "$KEYS compliance_jwt_max_lifetime -1h;",
      qr/invalid value "-1h" in "compliance_jwt_max_lifetime"/ ],
    [ "$KEYS compliance_jwt_leeway soon;",
      qr/"compliance_jwt_leeway" directive invalid value/ ],
    [ "$KEYS compliance_jwt_issuer \"\";",
      qr/"compliance_jwt_issuer" directive has an empty value/ ],
    [ "$KEYS compliance_jwt_issuer https://a \"\";",
      qr/"compliance_jwt_issuer" directive has an empty value/ ],
    [ "$KEYS compliance_jwt_audience \"\";",
      qr/"compliance_jwt_audience" directive has an empty value/ ],

    # scopes
    [ "$KEYS compliance_require_scope \"a b\";",
      qr/invalid scope "a b" in "compliance_require_scope"/ ],
    [ "$KEYS compliance_require_scope 'a\"b';",
      qr/invalid scope "a"b" in "compliance_require_scope"/ ],
    [ "$KEYS compliance_require_scope 'a\\\\b';",
      qr/invalid scope "a\\b" in "compliance_require_scope"/ ],
    [ "$KEYS compliance_require_scope \"\";",
      qr/invalid scope "" in "compliance_require_scope"/ ],
    [ "$KEYS compliance_require_scope read \"caf\xc3\xa9\";",
      qr/invalid scope "caf\xc3\xa9" in "compliance_require_scope"/ ],

    # API keys
    [ 'compliance_api_key_header "X API";',
      qr/invalid header name "X API" in "compliance_api_key_header"/ ],
    [ 'compliance_api_key_header X:Key;',
      qr/invalid header name "X:Key" in "compliance_api_key_header"/ ],
    [ 'compliance_api_key_header "";',
      qr/invalid header name "" in "compliance_api_key_header"/ ],
    [ 'compliance_api_key_header Authorization;',
      qr/invalid header name "Authorization" in "compliance_api_key_header"/ ],
    [ "compliance_api_keys $P/nope.txt;",
      qr/invalid key file "[^"]*nope\.txt" in "compliance_api_keys"/ ],
    [ "compliance_api_keys $P/keys-bad.txt;",
      qr/invalid key file "[^"]*keys-bad\.txt" in "compliance_api_keys".*line 1/ ],
    [ "compliance_api_keys $P/keys-badfield.txt;",
      qr/invalid key file "[^"]*keys-badfield\.txt" in "compliance_api_keys".*line 1/ ],
    [ "compliance_api_keys $P/keys-baddate.txt;",
      qr/invalid key file "[^"]*keys-baddate\.txt" in "compliance_api_keys".*line 1/ ],
    [ "compliance_api_keys $P/keys-badcidr.txt;",
      qr/invalid key file "[^"]*keys-badcidr\.txt" in "compliance_api_keys".*line 1/ ],
    [ "compliance_api_keys $P/keys.txt; compliance_api_keys $P/keys.txt;",
      qr/"compliance_api_keys" directive is duplicate/ ],
);

# root reads any file: an unreadable file can only be made for others
if ($> != 0) {
    $t->write_file('unreadable.jwks', jwks(oct_jwk($secret32)), 0000);
    push @bad, [ "compliance_jwt_keys $P/unreadable.jwks;",
        qr/invalid key file "[^"]*unreadable\.jwks" in "compliance_jwt_keys".*cannot open/ ];
    $t->write_file('unreadable.txt', $aline, 0000);
    push @bad, [ "compliance_api_keys $P/unreadable.txt;",
        qr/invalid key file "[^"]*unreadable\.txt" in "compliance_api_keys".*cannot open/ ];
}

for my $b (@bad) {
    my ($line, $re) = @$b;
    $t->config_refused(conf($line), $re, $line);
}

# contexts
my ($ok, $out) = $t->test_config_text(conf('', "compliance_public \"x\";"));
ok(!$ok, 'compliance_public refused at server level');

# a secret never reaches the message
($ok, $out) = $t->test_config_text(conf("compliance_jwt_keys $P/short.jwks;"));
unlike($out, qr/\Q${\ MIME::Base64::encode_base64url('s' x 31)}\E/,
       'the short secret is not in the message');

# --- accepted forms
my @good = (
    "$KEYS",
    "$KEYS compliance_jwt_algorithms RS256 PS512;",
    "compliance_jwt_keys $P/rsa.pub; compliance_jwt_keys $P/ec.pub; "
        . "compliance_jwt_keys $P/ok32.jwks; "
        . "compliance_jwt_algorithms HS256 RS256 ES256;",
    "$KEYS compliance_jwt_issuer https://a https://b; "
        . "compliance_jwt_audience api; compliance_jwt_leeway 30s; "
        . "compliance_jwt_max_lifetime 1h; "
        . "compliance_jwt_claims principal=email org=tenant scopes=perms;",
    "$KEYS compliance_jwt_max_lifetime off;",
    "$KEYS compliance_jwt_claims scopes=scp;",
    "$KEYS compliance_require_scope read write:all api.admin;",
    "$KEYS compliance_auth jwt;",
    "compliance_api_keys $P/keys.txt; compliance_auth api_key; "
        . "compliance_api_key_header X-Custom_Key-2;",
    "$KEYS compliance_api_keys $P/keys.txt; compliance_auth jwt api_key;",
);

for my $g (@good) {
    ($ok, $out) = $t->test_config_text(conf($g));
    ok($ok, "accepted: $g") or diag($out);
}

# directives at http and server level too
($ok, $out) = $t->test_config_text(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance on;
    compliance_jwt_keys $P/rsa.pub;
    compliance_jwt_algorithms RS256;
    compliance_jwt_issuer https://a;
    compliance_jwt_audience api;
    compliance_jwt_leeway 5s;
    compliance_jwt_max_lifetime 2h;
    compliance_jwt_claims principal=sub;
    compliance_api_keys $P/keys.txt;
    compliance_api_key_header X-Key;
    compliance_auth jwt api_key;
    compliance_require_scope read;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        compliance_require_scope write;
        compliance_jwt_leeway 10s;
    }
}
EOF
ok($ok, 'every auth directive accepted at http and server level')
    or diag($out);

# --- key-file permissions: a JWKS holding an HMAC secret is as secret as
# an API-key file (SPEC 4: "a key file readable by others than
# owner/group (warning)")
($ok, $out) = $t->test_config_text(
    conf("compliance_jwt_keys $P/ok32-0644.jwks;"));
ok($ok, 'a 0644 JWKS with an HMAC secret loads');
like($out, qr/\[warn\].*ok32-0644\.jwks/,
     'with a [warn] naming the file (HMAC secret readable by others)');

($ok, $out) = $t->test_config_text(conf($HSKEYS));
unlike($t->without_posture($out), qr/\[warn\]/, 'a 0600 JWKS loads without a warning');

$t->finish;
