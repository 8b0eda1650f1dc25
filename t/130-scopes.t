#!/usr/bin/perl
# compliance_require_scope: all-of semantics, scopes from the "scope"
# string, the "scp" array and API-key records, exact and case-sensitive
# matching, location inheritance, and internal redirects (rewrite,
# try_files to a named location, error_page) into a stricter location.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;
use Test::ComplianceAuth qw(make_secret pyjwt keygen oct_jwk jwks reason_of
    requests);

plan skip_all => 'Debian python3-jwt not available'
    unless Test::ComplianceAuth::python_ok();

my $t = Test::Compliance->new;

my $hs = make_secret($t, 'hs', 32);
$t->write_file('hs.jwks', jwks(oct_jwk($hs->{bytes}, kid => 'hs')));

my %claims = (
    'scope a b'         => { scope => 'a b' },
    'scope b c a'       => { scope => 'b c a' },
    'scope a'           => { scope => 'a' },
    'scope b'           => { scope => 'b' },
    'scope ab'          => { scope => 'ab' },
    'scope A B'         => { scope => 'A B' },
    'scope a admin'     => { scope => 'a admin' },
    'scope admin'       => { scope => 'admin' },
    'scope ""'          => { scope => '' },
    'no scope'          => {},
    'scp [a, b]'        => { scp => ['a', 'b'] },
    'scp [a]'           => { scp => ['a'] },
    'scp "a b"'         => { scp => 'a b' },
    'scope [a, b]'      => { scope => ['a', 'b'] },
    'scope a, scp [b]'  => { scope => 'a', scp => ['b'] },
    'scope base'        => { scope => 'base' },
    'scope other'       => { scope => 'other' },
    "scope it's"        => { scope => "read it's" },
);

my @names = sort keys %claims;
my %tok;
@tok{@names} = pyjwt($t, map {
    +{ op => 'jwt', alg => 'HS256', key => $hs->{key}, kid => 'hs',
       claims => { sub => 'u', exp => time + 600, %{ $claims{$_} } } }
} @names);

