#!/usr/bin/perl
# The hostile-input catalogue: every malformed, forged, confused, stale or
# misplaced credential is refused, each with its status AND the
# problem+json reason of SPEC 6.  JWTs (alg none, key confusion, kid
# games, tampering, bad signatures, ES256 encodings, times and leeway
# edges, claims, structure, sizes, encodings) and API keys (unknown,
# wrong secret, expired, wrong source address, malformed, in the URL, in
# the wrong header).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::HiRes ();
use Test::Compliance;
use Test::ComplianceAuth qw(make_keys make_secret pyjwt keygen
    apikey_record oct_jwk jwks reason_of b64url b64url_decode requests);

plan skip_all => 'Debian python3-jwt not available'
    unless Test::ComplianceAuth::python_ok();
plan skip_all => 'openssl CLI not available'
    unless Test::Compliance::openssl_available();

my $t = Test::Compliance->new;

my $k = make_keys($t, rsa => 'rsa', ec => 'ec256', rsa2 => 'rsa');
my $hs = make_secret($t, 'hs', 32);
my $now = time;
my $J = JSON::PP->new->canonical;

my $RSA = { alg => 'RS256', key => $k->{rsa}{key} };
my $HS = { alg => 'HS256', key => $hs->{key} };
my $EC = { alg => 'ES256', key => $k->{ec}{key} };

sub claims { return { sub => 'mallory', exp => $now + 600, @_ } }

# --- mint everything in one python run
my (@ops, @names);

sub op {
    my ($name, $op) = @_;

    push @names, $name;
    push @ops, $op;
}

sub jwt {
    my ($name, $base, %o) = @_;

    op($name, { op => 'jwt', %$base, %o });
}

sub raw {
    my ($name, $header, $payload, $sign) = @_;

    op($name, { op => 'raw', header => $header, payload => $payload,
                $sign ? %$sign : () });
}

op('jwk-rsa', { op => 'jwk', pub => $k->{rsa}{pub}, kid => 'rsa-1' });
op('jwk-ec', { op => 'jwk', pub => $k->{ec}{pub}, kid => 'ec-1' });
op('jwk-pin', { op => 'jwk', pub => $k->{rsa}{pub}, kid => 'rsa-pin',
    alg => 'RS256' });

jwt('rs', $RSA, kid => 'rsa-1', claims => claims());
jwt('rs-other', $RSA, kid => 'rsa-1', claims => claims(sub => 'other'));
jwt('rs-rsa2', { alg => 'RS256', key => $k->{rsa2}{key} }, kid => 'rsa-1',
    claims => claims());
jwt('es', $EC, claims => claims());
jwt('hs', $HS, kid => 'hs-1', claims => claims());

# alg "none" in every spelling, with and without a signature
my $pay = $J->encode(claims());

for my $none (qw(none None NONE nOnE)) {
    raw("none-$none", { alg => $none, typ => 'JWT' }, $pay);
}
raw('none-signed', { alg => 'none', kid => 'hs-1' }, $pay,
    { alg => 'HS256', key => $hs->{key} });
raw('alg-missing', { typ => 'JWT', kid => 'hs-1' }, $pay, $HS);
raw('alg-number', { alg => 256, kid => 'hs-1' }, $pay, $HS);
raw('alg-empty', { alg => '', kid => 'hs-1' }, $pay, $HS);
raw('alg-space', { alg => 'HS256 ', kid => 'hs-1' }, $pay, $HS);
raw('alg-lower', { alg => 'hs256', kid => 'hs-1' }, $pay, $HS);

# key confusion: HMAC keyed with the bytes of a public key
my $rsa_pem = { alg => 'HS256', key => $k->{rsa}{pub} };
my $ec_pem = { alg => 'HS256', key => $k->{ec}{pub} };

raw('conf-rsa', { alg => 'HS256', typ => 'JWT' }, $pay, $rsa_pem);
raw('conf-rsa-384', { alg => 'HS384' }, $pay,
    { alg => 'HS384', key => $k->{rsa}{pub} });
raw('conf-ec', { alg => 'HS256', typ => 'JWT' }, $pay, $ec_pem);
raw('conf-rsa-kid', { alg => 'HS256', kid => 'rsa-1' }, $pay, $rsa_pem);
raw('conf-ec-kid', { alg => 'HS256', kid => 'ec-1' }, $pay, $ec_pem);
raw('conf-rsa-nokid', { alg => 'HS256' }, $pay, $rsa_pem);
raw('rs-on-ec-kid', { alg => 'RS256', kid => 'ec-1' }, $pay, $RSA);
raw('ps-on-pinned', { alg => 'PS256', kid => 'rsa-pin' }, $pay,
    { alg => 'PS256', key => $k->{rsa}{key} });
