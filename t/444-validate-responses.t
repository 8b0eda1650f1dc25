#!/usr/bin/perl
# What request validation answers and records: 415 for a Content-Type
# outside types= (parameters and case ignored), only for the methods in
# methods=; the RFC 9457 body of 400, 413, 415 and 422 (the "errors"
# extension member, at most 20, "truncated"); the audit record's event
# "invalid_request" (severity notice) with "validation_errors"; under
# "compliance off" too; after "rewrite ... last" the new location's
# schema applies to the body already read.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;
use Test::ComplianceAuth qw(keygen);

my $t = Test::Compliance->new;
my $key = keygen($t->path('api.keys'), '--principal', 'alice');

$t->write_file('item.json', <<'EOF');
{"type":"object","required":["name","qty"],
 "properties":{"name":{"type":"string","maxLength":5},
               "qty":{"type":"integer","minimum":1}}}
EOF
$t->write_file('many.json', <<'EOF');
{"type":"array","items":{"type":"integer"}}
EOF
$t->write_file('v2.json', '{"type":"object","required":["v2"]}');

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance_audit_log logs/audit.jsonl;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        compliance on;
        compliance_api_keys %%PREFIX%%/api.keys;
        compliance_error_pages on;

        location /items {
            compliance_validate_body item.json max_size=1k
                types=application/json,application/merge-patch+json;
            return 200 "passed\n";
        }

        location /put-only {
            compliance_validate_body item.json methods=PUT;
            return 200 "passed\n";
        }

        location /many {
            compliance_public "test";
            compliance_validate_body many.json;
            return 200 "passed\n";
        }

        location /v1 {
            compliance_public "test";
            compliance_validate_body item.json;
            rewrite ^ /v2 last;
        }

        location /v2 {
            compliance_public "test";
            compliance_validate_body v2.json;
            return 200 "v2 passed\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;

        location /open {
            compliance_validate_body item.json;
            return 200 "passed\n";
        }
    }
}
EOF

$t->run;

my $good = '{"name":"box","qty":2}';

sub post {
    my ($uri, $body, %o) = @_;

    my @h = ([ 'X-API-Key', $key ]);
    push @h, [ 'Content-Type', $o{type} ] if defined $o{type};
    push @h, [ 'Content-Type', 'application/json' ] unless exists $o{type};
    my $r = $t->http(method => $o{method} // 'POST', uri => $uri,
                     body => $body, headers => \@h,
                     $o{port} ? (port => $o{port}) : ());
    my $p = eval { decode_json($r->{body}) } || {};
    return ($r, $p);
}

# --- Content-Type

for my $type ('application/json', 'application/json; charset=utf-8',
              'Application/JSON', ' application/json',
              'application/merge-patch+json')
{
    my ($r) = post('/items', $good, type => $type);
    is($r->{status}, 200, "Content-Type '$type': passed");
}

for my $type (undef, 'text/plain', 'application/jsonx',
              'application/x-www-form-urlencoded', 'application/json-seq')
{
    my ($r, $p) = post('/items', $good, type => $type);
    my $n = $type // 'none';
    is($r->{status}, 415, "Content-Type '$n': 415");
    is($p->{reason}, 'unsupported_media_type', "Content-Type '$n': reason");
}