my $keys = $t->path('keys.txt');
my %key = (
    'key a,b' => keygen($keys, '--principal', 'k', '--scopes', 'a,b'),
    'key a'   => keygen($keys, '--principal', 'k', '--scopes', 'a'),
    'key -'   => keygen($keys, '--principal', 'k'),
    'key a,admin' => keygen($keys, '--principal', 'k', '--scopes',
        'a,admin'),
);

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

        location /ab {
            compliance_require_scope a b;
            return 200 "ab [$compliance_scopes]\n";
        }

        location /a {
            compliance_require_scope a;
            return 200 "a [$compliance_scopes]\n";
        }

        location /none {
            return 200 "none [$compliance_scopes]\n";
        }

        location /admin {
            compliance_require_scope admin;
            return 200 "admin\n";
        }

        # a single quote is a scope-token character (RFC 6749 3.3): what
        # the config accepts, a token can carry
        location /quote {
            compliance_require_scope "it's";
            return 200 "quote [$compliance_scopes]\n";
        }

        # "rewrite ... last" after the check of this location
        location /rewrite {
            compliance_require_scope a;
            rewrite ^ /admin last;
        }

        location /tryfiles {
            compliance_require_scope a;
            root %%PREFIX%%/empty;
            try_files $uri @admin;
        }

        location @admin {
            compliance_require_scope admin;
            return 200 "named admin\n";
        }

        location /errorpage {
            compliance_require_scope a;
            error_page 404 = /admin;
            return 404;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;

        compliance_require_scope base;

        location / {
            return 200 "inherited\n";
        }

        # replaces the inherited requirement, like any nginx setting
        location /override {
            compliance_require_scope other;
            return 200 "override\n";
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
    return { uri => $uri,
             headers => [ [ 'Authorization', "Bearer $tok{$name}" ] ] };
}

sub key_req {
    my ($uri, $name) = @_;

    return { uri => $uri, headers => [ [ 'X-API-Key', $key{$name} ] ] };
}

# [request, status, body or reason, name]
my @cases = (
    [ jwt_req('/ab', 'scope a b'), 200, "ab [a b]\n",
      'scope "a b" meets "a b"' ],
    [ jwt_req('/ab', 'scope b c a'), 200, "ab [b c a]\n",
      'order and extra scopes do not matter' ],
    [ jwt_req('/ab', 'scope a'), 403, 'insufficient_scope',
      'all-of: "a" alone does not meet "a b"' ],
    [ jwt_req('/ab', 'scope b'), 403, 'insufficient_scope',
      'all-of: "b" alone does not meet "a b"' ],
    [ jwt_req('/a', 'scope ab'), 403, 'insufficient_scope',
      '"ab" is not "a" (whole tokens only)' ],
    [ jwt_req('/ab', 'scope A B'), 403, 'insufficient_scope',
      'scopes are case-sensitive' ],
    [ jwt_req('/a', 'scope ""'), 403, 'insufficient_scope',
      'empty scope' ],
    [ jwt_req('/a', 'no scope'), 403, 'insufficient_scope',
      'no scope claim' ],
    [ jwt_req('/none', 'no scope'), 200, "none []\n",
      'no requirement, no scope: served' ],
    [ jwt_req('/ab', 'scp [a, b]'), 200, "ab [a b]\n",
      'scp array' ],
    [ jwt_req('/ab', 'scp [a]'), 403, 'insufficient_scope',
      'scp array lacking one' ],
    [ jwt_req('/ab', 'scp "a b"'), 200, "ab [a b]\n",
      'scp as a space-separated string' ],
    [ jwt_req('/ab', 'scope [a, b]'), 200, "ab [a b]\n",
      'scope as an array' ],
    [ jwt_req('/ab', 'scope a, scp [b]'), 403, 'insufficient_scope',
      '"scope" present: "scp" is not merged in' ],
    [ jwt_req('/a', 'scope a, scp [b]'), 200, "a [a]\n",
      '... the scopes are those of "scope"' ],

    [ key_req('/ab', 'key a,b'), 200, "ab [a b]\n",
      'API key scopes=a,b meets "a b"' ],
    [ key_req('/ab', 'key a'), 403, 'insufficient_scope',
      'API key scopes=a does not' ],
    [ key_req('/a', 'key -'), 403, 'insufficient_scope',
      'API key without scopes' ],

    [ jwt_req('/quote', "scope it's"), 200, "quote [read it's]\n",
      'a scope with a single quote, required and carried' ],
    [ jwt_req('/quote', 'scope a'), 403, 'insufficient_scope',
      'without it' ],

    # internal redirects keep the identity, and meet the new location
    [ jwt_req('/rewrite', 'scope a'), 403, 'insufficient_scope',
      'rewrite ... last into a stricter location' ],
    [ jwt_req('/rewrite', 'scope a admin'), 200, "admin\n",
      'rewrite ... last with both scopes' ],
    [ jwt_req('/rewrite', 'scope admin'), 403, 'insufficient_scope',
      'the first location\'s requirement applied too' ],
    [ jwt_req('/tryfiles', 'scope a'), 403, 'insufficient_scope',
      'try_files into a stricter named location' ],
    [ jwt_req('/tryfiles', 'scope a admin'), 200, "named admin\n",
      'try_files into the named location with both scopes' ],
    [ jwt_req('/errorpage', 'scope a'), 403, 'insufficient_scope',
      'error_page into a stricter location' ],
    [ jwt_req('/errorpage', 'scope a admin'), 200, "admin\n",
      'error_page with both scopes' ],
    [ key_req('/rewrite', 'key a'), 403, 'insufficient_scope',
      'API key: rewrite into a stricter location' ],
    [ key_req('/rewrite', 'key a,admin'), 200, "admin\n",
      'API key: rewrite with both scopes' ],
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

my $p = eval { decode_json($res[2]{body}) } || {};
is($p->{title}, 'Forbidden', '403 problem title');
is($p->{status}, 403, '403 problem status');

# --- inheritance from the server level
my $p1 = $t->port(1);
my @r = requests($t, [
    jwt_req('/', 'scope base'),
    jwt_req('/', 'scope other'),
    jwt_req('/override', 'scope other'),
    jwt_req('/override', 'scope base'),
    { uri => '/health' },
], port => $p1);

is($r[0]{status}, 200, 'server-level requirement inherited and met');
is($r[1]{status}, 403, 'server-level requirement inherited: refused');
is($r[2]{status}, 200, 'location requirement replaces the inherited one');
is($r[3]{status}, 403, 'inherited requirement not merged into the location');
is($r[4]{body}, "public\n", 'a public location needs no scope');

$t->finish;
