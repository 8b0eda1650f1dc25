#!/usr/bin/perl
# API keys: keys made by compliance-keygen (--list, --revoke) verify from
# X-API-Key, from "Authorization: ApiKey" and from the header named by
# compliance_api_key_header; the identity variables; allow lists and
# expiry; compliance_auth restricting the methods; credential
# precedence; revocation by reload; the key-file permission warning.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceAuth qw(make_secret pyjwt keygen keygen_run
    apikey_record oct_jwk jwks reason_of requests);

plan skip_all => 'Debian python3-jwt not available'
    unless Test::ComplianceAuth::python_ok();

my $t = Test::Compliance->new;

my $file = $t->path('keys.txt');

my $alice = keygen($file, '--principal', 'alice', '--org', 'acme',
    '--scopes', 'read,write', '--allow', '10.0.0.0/8,127.0.0.1/32',
    '--expires', '2099-01-01');
my $bob = keygen($file, '--principal', 'bob');
my $bob2 = keygen($file, '--principal', 'bob', '--scopes', 'rotated');
my $gone = keygen($file, '--principal', 'leaver');
my $v6 = keygen($file, '--principal', 'v6only', '--allow', '::1/128');

my ($aid) = $alice =~ /^ck_([a-z2-7]{12})_/;
my ($gid) = $gone =~ /^ck_([a-z2-7]{12})_/;

is((stat $file)[2] & 07777, 0640, 'keygen writes the key file 0640');
unlike($t->read_file('keys.txt'), qr/\Q${\ substr($alice, 16)}\E/,
       'the key file holds no secret');

my (undef, $list) = keygen_run($file, '--list');
like($list, qr/^$aid\s+alice\s+acme\s+read,write\s+10\.0\.0\.0\/8,127\.0\.0\.1\/32\s+2099-01-01$/m,
     'keygen --list shows the record');

my $hs = make_secret($t, 'hs', 32);
$t->write_file('hs.jwks', jwks(oct_jwk($hs->{bytes}, kid => 'hs')));
my $jwt = pyjwt($t, { op => 'jwt', alg => 'HS256', key => $hs->{key},
    kid => 'hs', claims => { sub => 'jwt-user', exp => time + 600 } });

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_api_keys %%PREFIX%%/keys.txt;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location / {
            return 200 "p=$compliance_principal o=$compliance_org k=$compliance_key_id s=$compliance_scopes m=$compliance_auth_method c=$compliance_jwt_claim_sub\n";
        }

        location /custom {
            compliance_api_key_header X-Custom-Key;
            return 200 "custom $compliance_principal\n";
        }

        location /both {
            compliance_jwt_keys %%PREFIX%%/hs.jwks;
            return 200 "both $compliance_auth_method $compliance_principal\n";
        }

        location /keys-only {
            compliance_jwt_keys %%PREFIX%%/hs.jwks;
            compliance_auth api_key;
            return 200 "keys-only $compliance_principal\n";
        }

        location /jwt-only {
            compliance_jwt_keys %%PREFIX%%/hs.jwks;
            compliance_auth jwt;
            return 200 "jwt-only $compliance_principal\n";
        }
    }
}
EOF

$t->run;

my @r = requests($t, [
    { uri => '/', headers => [ [ 'X-API-Key', $alice ] ] },
    { uri => '/', headers => [ [ 'x-api-key', $alice ] ] },
    { uri => '/', headers => [ [ 'Authorization', "ApiKey $alice" ] ] },
    { uri => '/', headers => [ [ 'Authorization', "apikey $alice" ] ] },
    { uri => '/', headers => [ [ 'X-API-Key', $bob ] ] },
    { uri => '/', headers => [ [ 'X-API-Key', $bob2 ] ] },
    { uri => '/', headers => [ [ 'X-API-Key', $v6 ] ] },
    { uri => '/', headers => [] },
]);