# a refusal does not ask for the body first
{
    my $r = $t->http(method => 'POST', uri => '/items', body => $good,
                     headers => [ [ 'X-API-Key', $key ],
                                  [ 'Content-Type', 'text/plain' ],
                                  [ 'Expect', '100-continue' ] ]);
    is($r->{status}, 415, 'Expect: 100-continue, wrong type: 415');
    is(scalar @{ $r->{interim} // [] }, 0, '... without a 100 Continue');

    $r = $t->http(method => 'POST', uri => '/items', body => $good,
                  headers => [ [ 'X-API-Key', $key ],
                               [ 'Content-Type', 'application/json' ],
                               [ 'Expect', '100-continue' ] ]);
    is($r->{status}, 200, 'Expect: 100-continue, valid body: 200');
    is(scalar @{ $r->{interim} // [] }, 1, '... after a 100 Continue');
}

# --- methods

{
    my ($r) = post('/put-only', '{}');
    is($r->{status}, 200, 'methods=PUT: POST is not validated');
    ($r) = post('/put-only', '{}', method => 'PUT');
    is($r->{status}, 422, 'methods=PUT: PUT is');
    ($r) = post('/items', 'not json', method => 'DELETE');
    is($r->{status}, 200, 'default methods: DELETE is not validated');
    ($r) = post('/items', '{}', method => 'PATCH');
    is($r->{status}, 422, 'default methods: PATCH is');
}

# --- the problem bodies

{
    my ($r, $p) = post('/items', '{"name":"toolong","qty":0}');
    is($r->{status}, 422, 'schema violation: 422');
    like($r->{header}->('Content-Type'), qr{^application/problem\+json},
         '422: problem+json');
    is($p->{type}, 'about:blank', '422: type');
    is($p->{title}, 'Unprocessable Content', '422: title');
    is($p->{status}, 422, '422: status');
    is($p->{reason}, 'validation_failed', '422: reason');
    like($p->{request_id}, qr/^[0-9a-f-]{36}$/, '422: request_id');
    is($r->{header}->('X-Request-ID'), $p->{request_id},
       '422: the request id of the response');
    is_deeply($p->{errors}, [
        { pointer => '/name', keyword => 'maxLength',
          message => 'must be at most 5 characters long' },
        { pointer => '/qty', keyword => 'minimum', message => 'must be >= 1' },
    ], '422: the errors, with pointer, keyword and message');
    ok(!exists $p->{truncated}, '422: not truncated');

    ($r, $p) = post('/items', '{"qty":1}');
    is_deeply($p->{errors}, [ { pointer => '/name', keyword => 'required',
                                message => 'is required' } ],
              'required: the pointer of the missing member');

    ($r, $p) = post('/many', encode_json([ map { "s$_" } 1 .. 30 ]));
    is($r->{status}, 422, '30 errors: 422');
    is(scalar @{ $p->{errors} }, 20, 'at most 20 errors');
    is($p->{errors}[19]{pointer}, '/19', 'the first 20, in order');
    is($p->{truncated}, JSON::PP::true, 'truncated: true');

    ($r, $p) = post('/items', '{"name":');
    is($r->{status}, 400, 'malformed: 400');
    is($p->{reason}, 'malformed_body', '400: reason');
    is($p->{title}, 'Bad Request', '400: title');
    is($p->{detail}, 'not JSON at byte 8', '400: detail says what and where');

    ($r, $p) = post('/items', '{"name":"' . ('x' x 2000) . '"}');
    is($r->{status}, 413, 'too large: 413');
    is($p->{reason}, 'body_too_large', '413: reason');
    is($p->{title}, 'Content Too Large', '413: title');
}

# --- after "rewrite ... last": the new location validates the same body

{
    my ($r, $p) = post('/v1', $good);
    is($r->{status}, 422, 'rewrite: v1 passed, v2 refused the same body');
    is($p->{errors}[0]{pointer}, '/v2', 'rewrite: v2 schema');
    ($r) = post('/v1', '{"name":"a","qty":1,"v2":true}');
    is($r->{status}, 200, 'rewrite: both schemas pass');
    is($r->{body}, "v2 passed\n", 'rewrite: v2 answered');
}

# --- "compliance off": input is still validated

{
    my ($r, $p) = post('/open', '{"qty":1}', port => $t->port(1));
    is($r->{status}, 422, 'compliance off: validated');
    ($r) = post('/open', $good, port => $t->port(1));
    is($r->{status}, 200, 'compliance off: passed');
}

# --- unauthenticated: 401 before validation

{
    my $r = $t->http(method => 'POST', uri => '/items', body => 'nonsense',
                     headers => [ [ 'Content-Type', 'text/plain' ] ]);
    is($r->{status}, 401, 'no credential: 401, not 415');
}

# --- the audit records

$t->stop;

my @recs = map { decode_json($_) }
    split /\n/, $t->read_file('logs/audit.jsonl') // '';

sub recs {
    my (%m) = @_;

    return grep {
        my $r = $_;
        !grep { ($r->{$_} // '') ne $m{$_} } keys %m;
    } @recs;
}

{
    my @inv = grep { ($_->{event} // '') eq 'invalid_request' } @recs;
    ok(scalar @inv >= 10, 'invalid_request records');
    is_deeply([ sort { $a <=> $b } keys %{ { map { $_->{status} => 1 } @inv } } ],
              [ 400, 413, 415, 422 ], 'for 400, 413, 415 and 422');
    ok(!grep({ $_->{severity} ne 'notice' } @inv), 'severity notice');
    ok(!grep({ !$_->{audit} } @inv), 'audit: true');

    my ($r) = recs(status => 422, path => '/items');
    is($r->{validation_errors}, 2, '422: validation_errors is the count');
    is($r->{reason}, 'validation_failed', '422: reason');
    is($r->{user_id}, 'alice', '422: the principal');

    ($r) = recs(status => 422, path => '/many');
    is($r->{validation_errors}, 20, '422: 20 errors recorded');

    ($r) = recs(status => 415);
    is($r->{validation_errors}, 0, '415: validation_errors 0');
    is($r->{reason}, 'unsupported_media_type', '415: reason');

    ($r) = recs(status => 413);
    is($r->{reason}, 'body_too_large', '413: reason');

    ($r) = recs(status => 400, path => '/items');
    is($r->{reason}, 'malformed_body', '400: reason');

    ($r) = recs(status => 200, path => '/items');
    is($r->{event}, 'request', 'passed: event request');
    ok(!exists $r->{validation_errors}, 'passed: no validation_errors');

    ($r) = recs(status => 401);
    is($r->{event}, 'auth_failure', '401: still auth_failure');
    ok(!exists $r->{validation_errors}, '401: no validation_errors');
}

$t->finish;
