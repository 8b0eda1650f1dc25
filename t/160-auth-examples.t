#!/usr/bin/perl
# examples/jwt.conf and examples/apikey.conf are complete configs: with
# the load_module path, pid, error_log and ports substituted
# (Test::ComplianceExamples), "nginx -t" accepts each, and each, started,
# does what its comments say.  t/062 runs their header commands as written.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;
use Test::ComplianceAuth qw(make_keys pyjwt keygen jwks reason_of requests);
use Test::ComplianceExamples qw(example_template);

plan skip_all => 'Debian python3-jwt not available'
    unless Test::ComplianceAuth::python_ok();
plan skip_all => 'openssl CLI not available'
    unless Test::Compliance::openssl_available();

# --- examples/jwt.conf
my $t = Test::Compliance->new;

my $k = make_keys($t, rsa => 'rsa', ec => 'ec256');
my $now = time;
my %iss = (iss => 'https://idp.example.com/',
    aud => 'https://api.example.com', iat => $now, exp => $now + 600);

my ($jr, $je, @tok) = pyjwt($t,
    { op => 'jwk', pub => $k->{rsa}{pub}, kid => 'idp-rsa', alg => 'RS256' },
    { op => 'jwk', pub => $k->{ec}{pub}, kid => 'idp-ec' },
    { op => 'jwt', alg => 'RS256', key => $k->{rsa}{key}, kid => 'idp-rsa',
      claims => { %iss, sub => 'alice', org_id => 'acme',
                  scope => 'api:read', tenant => 't-42' } },
    { op => 'jwt', alg => 'ES256', key => $k->{ec}{key}, kid => 'idp-ec',
      claims => { %iss, sub => 'root', scope => 'api:read api:admin' } },
    { op => 'jwt', alg => 'RS256', key => $k->{rsa}{key}, kid => 'idp-rsa',
      claims => { %iss, sub => 'alice', aud => 'https://other.example',
                  scope => 'api:read' } },
    { op => 'jwt', alg => 'PS256', key => $k->{rsa}{key}, kid => 'idp-rsa',
      claims => { %iss, sub => 'alice', scope => 'api:read' } },
    { op => 'jwt', alg => 'RS256', key => $k->{rsa}{key}, kid => 'idp-rsa',
      claims => { %iss, sub => 'alice', scope => 'api:read',
                  exp => $now + 7200 } },
);

$t->write_file('jwks.json', jwks($jr, $je), 0640);

my $conf = example_template('jwt.conf');
my ($ok, $out) = $t->test_config_text($conf);
ok($ok, 'examples/jwt.conf: nginx -t accepts it') or diag($out);
unlike($t->without_posture($out), qr/\[(?:warn|emerg|alert|crit)\]/, 'examples/jwt.conf: quietly');

$t->write_config($conf);
$t->run;

my @auth = map { [ [ 'Authorization', "Bearer $_" ] ] } @tok;
my @r = requests($t, [
    { uri => '/health' },
    { uri => '/api/orders' },
    { uri => '/api/orders', headers => $auth[0] },
    { uri => '/api/admin/users', headers => $auth[0] },
    { uri => '/api/admin/users', headers => $auth[1] },
    { uri => '/api/orders', headers => $auth[2] },
    { uri => '/api/orders', headers => $auth[3] },
    { uri => '/api/orders', headers => $auth[4] },
    { uri => '/api/orders', headers => [ [ 'X-API-Key', 'ck_x' ] ] },
    { uri => '/api/orders', headers => [ @{ $auth[0] },
        [ 'X-Principal', 'forged' ] ] },
]);

is($r[0]{body}, "ok\n", 'jwt.conf: public /health');
is(reason_of($r[1]), 'missing_credentials', 'jwt.conf: no token: refused');
is($r[2]{status}, 200, 'jwt.conf: RS256 token with api:read');
my $app = eval { decode_json($r[2]{body}) } || {};
is_deeply($app, { uri => '/api/orders', principal => 'alice', org => 'acme',
    scopes => 'api:read', tenant => 't-42' },
    'jwt.conf: the application gets the identity');
