#!/usr/bin/perl
# compliance_require_mfa (SPEC 14): the RFC 8176 "amr" claim against the
# default and listed methods, 401 mfa_required with the RFC 9470 step-up
# challenge, API keys always refused, scopes checked first, inheritance
# and public locations, internal redirects into a location that needs
# MFA, the audit record (amr), no lockout for a good credential that
# lacks MFA, and the config-time refusals.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;
use Test::ComplianceAuth qw(make_secret pyjwt keygen oct_jwk jwks reason_of
    requests bearer);

plan skip_all => 'Debian python3-jwt not available'
    unless Test::ComplianceAuth::python_ok();

my $t = Test::Compliance->new;

my $hs = make_secret($t, 'hs', 32);
$t->write_file('hs.jwks', jwks(oct_jwk($hs->{bytes}, kid => 'hs')));

my %claims = (
    'pwd otp'     => { amr => ['pwd', 'otp'] },
    'pwd'         => { amr => ['pwd'] },
    'mfa'         => { amr => ['mfa'] },
    'face'        => { amr => ['face'] },
    'hwk'         => { amr => ['hwk'] },
    'none'        => {},
    'string'      => { amr => 'mfa' },
    'empty'       => { amr => [] },
    'MFA'         => { amr => ['MFA'] },
    'custom'      => { amr => ['pwd', 'ngcmfa'] },
    'mixed'       => { amr => [1, { m => 'mfa' }, 'swk'] },
    'scoped pwd'  => { amr => ['pwd'], scope => 'admin' },
    'scoped mfa'  => { amr => ['mfa'], scope => 'admin' },
);

my @names = sort keys %claims;
my %tok;
@tok{@names} = pyjwt($t, map {
    +{ op => 'jwt', alg => 'HS256', key => $hs->{key}, kid => 'hs',
       claims => { sub => 'u', exp => time + 600, %{ $claims{$_} } } }
} @names);

my $keys = $t->path('keys.txt');
my $apikey = keygen($keys, '--principal', 'svc', '--scopes', 'admin');

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_audit_log logs/audit.jsonl;
    compliance_jwt_keys %%PREFIX%%/hs.jwks;
    compliance_api_keys %%PREFIX%%/keys.txt;
    compliance_limit_zone failures 1m;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location /mfa {
            compliance_require_mfa;
            return 200 "mfa $compliance_principal\n";
        }

        location /otp {
            compliance_require_mfa otp hwk;
            return 200 "otp\n";
        }

        location /custom {
            compliance_require_mfa ngcmfa;
            return 200 "custom\n";
        }

        location /plain {
            return 200 "plain\n";
        }

        location /scoped {
            compliance_require_scope admin;
            compliance_require_mfa;
            return 200 "scoped\n";
        }

        location /redirect {
            rewrite ^ /mfa last;
        }

        location = /metrics {
            compliance_status;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;

        compliance_require_mfa;
        compliance_auth_failure_limit zone=failures rate=2r/m block=5m;

        location / {
            return 200 "inherited\n";
        }

        location /health {
            compliance_public "probe";
            return 200 "public\n";
        }
    }
}
EOF

$t->run;

sub jwt_req {
    my ($uri, $name) = @_;

    die "no token $name" unless $tok{$name};
    return { uri => $uri, headers => bearer($tok{$name}) };
}

sub key_req {
    my ($uri) = @_;

    return { uri => $uri, headers => [ [ 'X-API-Key', $apikey ] ] };
}

# [request, status, body or reason, name]
my @cases = (
    [ jwt_req('/mfa', 'pwd otp'), 200, "mfa u\n", 'pwd + otp' ],
    [ jwt_req('/mfa', 'mfa'), 200, "mfa u\n", 'amr mfa' ],
    [ jwt_req('/mfa', 'face'), 200, "mfa u\n", 'amr face (biometric)' ],
    [ jwt_req('/mfa', 'hwk'), 200, "mfa u\n", 'amr hwk' ],
    [ jwt_req('/mfa', 'mixed'), 200, "mfa u\n",
      'non-string elements skipped, swk found' ],
    [ jwt_req('/mfa', 'pwd'), 401, 'mfa_required', 'password only' ],
    [ jwt_req('/mfa', 'none'), 401, 'mfa_required', 'no amr claim' ],
    [ jwt_req('/mfa', 'empty'), 401, 'mfa_required', 'empty amr' ],
    [ jwt_req('/mfa', 'string'), 401, 'mfa_required',
      'amr as a string, not an array (RFC 8176)' ],
    [ jwt_req('/mfa', 'MFA'), 401, 'mfa_required', 'case-sensitive' ],
    [ key_req('/mfa'), 401, 'mfa_required', 'an API key, always' ],

    [ jwt_req('/otp', 'pwd otp'), 200, "otp\n", 'listed: otp' ],
    [ jwt_req('/otp', 'hwk'), 200, "otp\n", 'listed: hwk' ],
    [ jwt_req('/otp', 'mfa'), 401, 'mfa_required',
      'a method not in the list' ],
    [ jwt_req('/custom', 'custom'), 200, "custom\n",
      'a method outside RFC 8176, listed' ],
    [ jwt_req('/custom', 'mfa'), 401, 'mfa_required',
      'the list replaces the defaults' ],

    [ jwt_req('/plain', 'none'), 200, "plain\n", 'no requirement' ],
    [ key_req('/plain'), 200, "plain\n", 'no requirement, API key' ],

    [ jwt_req('/scoped', 'none'), 403, 'insufficient_scope',
      'scopes first: a step-up would not help' ],
    [ jwt_req('/scoped', 'scoped pwd'), 401, 'mfa_required',
      'scope met, MFA not' ],
    [ jwt_req('/scoped', 'scoped mfa'), 200, "scoped\n", 'both met' ],

    [ jwt_req('/redirect', 'pwd'), 401, 'mfa_required',
      'rewrite ... last into a location that needs MFA' ],
    [ jwt_req('/redirect', 'mfa'), 200, "mfa u\n",
      'rewrite ... last, with MFA' ],
);

