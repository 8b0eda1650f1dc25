#!/usr/bin/perl
# JWT authentication: tokens minted by two independent implementations
# (PyJWT and libjwt) verify for every supported algorithm, against PEM
# public keys and against a JWKS; issuer, audience and lifetime policies;
# the identity variables and $compliance_jwt_claim_<name>;
# compliance_jwt_claims; the per-worker verified-token cache.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::HiRes ();
use Test::Compliance;
use Test::ComplianceAuth qw(make_keys make_secret pyjwt libjwt_mint
    libjwt_bin oct_jwk jwks reason_of bearer run_cmd);

plan skip_all => 'Debian python3-jwt not available'
    unless Test::ComplianceAuth::python_ok();
plan skip_all => 'openssl CLI not available'
    unless Test::Compliance::openssl_available();

my $t = Test::Compliance->new;

my $k = make_keys($t, rsa => 'rsa', ec256 => 'ec256', ec384 => 'ec384');
my $hs = make_secret($t, 'hs', 64);
my $now = time;

my %priv = (
    (map { ("HS$_" => $hs->{key}) } 256, 384, 512),
    (map { ("RS$_" => $k->{rsa}{key}, "PS$_" => $k->{rsa}{key}) }
        256, 384, 512),
    ES256 => $k->{ec256}{key},
    ES384 => $k->{ec384}{key},
);
my %kid = (
    (map { ("HS$_" => 'hs-1') } 256, 384, 512),
    (map { ("RS$_" => 'rsa-1', "PS$_" => 'rsa-1') } 256, 384, 512),
    ES256 => 'ec256-1',
    ES384 => 'ec384-1',
);
my @ALGS = qw(HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512
    ES256 ES384);

# one python run: the JWKs, then every token
my @ops = (
    { op => 'jwk', pub => $k->{rsa}{pub}, kid => 'rsa-1' },
    { op => 'jwk', pub => $k->{ec256}{pub}, kid => 'ec256-1' },
    { op => 'jwk', pub => $k->{ec384}{pub}, kid => 'ec384-1' },
);

my @names;

sub add {
    my ($name, $op) = @_;

    push @names, $name;
    push @ops, $op;
}

for my $alg (@ALGS) {
    my $c = { sub => "py-$alg", exp => $now + 600, iat => $now };

    add("py-pem-$alg", { op => 'jwt', alg => $alg, key => $priv{$alg},
        claims => $c });
    add("py-jwks-$alg", { op => 'jwt', alg => $alg, key => $priv{$alg},
        kid => $kid{$alg}, claims => $c });
}

my %base = (op => 'jwt', alg => 'RS256', key => $k->{rsa}{key},
    kid => 'rsa-1');

add('vars', { %base, claims => {
    sub => 'alice', org_id => 'acme', exp => $now + 600,
    scope => 'read write', email => 'alice@example.com', level => 7,
    ratio => 0.5, admin => JSON::PP::true, nested => { a => 1 },
    list => [1, 2], Tenant => 'UPPER', tenant => 'lower',
    perms => ['p1', 'p2'] } });
add('vars-scp', { %base, claims => {
    sub => 'bob', exp => $now + 600, scp => ['s1', 's2'] } });
add('num-sub', { %base, claims => { sub => 12345, exp => $now + 600 } });

# identity values with line breaks: a signed token is not a trusted one
add('crlf-sub', { %base, claims => { sub => "alice\r\nX-Injected: sub",
    exp => $now + 600 } });
add('lf-org', { %base, claims => { sub => 'ok', exp => $now + 600,
    org_id => "acme\nX-Injected: org" } });
add('crlf-claim', { %base, claims => { sub => 'ok', exp => $now + 600,
    tenant => "t\r\nX-Injected: claim" } });
add('cr-mapped', { %base, claims => { sub => 'ok', exp => $now + 600,
    email => "a\@example.com\rX-Injected: mapped" } });

add('iss-good', { %base, claims => { sub => 'i', exp => $now + 600,
    iss => 'https://issuer.example', aud => 'api' } });
