#!/usr/bin/perl
# compliance_limit key=key_id: one bucket per credential.  Two API keys
# of one principal are limited separately (key=principal shares one
# bucket between them); a JWT is limited per principal and application
# ("client_id", else "azp"), so a refreshed token (a new jti) keeps the
# bucket and another user of the same application has their own; a
# token that names no application is limited by its principal; public
# requests by address.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceAuth qw(keygen reason_of make_secret pyjwt oct_jwk jwks
    bearer python_ok);

my $t = Test::Compliance->new;

my $file = $t->path('keys.txt');
my $k1 = keygen($file, '--principal', 'alice');
my $k2 = keygen($file, '--principal', 'alice');
my $bob = keygen($file, '--principal', 'bob');

my $jwt = python_ok();
my %tok;

if ($jwt) {
    my $hs = make_secret($t, 'hs', 32);
    $t->write_file('hs.jwks', jwks(oct_jwk($hs->{bytes}, kid => 'hs')));

    my %claims = (
        'carol app1'       => { sub => 'carol', client_id => 'app1',
                                jti => 'a' },
        'carol app1 again' => { sub => 'carol', client_id => 'app1',
                                jti => 'b' },
        'carol azp app1'   => { sub => 'carol', azp => 'app1' },
        'carol app2'       => { sub => 'carol', client_id => 'app2' },
        'dave app1'        => { sub => 'dave', client_id => 'app1' },
        'erin'             => { sub => 'erin', jti => 'x' },
        'erin again'       => { sub => 'erin', jti => 'y' },
    );

    my @names = sort keys %claims;
    @tok{@names} = pyjwt($t, map {
        +{ op => 'jwt', alg => 'HS256', key => $hs->{key}, kid => 'hs',
           claims => { exp => time + 600, %{ $claims{$_} } } }
    } @names);
}

my $jwt_keys = $jwt ? 'compliance_jwt_keys %%PREFIX%%/hs.jwks;' : '';

$t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_api_keys %%PREFIX%%/keys.txt;
    $jwt_keys

    compliance_limit_zone per_key 1m;
    compliance_limit_zone per_principal 1m;
    compliance_limit_zone tokens 1m;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location /key {
            compliance_limit zone=per_key rate=3r/m key=key_id;
            return 200 "key\\n";
        }

        location /principal {
            compliance_limit zone=per_principal rate=3r/m;
            return 200 "principal\\n";
        }

        location /token {
            compliance_limit zone=tokens rate=2r/m key=key_id;
            return 200 "token\\n";
        }

        location /public {
            compliance_public "test";
            compliance_limit zone=per_key rate=2r/m key=key_id;
            return 200 "public\\n";
        }
    }
}
EOF

$t->run;

sub statuses {
    my ($uri, $n, @h) = @_;

    return join ' ', map { $t->http(uri => $uri, headers => [ @h ])->{status} }
                     1 .. $n;
}

my @h1 = ([ 'X-API-Key', $k1 ]);
my @h2 = ([ 'Authorization', "ApiKey $k2" ]);

# --- two API keys of one principal: a bucket each
is(statuses('/key', 4, @h1), '200 200 200 429',
   'key=key_id: the first key has its own three');
is(statuses('/key', 4, @h2), '200 200 200 429',
   '... the second key of the same principal its own three');
my $r = $t->http(uri => '/key', headers => [ [ 'X-API-Key', $bob ] ]);
is($r->{status}, 200, '... another principal is untouched');
is($r->{header}->('ratelimit'), '"per_key";r=2;t=20',
   '... RateLimit of its own bucket');
is(reason_of($t->http(uri => '/key', headers => [ @h1 ])), 'rate_limited',
   '... refusals say rate_limited');

# key=principal: the two keys share
is(statuses('/principal', 2, @h1), '200 200', 'key=principal: first key');
is(statuses('/principal', 2, @h2), '200 429',
   '... the second key of the principal shares the bucket');

# public: by address
is(statuses('/public', 3), '200 200 429',
   'public location: key=key_id falls back to the address');

# --- tokens: principal and application
SKIP: {
    skip 'PyJWT (python3-jwt) is not available', 7 unless $jwt;

    is(statuses('/token', 1, @{ bearer($tok{'carol app1'}) }), '200',
       'token: carol through app1');
    is(statuses('/token', 2, @{ bearer($tok{'carol app1 again'}) }),
       '200 429', '... a refreshed token (new jti) keeps the bucket');
    is(statuses('/token', 1, @{ bearer($tok{'carol azp app1'}) }), '429',
       '... "azp" names the application as "client_id" does');
    is(statuses('/token', 3, @{ bearer($tok{'carol app2'}) }),
       '200 200 429', '... carol through another application: her own');
    is(statuses('/token', 3, @{ bearer($tok{'dave app1'}) }),
       '200 200 429', '... another user of app1: his own');
    is(statuses('/token', 1, @{ bearer($tok{'erin'}) }), '200',
       '... a token naming no application: its principal');
    is(statuses('/token', 2, @{ bearer($tok{'erin again'}) }), '200 429',
       '... which a second token of that principal shares');
}

# --- config
$t->config_refused(<<'EOF', qr/invalid parameter "key=kid" in "compliance_limit"/, 'key=kid');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance_limit_zone z 1m;
    server {
        listen 127.0.0.1:%%PORT_5%%;
        compliance on;
        location / { compliance_limit zone=z rate=1r/s key=kid; }
    }
}
EOF

$t->config_refused(<<'EOF', qr/invalid parameter "key=ip" in "compliance_limit"/, 'two key= parameters');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance_limit_zone z 1m;
    server {
        listen 127.0.0.1:%%PORT_5%%;
        compliance on;
        location / { compliance_limit zone=z rate=1r/s key=key_id key=ip; }
    }
}
EOF

$t->finish;