my @res = requests($t, [ map { $_->[0] } @cases ]);

for my $i (0 .. $#cases) {
    my (undef, $status, $want, $name) = @{ $cases[$i] };
    my $r = $res[$i] || {};

    is($r->{status}, $status, "$name: $status") or diag($r->{body});

    if ($status == 200) {
        is($r->{body}, $want, "$name: body");
    } else {
        is(reason_of($r), $want, "$name: $want");
    }
}

# compliance_status counts them by reason
my $refused = grep { $_->[2] eq 'mfa_required' } @cases;
my $m = $t->http(%{ jwt_req('/metrics?format=json', 'none') });
my $mj = eval { decode_json($m->{body}) } || {};
is($mj->{compliance_refusals_total}{mfa_required}, $refused,
   'compliance_refusals_total{reason="mfa_required"}');

my $STEP_UP = 'Bearer realm="api", error="insufficient_user_authentication"'
    . ', error_description="multi-factor authentication required"';

my $r = $res[5];
is($r->{header}->('WWW-Authenticate'), $STEP_UP, 'RFC 9470 challenge');
is(scalar @{ $r->{headers}{'www-authenticate'} || [] }, 1,
   'one challenge');
like($r->{header}->('Content-Type'), qr{^application/problem\+json},
     'problem+json');
my $p = eval { decode_json($r->{body}) } || {};
is($p->{status}, 401, 'problem status');
is($p->{title}, 'Unauthorized', 'problem title');
is($p->{type}, 'about:blank', 'problem type');
is($res[10]{header}->('WWW-Authenticate'), $STEP_UP,
   'the same challenge for an API key');
is($res[18]{header}->('WWW-Authenticate'),
   'Bearer realm="api", error="insufficient_scope"',
   'a scope refusal keeps its own challenge');

# --- inheritance, public locations, and no lockout
my $p1 = $t->port(1);
my @r = requests($t, [
    jwt_req('/', 'mfa'),
    (jwt_req('/', 'pwd')) x 4,
    jwt_req('/', 'mfa'),
    { uri => '/health' },
], port => $p1);

is($r[0]{status}, 200, 'server-level requirement inherited and met');
is(reason_of($r[$_]), 'mfa_required', "inherited: refused ($_)")
    for 1 .. 4;
is($r[5]{status}, 200,
   'four mfa_required refusals do not lock the client out');
is($r[6]{body}, "public\n", 'a public location needs no MFA');

# --- audit records
sub records {
    my $text = $t->read_file('logs/audit.jsonl') // '';
    return map { eval { decode_json($_) } // {} } split /\n/, $text;
}

my $want = @cases + @r;
$t->wait_for(sub { records() >= $want }, timeout => 5);
my @recs = records();

my ($ok) = grep { ($_->{path} // '') eq '/mfa' && $_->{status} == 200 }
           @recs;
is($ok->{amr}, 'pwd otp', 'an allowed request records the methods');
my ($no) = grep { ($_->{reason} // '') eq 'mfa_required'
                  && ($_->{amr} // '') eq 'pwd' } @recs;
ok($no, 'a refusal records the methods the token had');
is($no->{event}, 'auth_failure', 'event auth_failure');
my ($key) = grep { ($_->{reason} // '') eq 'mfa_required'
                   && ($_->{auth_method} // '') eq 'api_key' } @recs;
ok($key && !exists $key->{amr}, 'an API-key refusal: no amr');
my ($plain) = grep { ($_->{path} // '') eq '/plain' } @recs;
ok($plain && !exists $plain->{amr}, 'no amr where MFA is not required');

# --- refusals at nginx -t
$t->config_refusals([
    [ 'compliance_require_mfa mfa "o p";',
      qr/invalid authentication method "o p" in "compliance_require_mfa"/ ],
    [ 'compliance_require_mfa "";',
      qr/invalid authentication method "" in "compliance_require_mfa"/ ],
    [ "compliance_require_mfa; compliance_require_mfa otp;",
      qr/"compliance_require_mfa" directive is duplicate/ ],
], at => 'location', server => 'compliance on;');

# written where it could never act
my $public = qr/public \("compliance_public "probe""\), would never be/;
my $off = qr/where "compliance" is off, would never be enforced/;
$t->config_refusals([
    [ 'compliance_public "probe"; compliance_require_mfa;',
      qr/"compliance_require_mfa" in location "\/", $public checked in \S/ ],
    [ 'compliance off; compliance_require_mfa;',
      qr/"compliance_require_mfa" in location "\/", $off/ ],
], at => 'location', server => 'compliance on;');

# at server level it is for the locations below, public ones included
$t->config_accepted(<<'EOF', 'server level above a public location');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT_5%%;
        compliance on;
        compliance_require_mfa;
        location /health { compliance_public "probe"; return 200; }
        location /off { compliance off; return 200; }
    }
}
EOF

$t->finish;