add('iss-second', { %base, claims => { sub => 'i', exp => $now + 600,
    iss => 'https://other.example', aud => ['x', 'api2'] } });
add('aud-array', { %base, claims => { sub => 'i', exp => $now + 600,
    iss => 'https://issuer.example', aud => ['nope', 'api'] } });
add('life-ok', { %base, claims => { sub => 'l', iat => $now,
    exp => $now + 3600 } });
add('life-long', { %base, claims => { sub => 'l', iat => $now,
    exp => $now + 3601 } });

add('cache', { %base, claims => { sub => 'c', exp => $now + 600,
    iss => 'https://wrong.example' } });
add('cache-ps', { %base, alg => 'PS256', claims => { sub => 'cp',
    exp => $now + 600 } });
add('cache-es', { op => 'jwt', alg => 'ES256', key => $k->{ec256}{key},
    kid => 'ec256-1', claims => { sub => 'ce', exp => $now + 600 } });

my @res = pyjwt($t, @ops);
my @jwk = splice @res, 0, 3;
my %tok;
@tok{@names} = @res;

$t->write_file('all.jwks', jwks(@jwk, oct_jwk($hs->{bytes}, kid => 'hs-1')));
$t->write_file('hs.jwks', jwks(oct_jwk($hs->{bytes})));

# the same keys in the other accepted forms: PKCS#1 "RSA PUBLIC KEY" PEM,
# and a single JWK that is not wrapped in a JWKS
my ($rc, $out) = run_cmd('openssl', 'rsa', '-pubin', '-in', $k->{rsa}{pub},
    '-RSAPublicKey_out', '-out', $t->path('rsa.pkcs1'));
die "openssl rsa -RSAPublicKey_out failed: $out\n" if $rc;
$t->write_file('ec256.jwk', $jwk[1]);

# libjwt: an implementation in C that shares no code with the module;
# version 1.10 has no PS algorithms
my @LIBJWT = qw(HS256 HS384 HS512 RS256 RS384 RS512 ES256 ES384);

for my $alg (@LIBJWT) {
    my $c = { sub => "lj-$alg", exp => $now + 600, iat => $now };
    $tok{"lj-pem-$alg"} = libjwt_mint(alg => $alg, key => $priv{$alg},
        claims => $c);
    $tok{"lj-jwks-$alg"} = libjwt_mint(alg => $alg, key => $priv{$alg},
        kid => $kid{$alg}, claims => $c);
}

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        # PEM public keys (no kid) and a JWKS with a kid-less HMAC secret
        location /pem {
            compliance_jwt_keys %%PREFIX%%/rsa.pub;
            compliance_jwt_keys %%PREFIX%%/ec256.pub;
            compliance_jwt_keys %%PREFIX%%/ec384.pub;
            compliance_jwt_keys %%PREFIX%%/hs.jwks;
            return 200 "$compliance_principal\n";
        }

        location /jwks {
            compliance_jwt_keys %%PREFIX%%/all.jwks;
            return 200 "$compliance_principal\n";
        }

        location /pkcs1 {
            compliance_jwt_keys %%PREFIX%%/rsa.pkcs1;
            return 200 "$compliance_principal\n";
        }

        location /single-jwk {
            compliance_jwt_keys %%PREFIX%%/ec256.jwk;
            return 200 "$compliance_principal\n";
        }

        location /vars {
            compliance_jwt_keys %%PREFIX%%/all.jwks;
            return 200 "p=$compliance_principal o=$compliance_org k=$compliance_key_id s=$compliance_scopes m=$compliance_auth_method e=$compliance_jwt_claim_email l=$compliance_jwt_claim_level r=$compliance_jwt_claim_ratio a=$compliance_jwt_claim_admin n=$compliance_jwt_claim_nested li=$compliance_jwt_claim_list x=$compliance_jwt_claim_missing T=$compliance_jwt_claim_Tenant\n";
        }

        location /mapped {
            compliance_jwt_keys %%PREFIX%%/all.jwks;
            compliance_jwt_claims principal=email org=tenant scopes=perms;
            return 200 "p=$compliance_principal o=$compliance_org s=$compliance_scopes\n";
        }

        # what an application behind the gateway receives
        location /inject {
            compliance_jwt_keys %%PREFIX%%/all.jwks;
            proxy_set_header X-Principal $compliance_principal;
            proxy_set_header X-Org $compliance_org;
            proxy_set_header X-Tenant $compliance_jwt_claim_tenant;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }

        location /inject-mapped {
            compliance_jwt_keys %%PREFIX%%/all.jwks;
            compliance_jwt_claims principal=email;
            proxy_set_header X-Principal $compliance_principal;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }

        location /inject-header {
            compliance_jwt_keys %%PREFIX%%/all.jwks;
            add_header X-Principal $compliance_principal;
            add_header X-Org $compliance_org;
            add_header X-Tenant $compliance_jwt_claim_tenant;
            return 200 "ok\n";
        }

        location /policy {
            compliance_jwt_keys %%PREFIX%%/all.jwks;
            compliance_jwt_issuer https://issuer.example https://other.example;
            compliance_jwt_audience api api2;
            return 200 "ok\n";
        }

        location /lifetime {
            compliance_jwt_keys %%PREFIX%%/all.jwks;
            compliance_jwt_max_lifetime 1h;
            return 200 "ok\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_2%%;
        compliance off;

        location / {
            return 200 "injected=[$http_x_injected]\n";
        }
    }

    # one key set for the whole server: every location shares its cache
    server {
        listen 127.0.0.1:%%PORT_1%%;

        compliance_jwt_keys %%PREFIX%%/all.jwks;

        location / {
            return 200 "$compliance_principal\n";
        }

        location /issuer {
            compliance_jwt_issuer https://issuer.example;
            return 200 "issuer $compliance_principal\n";
        }

        # another key set: nothing cached for all.jwks counts here
        location /rsa-only {
            compliance_jwt_keys %%PREFIX%%/rsa.pub;
            return 200 "rsa-only $compliance_principal\n";
        }

        location /rs256 {
            compliance_jwt_algorithms RS256;
            return 200 "rs256 $compliance_principal\n";
        }
    }
}
EOF