is($r[0]{status}, 200, 'X-API-Key: served');
is($r[0]{body}, "p=alice o=acme k=$aid s=read write m=api_key c=\n",
   'principal, org, key id, scopes (space-separated), method; '
   . 'no JWT claims for an API key');
is($r[1]{status}, 200, 'header name is case-insensitive');
is($r[2]{body}, $r[0]{body}, 'Authorization: ApiKey gives the same identity');
is($r[3]{status}, 200, 'the ApiKey scheme is case-insensitive');
like($r[4]{body}, qr/^p=bob o= k=[a-z2-7]{12} s= m=api_key c=$/,
     'no org, no scopes: empty variables');
like($r[5]{body}, qr/^p=bob o= k=[a-z2-7]{12} s=rotated /,
     'a second key of the same principal (rotation) works');
isnt($r[4]{body}, $r[5]{body}, 'each key has its own key id');
is($r[6]{status}, 401, 'a key allowed only from ::1 refused from 127.0.0.1');
is(reason_of($r[6]), 'ip_not_allowed', '... ip_not_allowed');
is($r[7]{status}, 401, 'no credential');
is(reason_of($r[7]), 'missing_credentials', '... missing_credentials');

# --- compliance_api_key_header
@r = requests($t, [
    { uri => '/custom', headers => [ [ 'X-Custom-Key', $bob ] ] },
    { uri => '/custom', headers => [ [ 'x-custom-key', $bob ] ] },
    { uri => '/custom', headers => [ [ 'X-API-Key', $bob ] ] },
    { uri => '/custom', headers => [ [ 'Authorization', "ApiKey $bob" ] ] },
    { uri => '/custom', headers => [ [ 'X-Custom-Key', $bob ],
                                     [ 'X-Custom-Key', $bob ] ] },
]);
is($r[0]{body}, "custom bob\n", 'compliance_api_key_header X-Custom-Key');
is($r[1]{status}, 200, 'custom header name is case-insensitive');
is($r[2]{status}, 401, 'X-API-Key is not read where another header is set');
is(reason_of($r[2]), 'missing_credentials', '... missing_credentials');
is($r[3]{status}, 200, 'Authorization: ApiKey still works there');
is($r[4]{status}, 401, 'the custom header twice: refused');
is(reason_of($r[4]), 'unknown_api_key', '... unknown_api_key');

# --- compliance_auth and precedence
my $bad = substr($bob, 0, -2) . (substr($bob, -2) eq 'AA' ? 'BA' : 'AA');

@r = requests($t, [
    { uri => '/keys-only', headers => [ [ 'Authorization', "Bearer $jwt" ] ] },
    { uri => '/keys-only', headers => [ [ 'X-API-Key', $bob ] ] },
    { uri => '/jwt-only', headers => [ [ 'X-API-Key', $bob ] ] },
    { uri => '/jwt-only', headers => [ [ 'Authorization', "ApiKey $bob" ] ] },
    { uri => '/jwt-only', headers => [ [ 'Authorization', "Bearer $jwt" ] ] },
    { uri => '/both', headers => [ [ 'Authorization', "Bearer $jwt" ],
                                   [ 'X-API-Key', $bob ] ] },
    { uri => '/both', headers => [ [ 'Authorization', "ApiKey $bad" ],
                                   [ 'X-API-Key', $bob ] ] },
    { uri => '/both', headers => [ [ 'X-API-Key', $bob ] ] },
    { uri => '/both', headers => [ [ 'Authorization', "Basic Ym9iOng=" ],
                                   [ 'X-API-Key', $bob ] ] },
    { uri => '/both', headers => [ [ 'Authorization', "bearer $jwt" ] ] },
    { uri => '/both', headers => [ [ 'Authorization', "BEARER   $jwt" ] ] },
    { uri => '/both', headers => [ [ 'Authorization', "Token $jwt" ] ] },
    { uri => '/both', headers => [ [ 'Authorization', "ApiKey   $bob" ] ] },
]);
is($r[0]{status}, 401, 'compliance_auth api_key: a good Bearer JWT refused');
is(reason_of($r[0]), 'missing_credentials', '... missing_credentials');
is($r[1]{body}, "keys-only bob\n", 'compliance_auth api_key: key accepted');
is($r[2]{status}, 401, 'compliance_auth jwt: X-API-Key refused');
is(reason_of($r[2]), 'missing_credentials', '... missing_credentials');
is($r[3]{status}, 401, 'compliance_auth jwt: ApiKey scheme refused');
is(reason_of($r[3]), 'missing_credentials', '... missing_credentials');
is($r[4]{body}, "jwt-only jwt-user\n", 'compliance_auth jwt: JWT accepted');
is($r[5]{body}, "both jwt jwt-user\n",
   'Authorization (Bearer) takes precedence over X-API-Key');