raw('ps-nokid-pinned', { alg => 'PS256' }, $pay,
    { alg => 'PS256', key => $k->{rsa}{key} });
raw('rs512-not-allowed', { alg => 'RS512', kid => 'rsa-1' }, $pay,
    { alg => 'RS512', key => $k->{rsa}{key} });

# kid games: the mixed key set gives every key a kid
for my $kid ('nope', '../../../../etc/passwd', '/dev/null',
    'file:///etc/passwd', 'RSA-1', 'rsa-1 ', '')
{
    raw("kid-[$kid]", { alg => 'RS256', kid => $kid }, $pay, $RSA);
}
raw('kid-nul', '{"alg":"RS256","kid":"rsa-1\u0000"}', $pay, $RSA);
raw('kid-number', { alg => 'RS256', kid => 1 }, $pay, $RSA);
raw('kid-object', { alg => 'RS256', kid => { k => 'rsa-1' } }, $pay, $RSA);

# times (no leeway on /mixed)
jwt('expired', $HS, kid => 'hs-1', claims => claims(exp => $now - 60));
jwt('nbf-future', $HS, kid => 'hs-1', claims => claims(nbf => $now + 60));
jwt('exp-string', $HS, kid => 'hs-1',
    claims => claims(exp => '' . ($now + 600)));
jwt('exp-missing', $HS, kid => 'hs-1', claims => { sub => 'mallory' });
jwt('exp-null', $HS, kid => 'hs-1', claims => claims(exp => undef));
jwt('sub-missing', $HS, kid => 'hs-1', claims => { exp => $now + 600 });
jwt('sub-empty', $HS, kid => 'hs-1', claims => claims(sub => ''));
jwt('sub-null', $HS, kid => 'hs-1', claims => claims(sub => undef));
jwt('sub-object', $HS, kid => 'hs-1', claims => claims(sub => { a => 1 }));

# leeway 30s, with margins a one-second tick cannot flip
jwt('lw-exp-90', $HS, kid => 'hs-1', claims => claims(exp => $now - 90));

# issuer, audience, lifetime (/policy)
my %pol = (iss => 'https://issuer.example', aud => 'api', iat => $now);

jwt('pol-good', $HS, kid => 'hs-1', claims => claims(%pol));
jwt('iss-wrong', $HS, kid => 'hs-1',
    claims => claims(%pol, iss => 'https://evil.example'));
jwt('iss-case', $HS, kid => 'hs-1',
    claims => claims(%pol, iss => 'https://ISSUER.example'));
jwt('iss-missing', $HS, kid => 'hs-1',
    claims => claims(aud => 'api', iat => $now));
jwt('iss-array', $HS, kid => 'hs-1',
    claims => claims(%pol, iss => ['https://issuer.example']));
jwt('aud-wrong', $HS, kid => 'hs-1', claims => claims(%pol, aud => 'apix'));
jwt('aud-array-wrong', $HS, kid => 'hs-1',
    claims => claims(%pol, aud => ['x', 'y']));
jwt('aud-missing', $HS, kid => 'hs-1',
    claims => claims(iss => $pol{iss}, iat => $now));
jwt('life-long', $HS, kid => 'hs-1',
    claims => claims(%pol, exp => $now + 3601));
jwt('life-no-iat', $HS, kid => 'hs-1',
    claims => claims(iss => $pol{iss}, aud => 'api'));

# structure, signed with the right key
my $hh = { alg => 'HS256', kid => 'hs-1' };

raw('hdr-not-json', 'not json', $pay, $HS);
raw('hdr-array', '["HS256"]', $pay, $HS);
raw('hdr-string', '"HS256"', $pay, $HS);
raw('hdr-dup-alg', '{"alg":"none","alg":"HS256","kid":"hs-1"}', $pay, $HS);
raw('hdr-crit', { %$hh, crit => ['exp'] }, $pay, $HS);
raw('pay-not-json', $hh, 'sub=mallory', $HS);
raw('pay-array', $hh, '[1,2,3]', $HS);
raw('pay-empty', $hh, '', $HS);
raw('pay-trailing', $hh, $pay . 'x', $HS);
raw('exp-1e300', $hh, '{"sub":"mallory","exp":1e300}', $HS);
raw('exp-year-10000', $hh, '{"sub":"mallory","exp":253402300800}', $HS);
raw('exp-negative', $hh, '{"sub":"mallory","exp":-1}', $HS);
raw('nbf-negative', $hh,
    '{"sub":"mallory","exp":' . ($now + 600) . ',"nbf":-1e300}', $HS);