$t->run;

sub get {
    my ($uri, $tok, %o) = @_;

    return { uri => $uri, headers => bearer($tok), %o };
}

sub batch {
    my (%o) = @_;

    my $rs = $t->keepalive(%o) || [];
    return @$rs;
}

# --- interoperability: every algorithm, both minters, PEM and JWKS
my @req;
my @want;

for my $alg (@ALGS) {
    push @req, get('/pem', $tok{"py-pem-$alg"}),
        get('/jwks', $tok{"py-jwks-$alg"});
    push @want, [ "PyJWT $alg, PEM key", "py-$alg" ],
        [ "PyJWT $alg, JWKS kid", "py-$alg" ];
}

for my $alg (@LIBJWT) {
    push @req, get('/pem', $tok{"lj-pem-$alg"}),
        get('/jwks', $tok{"lj-jwks-$alg"});
    push @want, [ "libjwt $alg, PEM key", "lj-$alg" ],
        [ "libjwt $alg, JWKS kid", "lj-$alg" ];
}

# the other key file forms
push @req, get('/pkcs1', $tok{'py-pem-RS256'}),
    get('/pkcs1', $tok{'py-pem-PS384'}),
    get('/single-jwk', $tok{'py-jwks-ES256'}),
    get('/single-jwk', $tok{'lj-pem-ES256'});
push @want, [ 'PKCS#1 RSA PUBLIC KEY PEM (RS256)', 'py-RS256' ],
    [ 'PKCS#1 RSA PUBLIC KEY PEM (PS384)', 'py-PS384' ],
    [ 'a single JWK (kid)', 'py-ES256' ],
    [ 'a single JWK (libjwt, no kid)', 'lj-ES256' ];

# a JWKS token without kid: any key of the right type may verify it
push @req, get('/jwks', $tok{'py-pem-ES384'}),
    get('/jwks', $tok{'py-pem-PS512'});
push @want, [ 'JWKS, token without kid (ES384)', 'py-ES384' ],
    [ 'JWKS, token without kid (PS512)', 'py-PS512' ];