is($r[6]{status}, 401, 'a bad ApiKey in Authorization is not rescued by '
   . 'a good X-API-Key');
is(reason_of($r[6]), 'unknown_api_key', '... unknown_api_key');
is($r[7]{body}, "both api_key bob\n", 'X-API-Key where JWTs are accepted too');
is($r[8]{status}, 401, 'Authorization with another scheme: the API-key '
   . 'header is not consulted');
is(reason_of($r[8]), 'missing_credentials', '... missing_credentials');
is($r[9]{body}, "both jwt jwt-user\n", 'the Bearer scheme is case-insensitive');
is($r[10]{body}, "both jwt jwt-user\n", 'several spaces after the scheme');
is($r[11]{status}, 401, 'an unknown scheme (Token) is no credential');
is(reason_of($r[11]), 'missing_credentials', '... missing_credentials');
is($r[12]{body}, "both api_key bob\n", 'several spaces after ApiKey');

# --- revocation: delete the line (keygen --revoke), reload
my ($rc, $msg) = keygen_run($file, '--revoke', $gid);
is($rc, 0, 'keygen --revoke');
like($msg, qr/reload/, 'keygen --revoke says a reload applies it');
unlike($t->read_file('keys.txt'), qr/^$gid /m, 'the record is gone');

my $r = $t->http(uri => '/', headers => [ [ 'X-API-Key', $gone ] ]);
is($r->{status}, 200, 'revoked key works until the reload');

$t->reload;

@r = requests($t, [
    { uri => '/', headers => [ [ 'X-API-Key', $gone ] ] },
    { uri => '/', headers => [ [ 'X-API-Key', $bob ] ] },
]);
is($r[0]{status}, 401, 'revoked key refused after nginx -s reload');
is(reason_of($r[0]), 'unknown_api_key', '... unknown_api_key');
is($r[1]{status}, 200, 'other keys still work after the reload');

unlike($t->error_log, qr/\Q${\ substr($bob, 16)}\E|\Q${\ substr($alice, 16)}\E/,
       'no key secret in error.log');

# --- key file permissions: readable by others loads, with a warning
my ($k644, $l644) = apikey_record(principal => 'loose');
$t->write_file('loose.txt', $l644, 0644);
$t->write_file('tight.txt', $l644, 0600);

my $conf = <<'EOF';
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance on;
    compliance_api_keys %%PREFIX%%/FILE;
    server {
        listen 127.0.0.1:%%PORT_5%%;
    }
}
EOF

(my $c = $conf) =~ s/FILE/loose.txt/;
my ($ok, $out) = $t->test_config_text($c);
ok($ok, 'a key file with mode 0644 loads');
like($out, qr/\[warn\].*key file "[^"]*loose\.txt".*compliance_api_keys/,
     'with a [warn] naming the file and the directive');

($c = $conf) =~ s/FILE/tight.txt/;
($ok, $out) = $t->test_config_text($c);
ok($ok, 'a key file with mode 0600 loads');
unlike($t->without_posture($out), qr/\[warn\]/, 'without a warning');

$t->finish;
