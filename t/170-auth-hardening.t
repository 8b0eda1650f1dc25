#!/usr/bin/perl
# Hardening found by review: a refusal cannot be re-entered through
# error_page; the gateway credential stops at the gateway; an internal
# redirect re-checks method, key set and claims; a credential in a URL is
# refused before the HTTPS redirect could echo it; nginx's early refusals
# log a redacted request line; scopes under an inherited public location
# are a config error.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use MIME::Base64 qw(encode_base64url);
use Digest::SHA qw(hmac_sha256);
use Test::Compliance;

my $t = Test::Compliance->new;
my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';

my $keys = $t->path('keys.txt');
my $key = `$bin/compliance-keygen --file $keys --principal alice --scopes read`;
chomp $key;

my $secret = 'another-hmac-secret-of-32-bytes-or-more';
$t->write_file('jwks.json', encode_json({ keys => [ {
    kty => 'oct', kid => 'k1', alg => 'HS256',
    k => encode_base64url($secret) } ] }), 0600);

sub jwt {
    my ($claims) = @_;
    my $h = encode_base64url(encode_json({ alg => 'HS256', kid => 'k1' }));
    my $p = encode_base64url(encode_json($claims));
    return "$h.$p." . encode_base64url(hmac_sha256("$h.$p", $secret));
}

my $tok = jwt({ sub => 'bob', iss => 'idp-a', scope => 'read',
                exp => time + 600 });

$t->forbid_in_logs($key, $tok);

$t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance_limit_zone rl 1m;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        client_max_body_size 10;

        compliance on;
        compliance_jwt_keys jwks.json;
        compliance_api_keys $keys;
        error_page 400 = \@fallback;

        location \@fallback {
            return 200 "fallback reached\\n";
        }

        location /limited {
            compliance_limit zone=rl rate=1r/m burst=1;
            return 200 "limited ok\\n";
        }

        location /proxy/ {
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /jwtonly/ {
            compliance_auth jwt;
            rewrite ^/jwtonly/(.*)\$ /keyonly/\$1 last;
        }

        location /keyonly/ {
            compliance_auth api_key;
            return 200 "keyonly \$compliance_principal\\n";
        }

        location /issuer-a/ {
            compliance_jwt_issuer idp-a;
            rewrite ^/issuer-a/(.*)\$ /issuer-b/\$1 last;
        }

        location /issuer-b/ {
            compliance_jwt_issuer idp-b;
            return 200 "issuer-b \$compliance_principal\\n";
        }

        location /upload {
            compliance_public "body size test";
            return 200 "never: the body is too large\\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_2%%;
        compliance on;
        compliance_https_redirect on;
        location / { return 200 "plain\\n"; }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        compliance off;
        location / {
            return 200 "auth=[\$http_authorization] key=[\$http_x_api_key]\\n";
        }
    }
}
EOF

$t->run;

# --- a refusal is final, even when the body cannot be discarded
my $bad_chunked = "POST /limited HTTP/1.1\r\nHost: x\r\n"
    . "X-API-Key: $key\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n\r\n";

my $r = $t->http(uri => '/limited', headers => [['X-API-Key', $key]]);
is($r->{status}, 200, 'the one request the bucket allows');
$r = $t->http(raw => $bad_chunked);
is($r->{status}, 429, 'rate limited despite a broken chunked body');
unlike($r->{body}, qr/fallback/, 'error_page 400 never re-enters');

$r = $t->http(raw => "POST /x HTTP/1.1\r\nHost: x\r\n"
                     . "Transfer-Encoding: chunked\r\n\r\nZZZ\r\n\r\n");
is($r->{status}, 401, 'a 401 stays a 401 with a broken body');

# --- the gateway credential stops at the gateway
$r = $t->http(uri => '/proxy/a', headers => [['X-API-Key', $key]]);
is($r->{body}, "auth=[] key=[]\n", 'X-API-Key not forwarded');

$r = $t->http(uri => '/proxy/a', headers => [['Authorization', "ApiKey $key"]]);
is($r->{body}, "auth=[] key=[]\n", 'Authorization: ApiKey not forwarded');

$r = $t->http(uri => '/proxy/a',
              headers => [['Authorization', "Bearer $tok"],
                          ['X-API-Key', 'ck_aaaaaaaaaaaa_forged']]);
is($r->{body}, "auth=[Bearer $tok] key=[]\n",
   'a bearer token is passed on; an unchecked API key is not');

# --- an internal redirect re-checks what the new location accepts
$r = $t->http(uri => '/jwtonly/x', headers => [['Authorization', "Bearer $tok"]]);
is($r->{status}, 401, 'JWT identity refused where only API keys are accepted');
is(decode_json($r->{body})->{reason}, 'missing_credentials', 'reason');

$r = $t->http(uri => '/keyonly/x', headers => [['X-API-Key', $key]]);
is($r->{body}, "keyonly alice\n", 'the API key itself is accepted there');

$r = $t->http(uri => '/issuer-a/x', headers => [['Authorization', "Bearer $tok"]]);
is($r->{status}, 401, 'claims re-checked under the new location policy');
is(decode_json($r->{body})->{reason}, 'bad_issuer', 'reason bad_issuer');

# --- a credential in a URL is refused before the redirect
$r = $t->http(port => $t->port(2), uri => "/x?api_key=$key");
is($r->{status}, 401, 'credential_in_url refused over plain HTTP');
is($r->{header}->('location'), undef, 'no Location echoing the key');

$r = $t->http(port => $t->port(2), uri => '/x?page=2');
is($r->{status}, 301, 'an innocent query is still redirected');

# --- nginx's own early refusal logs a redacted request line
$r = $t->http(method => 'POST', uri => "/upload?token=$tok",
              body => 'x' x 100);
is($r->{status}, 413, 'body too large: nginx refuses before REWRITE');
$t->wait_for(sub { ($t->read_file('logs/access.log') // '') =~ /upload/ });
like($t->read_file('logs/access.log'), qr{POST /upload\?token=\[REDACTED},
     'the 413 access-log line is redacted');

# --- scopes under an inherited public location would never be checked
my ($ok, $out) = $t->test_config_text(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT_5%%;
        compliance on;
        location /status {
            compliance_public "status page";
            location /status/admin {
                compliance_require_scope admin;
            }
        }
    }
}
EOF
ok(!$ok, 'compliance_require_scope under an inherited public refused');
like($out, qr/"compliance_require_scope" in a location that inherits "compliance_public "status page"" would never be checked/,
     'message names both directives');

$t->finish;
