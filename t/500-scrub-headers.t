#!/usr/bin/perl
# compliance_scrub_headers: Server reduced to "nginx" and the framework
# headers removed from every response (upstream, nginx's own errors, a
# bad request line, a dead upstream, the module's refusals), with
# server_tokens on; "off" in a location lets them through.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceBackend qw(python_available start_backend);

plan skip_all => 'python3 not available' unless python_available();

my @LEAKY = qw(x-powered-by x-aspnet-version x-aspnetmvc-version x-runtime
               x-debug-token x-debug-token-link x-backend-server);

my $t = Test::Compliance->new;

$t->write_config(<<'EOF2');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    server_tokens on;
    compliance_scrub_headers on;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location /app/ {
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
            proxy_pass_header Server;
        }

        location /plain/ {
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /dead/ {
            proxy_pass http://127.0.0.1:%%PORT_2%%/;
        }

        location /off/ {
            compliance_scrub_headers off;
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
            proxy_pass_header Server;
        }

        location / {
            root %%PREFIX%%/none;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_3%%;
        compliance on;

        location /api/ {
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
            proxy_pass_header Server;
        }

        location /pub/ {
            compliance_public "test";
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
            proxy_pass_header Server;
        }
    }
}
EOF2

start_backend($t, $t->port(1));
$t->run;

sub scrubbed {
    my ($r, $what) = @_;

    ok($r, "$what: a response") or return;
    is_deeply($r->{headers}{server}, ['nginx'],
              "$what: one Server, \"nginx\"");
    is(join(',', grep { $r->{headers}{$_} } @LEAKY), '',
       "$what: no framework headers");
}

my $r = $t->http(uri => '/app/ok');
is($r->{status}, 200, 'upstream 200');
is($r->{body}, "{\"ok\":true}\n", '... body intact');
scrubbed($r, 'upstream 200 with its Server passed');

scrubbed($t->http(uri => '/app/ok?chunked'), 'chunked upstream 200');
scrubbed($t->http(uri => '/app/traceback'), 'upstream 500');
scrubbed($t->http(uri => '/app/json404', method => 'HEAD'), 'HEAD 404');
scrubbed($t->http(uri => '/plain/ok'), 'nginx\'s own Server');

$r = $t->http(uri => '/missing');
is($r->{status}, 404, 'nginx 404');
scrubbed($r, 'nginx 404');

$r = $t->http(uri => '/dead/x');
is($r->{status}, 502, 'dead upstream: 502');
scrubbed($r, 'nginx 502');

$r = $t->http(raw => "GARBAGE\r\n\r\n");
is($r->{status}, 400, 'bad request line: 400');
scrubbed($r, 'nginx 400');

$r = $t->http(uri => '/api/ok', port => $t->port(3));
is($r->{status}, 401, 'compliance refusal');
scrubbed($r, 'the module\'s own 401');

scrubbed($t->http(uri => '/pub/traceback', port => $t->port(3)),
         'under compliance on, upstream 500');

# --- off in a location: everything as the upstream sent it
$r = $t->http(uri => '/off/ok');
like($r->{header}->('server') // '', qr{^Werkzeug/}, 'off: upstream Server');
is(scalar(grep { $r->{headers}{$_} } @LEAKY), scalar @LEAKY,
   'off: framework headers pass');

# --- nginx -t
$t->config_refusals([
    [ 'compliance_scrub_headers maybe;',
      qr/invalid value "maybe" in "compliance_scrub_headers"/, 'http' ],
    [ 'compliance_scrub_headers on on;',
      qr/invalid number of arguments in "compliance_scrub_headers"/ ],
]);

$t->config_accepted(<<'EOF2', 'http, server and location contexts');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    compliance_scrub_headers on;
    server {
        compliance_scrub_headers on;
        location / {
            compliance_scrub_headers off;
        }
    }
}
EOF2

$t->finish;
