#!/usr/bin/perl
# compliance_error_pages on|all|off: nginx's own error responses (a bad
# request line's 400, 404, 405, 413, 414, 494, 500, 502, 503, 504) and
# upstream 5xx (4xx with "all", problem+json excepted) leave as
# problem+json {"type","title","status","request_id"}; an upstream's
# traceback or framework page never reaches the client, with chunked and
# Content-Length bodies, buffered or not, HEAD, and keepalive going on
# after a replaced body; the module's own refusals are unchanged.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;
use Test::ComplianceBackend qw(python_available start_backend);

plan skip_all => 'python3 not available' unless python_available();

my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

my $t = Test::Compliance->new;

$t->write_file('html/file.txt', "a file\n");
$t->write_file('html/custom404.html', "<p>custom page</p>\n");

$t->write_config(<<'EOF2');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    client_max_body_size 1k;
    client_header_buffer_size 1k;
    large_client_header_buffers 2 1k;

    compliance_audit_log logs/audit.jsonl;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        root %%PREFIX%%/html;

        compliance_error_pages on;

        location /app/ {
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /all/ {
            compliance_error_pages all;
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /unbuf/ {
            compliance_error_pages all;
            proxy_buffering off;
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /small/ {
            proxy_buffer_size 4k;
            proxy_buffers 2 4k;
            proxy_busy_buffers_size 4k;
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /off/ {
            compliance_error_pages off;
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /dead/ {
            proxy_pass http://127.0.0.1:%%PORT_2%%/;
        }

        location /slow/ {
            proxy_read_timeout 1s;
            proxy_pass http://127.0.0.1:%%PORT_1%%/slow;
        }

        location = /return404 {
            return 404;
        }

        location = /text404 {
            return 404 "the configuration's own text\n";
        }

        location = /fail {
            return 500;
        }

        location = /unavailable {
            return 503;
        }

        location /ep/ {
            error_page 404 /custom404.html;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_3%%;
        compliance on;
        compliance_error_pages on;

        location /api/ {
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /pub/ {
            compliance_public "test";
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }
    }
}
EOF2

start_backend($t, $t->port(1));
$t->run;

my %TITLE = (400 => 'Bad Request', 404 => 'Not Found',
             405 => 'Method Not Allowed', 409 => 'Conflict',
             413 => 'Content Too Large', 414 => 'URI Too Long',
             500 => 'Internal Server Error', 502 => 'Bad Gateway',
             503 => 'Service Unavailable', 504 => 'Gateway Timeout');

# nginx's status lines (the upstream's reason phrase is "X")
my %PHRASE = (%TITLE, 405 => 'Not Allowed', 413 => 'Request Entity Too Large',
              414 => 'Request-URI Too Large',
              503 => 'Service Temporarily Unavailable',
              504 => 'Gateway Time-out');

# nothing of the upstream's or nginx's page
my $LEAK = qr/Traceback|psycopg2|10\.0\.0\.12|Kernel\.php|<html|<!DOCTYPE|
              nginx|users_pkey|db\.users/xi;

sub problem_ok {
    my ($r, $status, $what) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    ok($r && defined $r->{status}, "$what: a response") or return;
    is($r->{status}, $status, "$what: status $status");
    is($r->{reason}, $PHRASE{$status}, "$what: nginx's reason phrase");
    is($r->{header}->('content-type'), 'application/problem+json',
       "$what: problem+json");
    my $j = eval { JSON::PP->new->decode($r->{body}) } // {};
    is_deeply([ sort keys %$j ], [qw(request_id status title type)],
              "$what: type, title, status, request_id");
    is($j->{type}, 'about:blank', "$what: type about:blank");
    is($j->{title}, $TITLE{$status}, "$what: title");
    is($j->{status}, $status, "$what: status in the body");
    like($j->{request_id} // '', $UUID, "$what: a request id");
    is($r->{header}->('x-request-id'), $j->{request_id},
       "$what: the id of X-Request-ID");
    is($r->{header}->('content-length'), length $r->{body},
       "$what: Content-Length of the new body");
    unlike($r->{body}, $LEAK, "$what: nothing of the original page");

    return $j;
}

# --- upstream 5xx: traceback and framework page, both framings
for my $q ('', '?chunked') {
    problem_ok($t->http(uri => "/app/traceback$q"), 500,
               "upstream traceback 500$q");
    problem_ok($t->http(uri => "/app/html500$q"), 500,
               "upstream HTML 500$q");
    problem_ok($t->http(uri => "/unbuf/traceback$q"), 500,
               "unbuffered upstream 500$q");
}

# a 300 KiB page through small buffers and the temp file
for my $q ('', '?chunked') {
    problem_ok($t->http(uri => "/small/big500$q"), 500,
               "300 KiB upstream page through 4k buffers$q");
    problem_ok($t->http(uri => "/unbuf/big500$q"), 500,
               "300 KiB upstream page, unbuffered$q");
}

# --- the control: off lets it all through
my $r = $t->http(uri => '/off/traceback');
is($r->{status}, 500, 'off: upstream 500');
like($r->{body}, qr/^Traceback/, 'off: the traceback passes (the backend leaks)');

# --- upstream 4xx: "on" passes them, "all" replaces, problem+json stays
$r = $t->http(uri => '/app/json404');
is($r->{status}, 404, 'on: upstream JSON 404');
is($r->{body}, "{\"error\":\"user 42 not found in db.users\"}\n",
   'on: its body passes');
problem_ok($t->http(uri => '/all/json404'), 404, 'all: upstream JSON 404');
problem_ok($t->http(uri => '/all/json409?chunked'), 409,
           'all: upstream chunked JSON 409');
problem_ok($t->http(uri => '/unbuf/json404?chunked'), 404,
           'all, unbuffered: chunked JSON 404');
$r = $t->http(uri => '/all/problem404');
is($r->{status}, 404, 'all: upstream problem+json 404');
like($r->{body}, qr/"title":"No such user"/, 'all: passes unchanged');
is($r->{header}->('content-type'), 'application/problem+json',
   '... its type too');

# --- HEAD
my $get = $t->http(uri => '/app/traceback');
$r = $t->http(uri => '/app/traceback', method => 'HEAD');
is($r->{status}, 500, 'HEAD upstream 500');
is($r->{header}->('content-type'), 'application/problem+json',
   'HEAD: problem+json');
is($r->{header}->('content-length'), length $get->{body},
   'HEAD: the Content-Length of the problem body');
is($r->{body}, '', 'HEAD: no body');
$r = $t->http(uri => '/return404', method => 'HEAD');
is($r->{header}->('content-type'), 'application/problem+json',
   'HEAD of nginx\'s 404: problem+json');

# --- keepalive goes on after a replaced body
my $rs = $t->keepalive(requests => [
    { uri => '/app/traceback' },
    { uri => '/app/ok' },
    { uri => '/all/json404?chunked' },
    { uri => '/app/ok?chunked' },
    { uri => '/unbuf/html500?chunked' },
    { uri => '/return404' },
    { uri => '/small/big500?chunked' },
    { uri => '/app/ok' },
]);
is(scalar @$rs, 8, 'keepalive: eight responses on one connection');
is_deeply([ map { $_->{status} } @$rs ],
          [500, 200, 404, 200, 500, 404, 500, 200],
          'keepalive: statuses in order');
is($rs->[1]{body}, "{\"ok\":true}\n", 'keepalive: the 200 after a 500 intact');
is($rs->[7]{body}, "{\"ok\":true}\n", 'keepalive: the last one intact');
like($rs->[2]{body}, qr/^\{"type":"about:blank","title":"Not Found"/,
     'keepalive: the replaced 404');
ok(!grep({ $_->{error} } @$rs), 'keepalive: no framing error');

# --- nginx's own errors
problem_ok($t->http(raw => "GARBAGE\r\n\r\n"), 400, 'bad request line');
problem_ok($t->http(uri => '/missing'), 404, 'nginx 404');
problem_ok($t->http(uri => '/return404'), 404, '"return 404"');
problem_ok($t->http(uri => '/file.txt', method => 'POST', body => 'x'),
           405, 'POST to a file: 405');
problem_ok($t->http(uri => '/app/ok', method => 'POST', body => 'x' x 2048),
           413, 'body over client_max_body_size: 413');
problem_ok($t->http(uri => '/' . ('a' x 2048)), 414, 'long URI: 414');
problem_ok($t->http(uri => '/file.txt',
                    headers => [ [ 'X-Big', 'b' x 2048 ] ]),
           400, 'huge header (494, sent as 400)');
problem_ok($t->http(uri => '/fail'), 500, '"return 500"');
problem_ok($t->http(uri => '/unavailable'), 503, '"return 503"');
problem_ok($t->http(uri => '/dead/x'), 502, 'dead upstream: 502');
problem_ok($t->http(uri => '/slow/', timeout => 10), 504,
           'slow upstream: 504');
problem_ok($t->http(uri => '/ep/x'), 404,
           'an error_page target answering nginx\'s 404');

$r = $t->http(uri => '/text404');
is($r->{status}, 404, '"return 404 text"');
is($r->{body}, "the configuration's own text\n",
   '... the configuration\'s own body is kept');

# --- under compliance on: refusals unchanged, upstream 5xx replaced
$r = $t->http(uri => '/api/x', port => $t->port(3));
is($r->{status}, 401, 'the module\'s own 401');
like($r->{body}, qr/"reason":"missing_credentials"/, '... keeps its reason');
like($r->{header}->('www-authenticate') // '', qr/^Bearer/,
     '... and WWW-Authenticate');

my $j = problem_ok($t->http(uri => '/pub/traceback', port => $t->port(3)),
                   500, 'compliance on: upstream 500');

my $rec = $t->wait_for(sub {
    for my $l (split /\n/, $t->read_file('logs/audit.jsonl') // '') {
        my $x = eval { JSON::PP->new->decode($l) } or next;
        return $x if ($x->{request_id} // '') eq ($j->{request_id} // '-');
    }
    return undef;
});
ok($rec, 'the record has the request id of the problem body');
is($rec && $rec->{status}, 500, '... and the status');

# --- nginx -t
$t->config_refusals([
    [ 'compliance_error_pages some;',
      qr/invalid value "some" in "compliance_error_pages", it must be "on", "all" or "off"/,
      'http' ],
    [ 'compliance_error_pages on; compliance_error_pages all;',
      qr/"compliance_error_pages" directive is duplicate/ ],
]);

$t->config_accepted(<<'EOF2', 'http, server and location contexts');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    compliance_error_pages on;
    server {
        compliance_error_pages all;
        location / {
            compliance_error_pages off;
        }
    }
}
EOF2

$t->finish;