is($r[3]{status}, 403, 'jwt.conf: admin needs api:admin too');
is(reason_of($r[3]), 'insufficient_scope', 'jwt.conf: insufficient_scope');
is($r[4]{status}, 200, 'jwt.conf: ES256 token with both scopes');
is(reason_of($r[5]), 'bad_audience', 'jwt.conf: another audience refused');
is(reason_of($r[6]), 'alg_not_allowed',
   'jwt.conf: PS256 is outside the allow-list');
is(reason_of($r[7]), 'lifetime_too_long',
   'jwt.conf: a two-hour token is over compliance_jwt_max_lifetime');
is(reason_of($r[8]), 'missing_credentials',
   'jwt.conf: compliance_auth jwt ignores API keys');
is((eval { decode_json($r[9]{body}) } || {})->{principal}, 'alice',
   'jwt.conf: a client X-Principal header is replaced');

my $log = $t->read_file('logs/access.log') // '';
like($log, qr/"GET \/api\/orders" 200 principal=alice org=acme kid=idp-rsa /,
     'jwt.conf: the access log names the principal and key');
like($log, qr/ 403 principal=alice .*reason=insufficient_scope/,
     'jwt.conf: and the refusal reason');

$t->finish(done_testing => 0);

# --- examples/apikey.conf
$t = Test::Compliance->new;

my $keys = $t->path('api-keys.txt');
my $svc = keygen($keys, '--principal', 'billing-service', '--org', 'acme',
    '--scopes', 'invoices:read');
my $exp = keygen($keys, '--principal', 'exporter', '--scopes',
    'invoices:read,invoices:export', '--allow', '127.0.0.0/8');
my ($sid) = $svc =~ /^ck_([a-z2-7]{12})_/;

$conf = example_template('apikey.conf');
($ok, $out) = $t->test_config_text($conf);
ok($ok, 'examples/apikey.conf: nginx -t accepts it') or diag($out);
unlike($t->without_posture($out), qr/\[(?:warn|emerg|alert|crit)\]/,
       'examples/apikey.conf: quietly (the keygen file is 0640)');

$t->write_config($conf);
$t->run;

@r = requests($t, [
    { uri => '/health' },
    { uri => '/invoices/1' },
    { uri => '/invoices/1', headers => [ [ 'X-API-Key', $svc ] ] },
    { uri => '/invoices/1', headers => [ [ 'Authorization', "ApiKey $svc" ] ] },
    { uri => '/invoices/export/all', headers => [ [ 'X-API-Key', $svc ] ] },
    { uri => '/invoices/export/all', headers => [ [ 'X-API-Key', $exp ] ] },
    { uri => "/invoices/1?api_key=$svc" },
    { uri => '/invoices/1', headers => [ [ 'Authorization', 'Bearer a.b.c' ] ] },
]);

is($r[0]{body}, "ok\n", 'apikey.conf: public /health');
is(reason_of($r[1]), 'missing_credentials', 'apikey.conf: no key: refused');
is($r[2]{status}, 200, 'apikey.conf: X-API-Key');
$app = eval { decode_json($r[2]{body}) } || {};
is_deeply($app, { uri => '/invoices/1', principal => 'billing-service',
    org => 'acme', key_id => $sid, scopes => 'invoices:read', api_key => '' },
    'apikey.conf: the application gets the identity, not the key');
is($r[3]{status}, 200, 'apikey.conf: Authorization: ApiKey');
unlike($r[3]{body}, qr/ck_/, 'apikey.conf: Authorization not forwarded');
is(reason_of($r[4]), 'insufficient_scope',
   'apikey.conf: export needs invoices:export');
is($r[5]{status}, 200, 'apikey.conf: the exporter key may export');
is(reason_of($r[6]), 'credential_in_url', 'apikey.conf: key in the URL');
is(reason_of($r[7]), 'missing_credentials',
   'apikey.conf: compliance_auth api_key ignores Bearer tokens');

$log = $t->read_file('logs/access.log') // '';
like($log, qr/ 200 principal=billing-service key=$sid /,
     'apikey.conf: the access log names the key id');

$t->finish;