raw('pay-dup-sub', $hh,
    '{"sub":"alice","sub":"root","exp":' . ($now + 600) . '}', $HS);

my $deep = '{"sub":"mallory","exp":' . ($now + 600) . ',"n":'
    . ('[' x 40) . (']' x 40) . '}';
my $ok_deep = '{"sub":"nested","exp":' . ($now + 600) . ',"n":'
    . ('[' x 8) . (']' x 8) . '}';
raw('deep-claims', $hh, $deep, $HS);
raw('deep-ok', $hh, $ok_deep, $HS);
raw('deep-header', '{"alg":"HS256","kid":"hs-1","x":' . ('{"a":' x 30)
    . '1' . ('}' x 30) . '}', $pay, $HS);

op('size-8192', { op => 'sized', %$HS, kid => 'hs-1', length => 8192,
    claims => claims(sub => 'big') });
op('size-8193', { op => 'sized', %$HS, kid => 'hs-1', length => 8193,
    claims => claims(sub => 'big') });

my %tok;
@tok{@names} = pyjwt($t, @ops);

$t->write_file('mixed.jwks', jwks($tok{'jwk-rsa'}, $tok{'jwk-ec'},
    oct_jwk($hs->{bytes}, kid => 'hs-1')));
$t->write_file('pinned.jwks', jwks($tok{'jwk-pin'}));

# --- API keys: made by the CLI, and written by hand from the format
my $keys = $t->path('keys.txt');
my $good = keygen($keys, '--principal', 'svc', '--scopes', 'read');
my $far = keygen($keys, '--principal', 'far', '--allow', '10.0.0.0/8');
my ($expired, $line) = apikey_record(principal => 'old',
    expires => '2020-01-01');
my ($made, $line2) = apikey_record(principal => 'handmade',
    expires => '2099-12-31');

open my $fh, '>>', $keys or die "$keys: $!";
print {$fh} "# written by hand: the CLI refuses past dates\n", $line, $line2;
close $fh;

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;

    # let 8 KiB+ tokens reach the module instead of nginx's 400
    large_client_header_buffers 4 64k;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location /rsa {
            compliance_jwt_keys %%PREFIX%%/rsa.pub;
            return 200 "$compliance_principal\n";
        }

        location /ec {
            compliance_jwt_keys %%PREFIX%%/ec.pub;
            return 200 "$compliance_principal\n";
        }

        location /mixed {
            compliance_jwt_keys %%PREFIX%%/mixed.jwks;
            compliance_jwt_algorithms HS256 RS256 RS384 PS256 ES256;
            return 200 "$compliance_principal\n";
        }

        location /pinned {
            compliance_jwt_keys %%PREFIX%%/pinned.jwks;
            compliance_jwt_algorithms RS256 PS256;
            return 200 "$compliance_principal\n";
        }

        # an allow-list wider than the keys
        location /rsa-hs {
            compliance_jwt_keys %%PREFIX%%/rsa.pub;
            compliance_jwt_algorithms RS256 HS256;
            return 200 "$compliance_principal\n";
        }

        location /leeway {
            compliance_jwt_keys %%PREFIX%%/mixed.jwks;
            compliance_jwt_leeway 30s;
            return 200 "$compliance_principal\n";
        }

        location /policy {
            compliance_jwt_keys %%PREFIX%%/mixed.jwks;
            compliance_jwt_issuer https://issuer.example;
            compliance_jwt_audience api;
            compliance_jwt_max_lifetime 1h;
            return 200 "$compliance_principal\n";
        }

        location /apikey {
            compliance_api_keys %%PREFIX%%/keys.txt;
            return 200 "$compliance_principal\n";
        }

        location /both {
            compliance_api_keys %%PREFIX%%/keys.txt;
            compliance_jwt_keys %%PREFIX%%/mixed.jwks;
            return 200 "$compliance_principal\n";
        }
    }
}
EOF

$t->run;

# --- token surgery
sub parts { return split /\./, $_[0], -1 }

sub with_sig {
    my ($tok, $sig) = @_;

    my @p = parts($tok);
    return "$p[0].$p[1]." . b64url($sig);
}

sub sig_of { return b64url_decode((parts($_[0]))[2]) }

