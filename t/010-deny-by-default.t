#!/usr/bin/perl
# compliance on|off, compliance_public, compliance_cors_preflight:
# deny by default, explicit public endpoints, no bypass through return.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;

my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

my $t = Test::Compliance->new;

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location / {
            return 200 "must never be seen\n";
        }

        location = /health {
            compliance_public "load balancer probe";
            return 200 "ok $compliance_auth_method\n";
        }

        location /public-tree/ {
            compliance_public "static assets";

            location /public-tree/nested/ {
                return 200 "nested $compliance_auth_method\n";
            }

            return 200 "tree\n";
        }

        location /rewrite-to-public {
            rewrite ^ /health last;
        }

        location /public-to-private {
            compliance_public "entry";
            rewrite ^ /private last;
        }

        location /private {
            return 200 "private\n";
        }

        location /off {
            compliance off;
            return 200 "off\n";
        }

        location /cors {
            compliance_cors_preflight pass;
            return 204;
        }

        location /reason {
            compliance_public "shows variables";
            return 200 "[$compliance_reason]\n";
        }
    }
}
EOF

$t->run;

# --- deny by default, even where the location answers with "return"
my $r = $t->http(uri => '/anything');
is($r->{status}, 401, 'protected location refused');
is($r->{header}->('content-type'), 'application/problem+json',
   'problem+json content type');
is($r->{header}->('www-authenticate'), 'Bearer realm="api"',
   'WWW-Authenticate without an error code when nothing was sent');
unlike($r->{body}, qr/must never be seen/, 'return body not leaked');

my $p = eval { decode_json($r->{body}) };
ok($p, 'body is JSON') or diag($r->{body});
is_deeply([sort keys %$p],
          [qw(reason request_id status title type)], 'problem fields');
is($p->{type}, 'about:blank', 'type');
is($p->{title}, 'Unauthorized', 'title');
is($p->{status}, 401, 'status in body');
is($p->{reason}, 'missing_credentials', 'reason');
like($p->{request_id}, $UUID, 'request id in body');
is($p->{request_id}, $r->{header}->('x-request-id'),
   'body request id equals X-Request-ID');

# every method, HEAD without a body
for my $m (qw(POST PUT DELETE PATCH)) {
    $r = $t->http(method => $m, uri => '/x', body => 'a=b');
    is($r->{status}, 401, "$m refused");
}

$r = $t->http(method => 'HEAD', uri => '/x');
is($r->{status}, 401, 'HEAD refused');
is($r->{body}, '', 'HEAD has no body');

# a refused request with a body keeps the connection usable
my $rs = $t->keepalive(requests => [
    { method => 'POST', uri => '/x', body => 'x' x 1000 },
    { uri => '/health' },
]);
is($rs->[0]{status}, 401, 'keepalive: POST with body refused');
is($rs->[1]{status}, 200, 'keepalive: next request on the same connection');

# --- public endpoints
$r = $t->http(uri => '/health');
is($r->{status}, 200, 'public location served');
is($r->{body}, "ok public\n", '$compliance_auth_method is public');
like($r->{header}->('x-request-id') // '', $UUID, 'public has X-Request-ID');

$r = $t->http(uri => '/public-tree/nested/x');
is($r->{body}, "nested public\n", 'nested location inherits public');

# enforcement runs before the rewrite module: a protected location that
# rewrites into a public one is refused before its rewrite runs
$r = $t->http(uri => '/rewrite-to-public');
is($r->{status}, 401, 'protected location refused before its rewrite');

$r = $t->http(uri => '/public-to-private');
is($r->{status}, 401, 'rewrite from public into protected is refused');

$r = $t->http(uri => '/reason');
is($r->{body}, "[]\n", '$compliance_reason empty when not refused');

# --- compliance off
$r = $t->http(uri => '/off');
is($r->{status}, 200, 'compliance off serves');
is($r->{header}->('x-request-id'), undef, 'no X-Request-ID where off');

# --- CORS preflight
my @pre = (['Origin', 'https://app.example'],
           ['Access-Control-Request-Method', 'POST']);
$r = $t->http(method => 'OPTIONS', uri => '/x', headers => \@pre);
is($r->{status}, 401, 'preflight refused by default');

$r = $t->http(method => 'OPTIONS', uri => '/cors', headers => \@pre);
is($r->{status}, 204, 'preflight passes with compliance_cors_preflight pass');

$r = $t->http(method => 'OPTIONS', uri => '/cors',
              headers => [['Origin', 'https://app.example']]);
is($r->{status}, 401, 'OPTIONS without Access-Control-Request-Method refused');

$r = $t->http(method => 'GET', uri => '/cors', headers => \@pre);
is($r->{status}, 401, 'GET with preflight headers is not a preflight');

# --- config-time refusals name the directive and the value
my @bad = (
    [ 'compliance maybe;', qr/invalid value "maybe" in "compliance"/ ],
    [ 'compliance_public "";',
      qr/invalid reason "" in "compliance_public"/ ],
    [ 'compliance_public "  ";',
      qr/invalid reason "  " in "compliance_public"/ ],
    [ 'compliance_public "a"; compliance_public "b";',
      qr/"compliance_public" directive is duplicate/ ],
    [ 'compliance_cors_preflight sometimes;',
      qr/invalid value "sometimes" in "compliance_cors_preflight"/ ],
);

$t->config_refusals(\@bad, at => 'location');

my ($ok, $out) = $t->test_config_text(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT_5%%;
        compliance_public "server level";
    }
}
EOF
ok(!$ok, 'compliance_public refused at server level');
like($out, qr/"compliance_public" directive is not allowed here/,
     'context message');

$t->finish;