my @r = batch(requests => \@req);
is(scalar @r, scalar @req, 'interop: all answered on one connection');

for my $i (0 .. $#want) {
    my ($name, $sub) = @{ $want[$i] };
    my $r = $r[$i] || {};
    is($r->{status}, 200, "$name verifies") or diag($r->{body});
    is($r->{body}, "$sub\n", "$name: principal");
}

# libjwt 1.10 cannot make PS tokens: PyJWT alone covers PS256/384/512
($rc, $out) = run_cmd(libjwt_bin(), '--alg', 'PS256', '--key', $priv{PS256});
ok($rc != 0, 'libjwt 1.10 has no PS256 (PyJWT covers PS)')
    or diag("libjwt now makes PS tokens: add them to \@LIBJWT ($out)");

# --- identity variables and claim variables
my $r = $t->http(%{ get('/vars', $tok{vars}) });
is($r->{status}, 200, 'vars: served');
is($r->{body}, 'p=alice o=acme k=rsa-1 s=read write m=jwt '
    . 'e=alice@example.com l=7 r=0.5 a=true n= li= x= T=lower' . "\n",
    'principal, org, kid, scopes, method and claims as variables; '
    . 'objects, arrays and absent claims are empty; names are lowercased');

$r = $t->http(%{ get('/vars', $tok{'vars-scp'}) });
like($r->{body}, qr/^p=bob o= k=rsa-1 s=s1 s2 m=jwt /,
     'scp array gives the scopes; no org claim gives an empty org');

$r = $t->http(%{ get('/vars', $tok{'num-sub'}) });
like($r->{body}, qr/^p=12345 /, 'a numeric sub is the principal as text');

$r = $t->http(%{ get('/mapped', $tok{vars}) });
is($r->{body}, "p=alice\@example.com o=lower s=p1 p2\n",
   'compliance_jwt_claims principal=email org=tenant scopes=perms');

$r = $t->http(%{ get('/mapped', $tok{'vars-scp'}) });
is($r->{status}, 401, 'mapped principal claim absent: refused');
is(reason_of($r), 'malformed_token', 'mapped principal absent: reason');

# a cached token's identity is kept for one claim mapping: the same token
# again, in turn under both mappings, and a numeric principal (formatted
# per request, never kept)
for my $pass (1, 2) {
    $r = $t->http(%{ get('/vars', $tok{vars}) });
    like($r->{body}, qr/^p=alice o=acme k=rsa-1 s=read write m=jwt /,
         "cached token, default mapping again (pass $pass)");
    $r = $t->http(%{ get('/mapped', $tok{vars}) });
    is($r->{body}, "p=alice\@example.com o=lower s=p1 p2\n",
       "cached token, the other mapping again (pass $pass)");
    $r = $t->http(%{ get('/vars', $tok{'num-sub'}) });
    like($r->{body}, qr/^p=12345 /, "numeric sub again (pass $pass)");
}

# --- claim values with CR/LF must not become headers: not towards the
# application (proxy_set_header) nor in the response (add_header).  Either
# the token is refused or the value is made safe; a header line of its own
# is a forged identity at the application and response splitting.
@r = batch(requests => [
    (map { get('/inject', $tok{$_}) } qw(crlf-sub lf-org crlf-claim)),
    get('/inject-mapped', $tok{'cr-mapped'}),
    (map { get('/inject-header', $tok{$_}) } qw(crlf-sub lf-org crlf-claim)),
]);