sub tamper_json {
    my ($tok, $i, $edit) = @_;

    my @p = parts($tok);
    my $v = decode_json(b64url_decode($p[$i]));
    $edit->($v);
    $p[$i] = b64url($J->encode($v));

    return join '.', @p;
}

sub der_int {
    my ($b) = @_;

    $b =~ s/^\x00+//;
    $b = "\x00" . $b if $b eq '' || ord($b) & 0x80;

    return "\x02" . chr(length $b) . $b;
}

my $rs = $tok{rs};
my @rp = parts($rs);
my $rsig = sig_of($rs);
my $esig = sig_of($tok{es});
my ($er, $es) = (substr($esig, 0, 32), substr($esig, 32, 32));
my $order = pack('H*',
    'FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
my $flip = $rsig;
substr($flip, 100, 1) = chr(ord(substr($flip, 100, 1)) ^ 0x01);

is(length $esig, 64, 'PyJWT ES256 signature is r||s');

# [name, uri, headers, status, reason]
my @cases;

sub bad {
    my ($name, $uri, $tok, $reason, $status) = @_;

    push @cases, [ $name, $uri,
        [ [ 'Authorization', "Bearer $tok" ] ], $status // 401, $reason ];
}

sub case {
    push @cases, [ @_ ];
}

# alg none / unusable alg
for my $n (qw(none None NONE nOnE)) {
    bad("alg \"$n\" (no signature), RSA location", '/rsa',
        $tok{"none-$n"}, 'alg_not_allowed');
    bad("alg \"$n\" (no signature), location with an HMAC key", '/mixed',
        $tok{"none-$n"}, 'alg_not_allowed');
}
bad('alg none with an HMAC signature', '/mixed', $tok{'none-signed'},
    'alg_not_allowed');
bad('alg missing', '/mixed', $tok{'alg-missing'}, 'malformed_token');
bad('alg not a string', '/mixed', $tok{'alg-number'}, 'malformed_token');
bad('alg empty', '/mixed', $tok{'alg-empty'}, 'alg_not_allowed');
bad('alg "HS256 " (trailing space)', '/mixed', $tok{'alg-space'},
    'alg_not_allowed');
bad('alg "hs256" (case)', '/mixed', $tok{'alg-lower'}, 'alg_not_allowed');

# key confusion
bad('HS256 keyed with the RSA public key PEM', '/rsa', $tok{'conf-rsa'},
    'alg_not_allowed');
bad('HS384 keyed with the RSA public key PEM', '/rsa',
    $tok{'conf-rsa-384'}, 'alg_not_allowed');
bad('HS256 keyed with the EC public key PEM', '/ec', $tok{'conf-ec'},
    'alg_not_allowed');
bad('HS256 naming the RSA key, keyed with its PEM', '/mixed',
    $tok{'conf-rsa-kid'}, 'alg_not_allowed');
bad('HS256 naming the EC key, keyed with its PEM', '/mixed',
    $tok{'conf-ec-kid'}, 'alg_not_allowed');
bad('HS256 without kid keyed with the RSA PEM: only the HMAC key tried',
    '/mixed', $tok{'conf-rsa-nokid'}, 'bad_signature');
bad('HS256 without kid where HS256 is allowed but only RSA keys exist',
    '/rsa-hs', $tok{'conf-rsa'}, 'unknown_key');
bad('PS256 without kid where the only key pins RS256', '/pinned',
    $tok{'ps-nokid-pinned'}, 'alg_not_allowed');
bad('RS256 naming the EC key', '/mixed', $tok{'rs-on-ec-kid'},
    'alg_not_allowed');
bad('PS256 for a key pinned to RS256', '/pinned', $tok{'ps-on-pinned'},
    'alg_not_allowed');
bad('RS512 outside the allow-list', '/mixed', $tok{'rs512-not-allowed'},
    'alg_not_allowed');

# kid
for my $kid ('nope', '../../../../etc/passwd', '/dev/null',
    'file:///etc/passwd', 'RSA-1', 'rsa-1 ', '')
{
    bad("unknown kid \"$kid\"", '/mixed', $tok{"kid-[$kid]"},
        'unknown_key');
}
bad('a kid where no key has one (PEM keys)', '/rsa', $tok{'kid-[nope]'},
    'unknown_key');
bad('HS256 with a kid where only an EC key is: the alg is checked first',
    '/ec', $tok{'hs'}, 'alg_not_allowed');
bad('kid with a NUL byte', '/mixed', $tok{'kid-nul'}, 'malformed_token');
bad('kid not a string', '/mixed', $tok{'kid-number'}, 'malformed_token');
bad('kid an object', '/mixed', $tok{'kid-object'}, 'malformed_token');

# tampering
bad('header tampered (alg RS256 -> RS384)', '/mixed',
    tamper_json($rs, 0, sub { $_[0]{alg} = 'RS384' }), 'bad_signature');
bad('header tampered (field added)', '/mixed',
    tamper_json($rs, 0, sub { $_[0]{typ} = 'at+jwt' }), 'bad_signature');
bad('payload tampered (sub)', '/mixed',
    tamper_json($rs, 1, sub { $_[0]{sub} = 'admin' }), 'bad_signature');
bad('payload tampered (exp)', '/mixed',
    tamper_json($rs, 1, sub { $_[0]{exp} += 86400 }), 'bad_signature');
bad('payload of another token', '/mixed',
    join('.', $rp[0], (parts($tok{'rs-other'}))[1], $rp[2]),
    'bad_signature');
bad('signature bit flipped', '/mixed', with_sig($rs, $flip),
    'bad_signature');
bad('signature truncated (3 bytes short)', '/mixed',
    with_sig($rs, substr($rsig, 0, -3)), 'bad_signature');
bad('signature truncated to 1 byte', '/mixed',
    with_sig($rs, substr($rsig, 0, 1)), 'bad_signature');
bad('signature empty', '/mixed', "$rp[0].$rp[1].", 'bad_signature');
bad('signature over-long (3 bytes more)', '/mixed',
    with_sig($rs, $rsig . "\0\0\0"), 'bad_signature');
bad('signature doubled', '/mixed', with_sig($rs, $rsig x 2),
    'bad_signature');
bad('signature by another RSA key under the same kid', '/mixed',
    $tok{'rs-rsa2'}, 'bad_signature');

# ES256 signature encodings
bad('ES256 signature of 63 bytes', '/ec',
    with_sig($tok{es}, substr($esig, 0, 63)), 'bad_signature');
bad('ES256 signature of 65 bytes', '/ec', with_sig($tok{es}, $esig . "\0"),
    'bad_signature');
bad('ES256 signature of 65 bytes (leading zero)', '/ec',
    with_sig($tok{es}, "\0" . $esig), 'bad_signature');
bad('ES256 r = 0', '/ec', with_sig($tok{es}, ("\0" x 32) . $es),
    'bad_signature');
bad('ES256 s = 0', '/ec', with_sig($tok{es}, $er . ("\0" x 32)),
    'bad_signature');
bad('ES256 r = s = 0', '/ec', with_sig($tok{es}, "\0" x 64),
    'bad_signature');
bad('ES256 r = n (the group order)', '/ec',
    with_sig($tok{es}, $order . $es), 'bad_signature');
bad('ES256 signature DER-encoded', '/ec',
    with_sig($tok{es}, do {
        my $d = der_int($er) . der_int($es);
        "\x30" . chr(length $d) . $d;
    }), 'bad_signature');

# times and claims
bad('expired', '/mixed', $tok{expired}, 'token_expired');
bad('not yet valid', '/mixed', $tok{'nbf-future'}, 'token_not_yet_valid');
bad('exp missing', '/mixed', $tok{'exp-missing'}, 'malformed_token');
bad('exp a string', '/mixed', $tok{'exp-string'}, 'malformed_token');
bad('exp null', '/mixed', $tok{'exp-null'}, 'malformed_token');
bad('exp 1e300, not a token that never expires', '/mixed',
    $tok{'exp-1e300'}, 'malformed_token');
bad('exp after 9999-12-31', '/mixed', $tok{'exp-year-10000'},
    'malformed_token');
bad('exp negative', '/mixed', $tok{'exp-negative'}, 'malformed_token');
bad('nbf -1e300', '/mixed', $tok{'nbf-negative'}, 'malformed_token');
bad('sub missing', '/mixed', $tok{'sub-missing'}, 'malformed_token');
bad('sub empty', '/mixed', $tok{'sub-empty'}, 'malformed_token');
bad('sub null', '/mixed', $tok{'sub-null'}, 'malformed_token');
bad('sub an object', '/mixed', $tok{'sub-object'}, 'malformed_token');
bad('leeway 30s: exp = now - 90', '/leeway', $tok{'lw-exp-90'},
    'token_expired');
bad('wrong iss', '/policy', $tok{'iss-wrong'}, 'bad_issuer');
bad('iss differs in case', '/policy', $tok{'iss-case'}, 'bad_issuer');
bad('iss missing', '/policy', $tok{'iss-missing'}, 'bad_issuer');
bad('iss an array', '/policy', $tok{'iss-array'}, 'bad_issuer');
bad('wrong aud', '/policy', $tok{'aud-wrong'}, 'bad_audience');
bad('aud array without the audience', '/policy', $tok{'aud-array-wrong'},
    'bad_audience');
bad('aud missing', '/policy', $tok{'aud-missing'}, 'bad_audience');
bad('lifetime over compliance_jwt_max_lifetime', '/policy',
    $tok{'life-long'}, 'lifetime_too_long');
bad('no iat under compliance_jwt_max_lifetime', '/policy',
    $tok{'life-no-iat'}, 'lifetime_too_long');

# structure
bad('header not JSON', '/mixed', $tok{'hdr-not-json'}, 'malformed_token');
bad('header a JSON array', '/mixed', $tok{'hdr-array'}, 'malformed_token');
bad('header a JSON string', '/mixed', $tok{'hdr-string'},
    'malformed_token');
bad('header with "alg" twice', '/mixed', $tok{'hdr-dup-alg'},
    'malformed_token');
bad('header with "crit"', '/mixed', $tok{'hdr-crit'}, 'malformed_token');
bad('payload not JSON', '/mixed', $tok{'pay-not-json'}, 'malformed_token');
bad('payload a JSON array', '/mixed', $tok{'pay-array'}, 'malformed_token');
bad('payload empty', '/mixed', $tok{'pay-empty'}, 'malformed_token');
bad('payload with trailing bytes', '/mixed', $tok{'pay-trailing'},
    'malformed_token');
bad('payload with "sub" twice', '/mixed', $tok{'pay-dup-sub'},
    'malformed_token');
bad('claims nested 40 deep', '/mixed', $tok{'deep-claims'},
    'malformed_token');
bad('header nested 31 deep', '/mixed', $tok{'deep-header'},
    'malformed_token');
bad('token of 8193 characters', '/mixed', $tok{'size-8193'},
    'malformed_token');
bad('token of 20000 characters', '/mixed',
    $tok{hs} . ('A' x (20000 - length $tok{hs})), 'malformed_token');

my @hp = parts($tok{hs});
bad('"+" in the header (base64, not base64url)', '/mixed',
    "$hp[0]+.$hp[1].$hp[2]", 'malformed_token');
bad('"/" in the payload', '/mixed', "$hp[0].$hp[1]/.$hp[2]",
    'malformed_token');
bad('"=" padding on the signature', '/mixed', "$hp[0].$hp[1].$hp[2]=",
    'malformed_token');
bad('"*" in the signature', '/mixed', "$hp[0].$hp[1].*$hp[2]",
    'malformed_token');
bad('a space inside the token', '/mixed', "$hp[0]. $hp[1].$hp[2]",
    'malformed_token');
bad('a base64url segment of impossible length', '/mixed',
    "$hp[0].$hp[1]A.$hp[2]", 'malformed_token');
bad('four segments', '/mixed', "$tok{hs}.$hp[2]", 'malformed_token');
bad('trailing dot', '/mixed', "$tok{hs}.", 'malformed_token');
bad('two segments', '/mixed', "$hp[0].$hp[1]", 'malformed_token');
bad('one segment', '/mixed', $hp[0], 'malformed_token');
bad('only dots', '/mixed', '..', 'malformed_token');
bad('leading dot', '/mixed', ".$tok{hs}", 'malformed_token');

# --- API keys
# the last of the 43 secret characters carries 2 bits: A and Q are both
# canonical, so this is a wrong secret, not a malformed one
(my $wrong = $good) =~ s/.$/substr($good, -1) eq 'A' ? 'Q' : 'A'/e;
my $unknown = 'ck_' . ('a' x 12) . '_' . substr($good, 16);
my ($id) = $good =~ /^ck_([a-z2-7]{12})_/;

case('API key unknown', '/apikey', [ [ 'X-API-Key', $unknown ] ],
    401, 'unknown_api_key');
case('API key with a wrong secret', '/apikey', [ [ 'X-API-Key', $wrong ] ],
    401, 'unknown_api_key');
case('API key with a wrong secret (ApiKey scheme)', '/apikey',
    [ [ 'Authorization', "ApiKey $wrong" ] ], 401, 'unknown_api_key');
case('API key expired', '/apikey', [ [ 'X-API-Key', $expired ] ],
    401, 'api_key_expired');
case('API key from an address outside its allow list', '/apikey',
    [ [ 'X-API-Key', $far ] ], 401, 'ip_not_allowed');
case('API key malformed (short)', '/apikey',
    [ [ 'X-API-Key', 'ck_short' ] ], 401, 'unknown_api_key');
case('API key malformed (upper-case id)', '/apikey',
    [ [ 'X-API-Key', 'ck_' . uc($id) . substr($good, 15) ] ],
    401, 'unknown_api_key');
case('API key malformed (one character more)', '/apikey',
    [ [ 'X-API-Key', $good . 'A' ] ], 401, 'unknown_api_key');
case('API key malformed (no ck_ prefix)', '/apikey',
    [ [ 'X-API-Key', substr($good, 3) ] ], 401, 'unknown_api_key');
case('API key malformed (secret not base64url)', '/apikey',
    [ [ 'X-API-Key', substr($good, 0, -1) . '+' ] ], 401,
    'unknown_api_key');
case('API key header twice', '/apikey',
    [ [ 'X-API-Key', $good ], [ 'X-API-Key', $good ] ], 401,
    'unknown_api_key');
case('API key in the query string (api_key=)', "/apikey?api_key=$good",
    [], 401, 'credential_in_url');
case('API key in the query string (any name)', "/apikey?q=$good",
    [ [ 'X-API-Key', $good ] ], 401, 'credential_in_url');
case('API key in the wrong header (X-Api-Token)', '/apikey',
    [ [ 'X-Api-Token', $good ] ], 401, 'missing_credentials');
case('API key in the wrong header (Authorization: Basic)', '/apikey',
    [ [ 'Authorization', "Basic $good" ] ], 401, 'missing_credentials');
case('API key as a Bearer token where only keys are accepted',
    '/apikey', [ [ 'Authorization', "Bearer $good" ] ], 401,
    'missing_credentials');
case('API key as a Bearer token where JWTs are accepted', '/both',
    [ [ 'Authorization', "Bearer $good" ] ], 401, 'malformed_token');
case('JWT in the query string (access_token=)',
    "/mixed?access_token=$tok{hs}", [], 401, 'credential_in_url');
case('good key, bad Authorization: Authorization wins', '/both',
    [ [ 'Authorization', 'Bearer x.y.z' ], [ 'X-API-Key', $good ] ], 401,
    'malformed_token');

# controls: the same locations accept the good credentials
my @controls = (
    [ 'control: RS256 token', '/mixed', [ [ 'Authorization', "Bearer $rs" ] ],
      200, "mallory\n" ],
    [ 'control: ES256 token', '/ec',
      [ [ 'Authorization', "Bearer $tok{es}" ] ], 200, "mallory\n" ],
    [ 'control: policy token', '/policy',
      [ [ 'Authorization', "Bearer $tok{'pol-good'}" ] ], 200, "mallory\n" ],
    [ 'control: 8192-character token', '/mixed',
      [ [ 'Authorization', "Bearer $tok{'size-8192'}" ] ], 200, "big\n" ],
    [ 'control: claims nested 8 deep', '/mixed',
      [ [ 'Authorization', "Bearer $tok{'deep-ok'}" ] ], 200, "nested\n" ],
    [ 'control: API key', '/apikey', [ [ 'X-API-Key', $good ] ], 200,
      "svc\n" ],
    [ 'control: API key written by hand from the format', '/apikey',
      [ [ 'X-API-Key', $made ] ], 200, "handmade\n" ],
);

is(length $tok{'size-8192'}, 8192, 'sized token is 8192 characters');
is(length $tok{'size-8193'}, 8193, 'sized token is 8193 characters');
cmp_ok(scalar @cases, '>=', 40,
       'the catalogue holds at least 40 cases (' . @cases . ')');

my @req = map { { uri => $_->[1], headers => $_->[2] } } @cases, @controls;
my @res = requests($t, \@req);

for my $i (0 .. $#cases) {
    my ($name, $uri, $h, $status, $reason) = @{ $cases[$i] };
    my $r = $res[$i] || {};

    is($r->{status}, $status, "$name: $status")
        or diag($r->{body} // $r->{error});
    is(reason_of($r), $reason, "$name: $reason");
}

for my $i (0 .. $#controls) {
    my ($name, $uri, $h, $status, $body) = @{ $controls[$i] };
    my $r = $res[@cases + $i] || {};

    is($r->{status}, $status, $name) or diag($r->{body});
    is($r->{body}, $body, "$name: principal");
}

# no refusal echoes the credential or says more than the reason
my ($leak) = grep {
    my $r = $res[$_] || {};
    ($r->{body} // '') =~ /eyJ|ck_|mallory|svc/
        || ($r->{header} && ($r->{header}->('content-type') // '')
            ne 'application/problem+json')
} 0 .. $#cases;
ok(!defined $leak, 'refusals are problem+json and echo no credential')
    or diag($cases[$leak][0], ': ', $res[$leak]{body});

my @www = grep {
    my $r = $res[$_] || {};
    my $want = $cases[$_][4] eq 'missing_credentials'
        ? 'Bearer realm="api"' : 'Bearer realm="api", error="invalid_token"';
    ($r->{header} ? $r->{header}->('www-authenticate') // '' : '') ne $want;
} 0 .. $#cases;
ok(!@www, 'every 401 carries the RFC 6750 challenge')
    or diag(join "\n", map { $cases[$_][0] } @www);

# --- leeway with margins: minted now (times relative to the minting
# second m) and sent at once.  A tick to m+1 cannot flip any of them:
# exp m-29 passes up to m+1, exp m-31 fails from m on, nbf m+28 passes
# from m on, nbf m+33 fails up to m+2.
#
# With them, the exact edges for each of the next seconds T, to be sent
# at time T: exp T-30 and nbf T+30 pass, exp T-31 and nbf T+31 fail.
my $T0 = time + 1;
my @T = ($T0 .. $T0 + 5);
my @edge = map {
    my $T = $_;
    map { claims(%$_) } { exp => $T - 30 }, { exp => $T - 31 },
        { nbf => $T + 30 }, { nbf => $T + 31 };
} @T;

my @lw = pyjwt($t,
    (map { +{ op => 'jwt', %$HS, kid => 'hs-1', claims => { sub => 'lw' },
              rel => $_ } }
        { exp => -29 }, { exp => -31 }, { exp => 600, nbf => 28 },
        { exp => 600, nbf => 33 }),
    (map { +{ op => 'jwt', %$HS, kid => 'hs-1', claims => $_ } } @edge));

my %edge;
@edge{ map { my $T = $_; map { "$_-$T" }
    qw(edge-exp-30 edge-exp-31 edge-nbf-30 edge-nbf-31) } @T }
    = splice @lw, 4;

my @lr = requests($t, [ map { { uri => '/leeway', headers =>
    [ [ 'Authorization', "Bearer $_" ] ] } } @lw ]);

is($lr[0]{status}, 200, 'leeway 30s: exp = now - 29 passes');
is($lr[1]{status}, 401, 'leeway 30s: exp = now - 31 fails');
is(reason_of($lr[1]), 'token_expired', 'leeway 30s: exp = now - 31: reason');
is($lr[2]{status}, 200, 'leeway 30s: nbf = now + 28 passes');
is($lr[3]{status}, 401, 'leeway 30s: nbf = now + 33 fails');
is(reason_of($lr[3]), 'token_not_yet_valid',
   'leeway 30s: nbf = now + 33: reason');

# --- the exact leeway edges: tokens minted for second T, sent at T
my $done;

for my $T (@T) {
    next if Time::HiRes::time() > $T + 0.1;
    Time::HiRes::sleep($T + 0.02 - Time::HiRes::time())
        if Time::HiRes::time() < $T + 0.02;

    my @r = requests($t, [
        map { { uri => '/leeway', headers =>
            [ [ 'Authorization', "Bearer $edge{\"$_-$T\"}" ] ] } }
        qw(edge-exp-30 edge-exp-31 edge-nbf-30 edge-nbf-31) ]);

    # all four inside second T, or the result proves nothing: next T
    next if Time::HiRes::time() >= $T + 1;

    is($r[0]{status}, 200, 'leeway 30s: exp exactly 30s ago passes');
    is($r[1]{status}, 401, 'leeway 30s: exp 31s ago fails');
    is(reason_of($r[1]), 'token_expired', 'leeway 30s: exp 31s: reason');
    is($r[2]{status}, 200, 'leeway 30s: nbf exactly 30s ahead passes');
    is($r[3]{status}, 401, 'leeway 30s: nbf 31s ahead fails');
    is(reason_of($r[3]), 'token_not_yet_valid',
       'leeway 30s: nbf 31s: reason');
    $done = 1;
    last;
}

ok($done, 'leeway edges sent within one second');

# two Authorization headers: nginx itself refuses them
my $r = $t->http(uri => '/mixed', headers => [
    [ 'Authorization', "Bearer $rs" ], [ 'Authorization', "Bearer $rs" ] ]);
is($r->{status}, 400, 'two Authorization headers: 400 from nginx');

$t->finish;
