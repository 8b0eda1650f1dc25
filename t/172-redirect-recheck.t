#!/usr/bin/perl
# After an internal redirect ("rewrite ... last", error_page to a named
# location) a token stands only if the target location would have
# accepted it directly: its algorithm allow-list, key set, issuer,
# audience and lifetime policy, and the identity (principal, org, scopes)
# read with the target's compliance_jwt_claims, never the source's.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use MIME::Base64 qw(encode_base64url);
use Digest::SHA qw(hmac_sha256 hmac_sha384);
use Test::Compliance;

my $t = Test::Compliance->new;

my %secret = (k256 => 'hs256-secret-of-at-least-32-bytes-x',
              k384 => 'hs384-secret-of-at-least-48-bytes-for-the-384-x');

$t->write_file('jwks.json', encode_json({ keys => [
    { kty => 'oct', kid => 'k256', alg => 'HS256',
      k => encode_base64url($secret{k256}) },
    { kty => 'oct', kid => 'k384', alg => 'HS384',
      k => encode_base64url($secret{k384}) } ] }), 0600);
$t->write_file('other.json', encode_json({ keys => [
    { kty => 'oct', kid => 'k256', alg => 'HS256',
      k => encode_base64url('a-different-secret-of-32-bytes-xx') } ] }),
    0600);

sub jwt {
    my ($kid, $claims) = @_;

    my $alg = $kid eq 'k384' ? 'HS384' : 'HS256';
    my $h = encode_base64url(encode_json({ alg => $alg, kid => $kid }));
    my $p = encode_base64url(encode_json($claims));
    my $mac = $alg eq 'HS384' ? hmac_sha384("$h.$p", $secret{$kid})
                              : hmac_sha256("$h.$p", $secret{$kid});

    return "$h.$p." . encode_base64url($mac);
}

my $now = time;
my %claims = (sub => 'bob', email => 'carol@example.test', org_id => 'acme',
              tenant => 'globex', scope => 'read', roles => 'read admin',
              iss => 'idp-a', aud => 'api-a', iat => $now - 10,
              exp => $now + 7200);

my $hs256 = jwt('k256', \%claims);
my $hs384 = jwt('k384', \%claims);

$t->forbid_in_logs($hs256, $hs384);

$t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_0%%;

        compliance on;
        compliance_jwt_keys jwks.json;
        compliance_jwt_algorithms HS256 HS384;

        set \$who "\$compliance_principal \$compliance_org \$compliance_scopes";

        # the loose sources: every algorithm, the default claim mapping
        location /src/ {
            rewrite ^/src/(.*)\$ /\$1 last;
        }

        location /named/ {
            error_page 418 = \@named;
            return 418;
        }

        location \@named {
            compliance_jwt_algorithms HS256;
            return 200 "named \$compliance_principal\\n";
        }

        # the strict targets
        location /hs256-only/ {
            compliance_jwt_algorithms HS256;
            return 200 "hs256-only \$compliance_principal\\n";
        }

        location /claims/ {
            compliance_jwt_claims principal=email org=tenant scopes=roles;
            compliance_require_scope admin;
            return 200 "claims \$compliance_principal \$compliance_org \$compliance_scopes\\n";
        }

        location /audience/ {
            compliance_jwt_audience api-b;
            return 200 "audience\\n";
        }

        location /lifetime/ {
            compliance_jwt_max_lifetime 1h;
            return 200 "lifetime\\n";
        }

        location /other-keys/ {
            compliance_jwt_keys other.json;
            return 200 "other-keys\\n";
        }

        location /default/ {
            compliance_require_scope admin;
            return 200 "default \$compliance_principal\\n";
        }
    }
}
EOF

$t->run;

sub reason {
    my ($r) = @_;
    my $p = eval { decode_json($r->{body}) } || {};
    return $p->{reason} // $p->{error} // '';
}

sub get {
    my ($uri, $tok) = @_;
    return $t->http(uri => $uri,
                    headers => [ [ 'Authorization', "Bearer $tok" ] ]);
}

# each target, asked directly and through a looser location: same answer
my @cases = (
    # [target, token, status, body or reason, name]
    [ '/hs256-only/x', $hs256, 200, "hs256-only bob\n",
      'an allowed algorithm' ],
    [ '/hs256-only/x', $hs384, 401, 'alg_not_allowed',
      'an algorithm the target does not allow' ],
    [ '/claims/x', $hs256, 200,
      "claims carol\@example.test globex read admin\n",
      'the target\'s claim mapping names principal, org and scopes' ],
    [ '/default/x', $hs256, 403, 'insufficient_scope',
      'the default mapping reads scope, not roles' ],
    [ '/audience/x', $hs256, 401, 'bad_audience',
      'the target\'s audience' ],
    [ '/lifetime/x', $hs256, 401, 'lifetime_too_long',
      'the target\'s lifetime bound' ],
    [ '/other-keys/x', $hs256, 401, undef,
      'a target with another key set' ],
);

for my $c (@cases) {
    my ($uri, $tok, $status, $want, $name) = @$c;

    for my $via ('', '/src') {
        my $how = $via ? 'via rewrite ... last' : 'directly';
        my $r = get("$via$uri", $tok);

        is($r->{status}, $status, "$name, $how: $status");

        if (!defined $want) {
            next;

        } elsif ($status == 200) {
            is($r->{body}, $want, "$name, $how: identity");

        } else {
            is(reason($r), $want, "$name, $how: $want");
        }
    }
}

# the key-set change is refused as unknown_key after the redirect
is(reason(get('/src/other-keys/x', $hs256)), 'unknown_key',
   'another key set after a redirect: unknown_key');

# a named location re-checks too
my $r = get('/named/x', $hs384);
is($r->{status}, 401, 'error_page = @named with a disallowed alg: 401');
is(reason($r), 'alg_not_allowed', 'alg_not_allowed');
$r = get('/named/x', $hs256);
is($r->{body}, "named bob\n", 'error_page = @named with an allowed alg');

# the audit trail is not asked for here; the identity variables are
$r = get('/src/claims/x', $hs256);
unlike($r->{body}, qr/\bbob\b/, 'no trace of the source\'s principal');

$t->finish;