for my $i (0 .. 3) {
    my $what = (qw(sub org_id tenant email))[$i];
    my $r = $r[$i] || {};
    my $safe = ($r->{status} // 0) == 401
        || (($r->{status} // 0) == 200 && $r->{body} eq "injected=[]\n");
    ok($safe, "a line break in $what reaches the application as no header "
       . "of its own (token refused, or value made safe)")
        or diag("application answered: $r->{status} $r->{body}");
}

for my $i (4 .. 6) {
    my $what = (qw(sub org_id tenant))[$i - 4];
    my $r = $r[$i] || {};
    my ($head) = split /\r\n\r\n/, $r->{raw} // '', 2;
    (my $bare = $head // '') =~ s/\r\n//g;
    ok(!$r->{headers}{'x-injected'} && $bare !~ /[\r\n]/,
       "a line break in $what splits no response header")
        or diag($r->{raw});
}

# --- issuer, audience (string and array), max lifetime
@r = batch(requests => [
    get('/policy', $tok{'iss-good'}),
    get('/policy', $tok{'iss-second'}),
    get('/policy', $tok{'aud-array'}),
    get('/lifetime', $tok{'life-ok'}),
    get('/lifetime', $tok{'life-long'}),
]);
is($r[0]{status}, 200, 'issuer and audience string match');
is($r[1]{status}, 200, 'second issuer of the list, audience array');
is($r[2]{status}, 200, 'audience array holding one allowed value');
is($r[3]{status}, 200, 'lifetime exactly at compliance_jwt_max_lifetime');
is($r[4]{status}, 401, 'lifetime one second over the maximum');
is(reason_of($r[4]), 'lifetime_too_long', 'lifetime reason');

# --- the verified-token cache (one worker, so every request meets it)
my $p1 = $t->port(1);

@r = batch(port => $p1, requests => [
    get('/', $tok{cache}),
    get('/', $tok{cache}),
    get('/issuer', $tok{cache}),
    get('/', $tok{cache}),
    get('/', $tok{'cache-ps'}),
    get('/rs256', $tok{'cache-ps'}),
    get('/rs256', $tok{cache}),
    get('/', $tok{'cache-es'}),
    get('/rsa-only', $tok{'cache-es'}),
    get('/rsa-only', $tok{cache}),
    get('/rsa-only', $tok{'py-pem-RS256'}),
]);
is($r[0]{status}, 200, 'cache: first use verifies');
is($r[1]{status}, 200, 'cache: the same token again (from the cache)');
is($r[1]{body}, "c\n", 'cache: identity from the cached token');
is($r[2]{status}, 401, 'cache: claims are checked on a cache hit');
is(reason_of($r[2]), 'bad_issuer',
   'cache: a cached token still meets the stricter location policy');
is($r[3]{status}, 200, 'cache: a refusal did not evict or poison it');
is($r[4]{status}, 200, 'cache: PS256 token verified and cached');
is($r[5]{status}, 401, 'cache: cached PS256 token where only RS256 is');
is(reason_of($r[5]), 'alg_not_allowed',
   'cache: the allow-list applies to cached tokens');
is($r[6]{body}, "rs256 c\n", 'cache: RS256 token passes there');
is($r[7]{status}, 200, 'cache: ES256 token verified and cached');
is($r[8]{status}, 401, 'cache: not used for a location with other keys');
is(reason_of($r[8]), 'alg_not_allowed', 'cache: ... alg_not_allowed there');
is($r[9]{status}, 401,
   'cache: a kid the other key set does not carry is refused there');
is(reason_of($r[9]), 'unknown_key', 'cache: ... unknown_key');
is($r[10]{body}, "rsa-only py-RS256\n",
   'cache: a token without kid verifies against the other key set');

# a token that expires while cached is refused: minted here, expiring two
# seconds after minting, used at once (twice), then again once expired
$tok{short} = pyjwt($t, { %base, claims => { sub => 'short' },
    rel => { exp => 2 } });

$r = $t->http(%{ get('/', $tok{short}) }, port => $p1);
is($r->{status}, 200, 'short-lived token served');
$r = $t->http(%{ get('/', $tok{short}) }, port => $p1);
is($r->{status}, 200, 'short-lived token served again (cached)');

my $exp = decode_json(Test::ComplianceAuth::b64url_decode(
    (split /\./, $tok{short})[1]))->{exp};
Time::HiRes::sleep(0.05) while time <= $exp;

$r = $t->http(%{ get('/', $tok{short}) }, port => $p1);
is($r->{status}, 401, 'expired after being cached: refused');
is(reason_of($r), 'token_expired', 'expired after being cached: reason');
is($r->{header}->('www-authenticate'),
   'Bearer realm="api", error="invalid_token"', 'RFC 6750 challenge');

$t->finish;
