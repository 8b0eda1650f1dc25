#!/usr/bin/perl
# compliance_graphql (SPEC 11): documents from GET ?query=, POST
# application/json {"query","operationName","variables"} and POST
# application/graphql, each measured by core/compliance_graphql.c after
# authentication; 400 graphql_invalid (syntax, a fragment cycle, an
# undefined fragment, a bad JSON envelope), 422 graphql_too_complex with
# an "errors" entry naming the limit (depth with fragments expanded,
# 10,000 levels, aliases, alias floods through fragments, tokens,
# nesting), 422 graphql_introspection, 415 for other types, 413 for a
# body over max_size (a 1 MB string), the same 1 MB string accepted and
# passed on unchanged under max_size=2m; chunked bodies and keep-alive;
# a "query" in the URL of a POST is checked too; the records; the bad
# configurations.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(time);
use Test::Compliance;
use Test::ComplianceAuth qw(keygen);
use Test::ComplianceBackend qw(python_available start_backend);

plan skip_all => 'python3 not available' unless python_available();

my $t = Test::Compliance->new;
my $keys = $t->path('api.keys');
my $key = keygen($keys, '--principal', 'alice');

$t->write_file('vars.json', <<'EOF');
{
  "type": "object",
  "required": ["query"],
  "properties": {"query": {"type": "string", "maxLength": 100000}}
}
EOF

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    client_body_buffer_size 4k;
    client_max_body_size 10m;
    compliance_audit_log logs/audit.jsonl;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        compliance on;
        compliance_api_keys %%PREFIX%%/api.keys;

        location /graphql {
            compliance_public "test";
            compliance_graphql;
            proxy_pass http://127.0.0.1:%%PORT_1%%;

            location /graphql/nested {
                proxy_pass http://127.0.0.1:%%PORT_1%%;
            }
        }

        location /tight {
            compliance_public "test";
            compliance_graphql max_depth=3 max_aliases=2 max_tokens=40
                introspection=on;
            return 200 "passed\n";
        }

        location /big {
            compliance_public "test";
            compliance_graphql max_size=2m max_tokens=100;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /private {
            compliance_graphql;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /schema {
            compliance_public "test";
            compliance_validate_body vars.json;
            compliance_graphql;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /off {
            compliance off;
            compliance_graphql;
            return 200 "passed\n";
        }
    }
}
EOF

start_backend($t, $t->port(1), 'echo-backend.py');
$t->run;

sub problem {
    my ($r) = @_;
    return eval { decode_json($r->{body}) } // {};
}

sub esc {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

sub get {
    my ($uri, $doc, @h) = @_;
    return $t->http(uri => "$uri?query=" . esc($doc), headers => [ @h ]);
}

sub post {
    my ($uri, $body, $type, @h) = @_;
    return $t->http(method => 'POST', uri => $uri, body => $body,
                    headers => [ [ 'Content-Type',
                                   $type // 'application/json' ], @h ]);
}

sub post_json {
    my ($uri, $obj, @h) = @_;
    return post($uri, encode_json($obj), 'application/json', @h);
}

# status, reason and, for a limit, the errors entry
sub refused {
    my ($r, $status, $reason, $limit, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $p = problem($r);
    is($r->{status}, $status, "$name: $status");
    is($p->{reason}, $reason, "$name: $reason");
    like(($r->{headers}{'content-type'} // [''])->[0], qr{^application/problem\+json},
         "$name: problem+json");
    if (defined $limit) {
        is(ref $p->{errors} eq 'ARRAY' && $p->{errors}[0]{limit}, $limit,
           "$name: errors names $limit");
    }
    return $p;
}

sub passed {
    my ($r, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    is($r->{status}, 200, "$name: passed") or diag($r->{body});
    return eval { decode_json($r->{body}) } // {};
}

sub nest {
    my ($n) = @_;
    return '{' . ('a{' x $n) . 'b' . ('}' x $n) . '}';
}

# --- the three ways in

{
    my $j = passed(get('/graphql', '{ user(id: 1) { name } }'), 'GET');
    is($j->{method}, 'GET', 'GET: upstream got the GET');

    my $body = encode_json({ query => 'query Q($id: ID!) { user(id: $id) '
                                      . '{ ...F } } fragment F on User '
                                      . '{ name }',
                             operationName => 'Q',
                             variables => { id => 7 } });
    $j = passed(post('/graphql', $body), 'POST json');
    is($j->{length}, length $body, 'POST json: upstream got every byte');
    is($j->{sha256}, sha256_hex($body), 'POST json: body unchanged');

    passed(post('/graphql', encode_json({ query => '{ a }',
                                          operationName => undef,
                                          variables => undef })),
           'POST json, null members');
    passed(post('/graphql', '{"query":"{ a }"}',
                'application/json; charset=utf-8'),
           'POST json with a charset');

    $body = "query { a(s: \"\"\"block\n\"\"\") }";
    $j = passed(post('/graphql', $body, 'application/graphql'),
                'POST application/graphql');
    is($j->{sha256}, sha256_hex($body), 'application/graphql: unchanged');

    passed(get('/graphql/nested', '{ a }'), 'nested location inherits');
    refused(get('/graphql/nested', '{ a'), 400, 'graphql_invalid', undef,
            'nested location checks');
}

# --- what is not a GraphQL request

refused($t->http(uri => '/graphql'), 400, 'graphql_invalid', undef,
        'GET without a query');
refused(post('/graphql', '{ a }', 'text/plain'), 415,
        'unsupported_media_type', undef, 'POST text/plain');
refused($t->http(method => 'POST', uri => '/graphql', body => '{}'), 415,
        'unsupported_media_type', undef, 'POST without a type');
refused($t->http(method => 'PUT', uri => '/graphql', body => '{}',
                 headers => [ [ 'Content-Type', 'application/json' ] ]),
        400, 'graphql_invalid', undef, 'PUT');

for my $c ([ 'not JSON', '{"query": "{ a }"' ],
           [ 'a batch', '[{"query":"{ a }"}]' ],
           [ 'not an object', '"{ a }"' ],
           [ 'no query', '{"variables":{}}' ],
           [ 'query a number', '{"query":1}' ],
           [ 'operationName a number', '{"query":"{ a }","operationName":1}' ],
           [ 'variables a string', '{"query":"{ a }","variables":"x"}' ],
           [ 'duplicate member', '{"query":"{ a }","query":"{ b }"}' ],
           [ 'unknown operation',
             '{"query":"query A { a }","operationName":"B"}' ],
           [ 'empty body', '' ])
{
    refused(post('/graphql', $c->[1]), 400, 'graphql_invalid', undef,
            "POST json, $c->[0]");
}

refused(post('/graphql', '', 'application/graphql'), 400,
        'graphql_invalid', undef, 'POST application/graphql, empty');

# --- syntax, fragments

{
    my $p = refused(get('/graphql', '{ a(x: 01) }'), 400, 'graphql_invalid',
                    undef, 'syntax error');
    is($p->{errors}[0]{offset}, 8, 'syntax error: the offset');
    ok(defined $p->{errors}[0]{message}, 'syntax error: a message');

    $p = refused(post_json('/graphql',
                           { query => '{ ...A } fragment A on T { ...B } '
                                      . 'fragment B on T { x { ...A } }' }),
                 400, 'graphql_invalid', undef, 'fragment cycle');
    is($p->{errors}[0]{message}, 'fragment cycle', 'fragment cycle: said so');

    $p = refused(get('/graphql', '{ ...A } fragment A on T { ...B } '
                                 . 'fragment B on T { ...A }'),
                 400, 'graphql_invalid', undef, 'fragment cycle, GET');
    is($p->{errors}[0]{offset}, 55, 'fragment cycle: the closing spread');

    refused(get('/graphql', '{ a } fragment A on T { ...A }'), 400,
            'graphql_invalid', undef, 'unused fragment cycle');

    $p = refused(get('/graphql', '{ ...Missing }'), 400, 'graphql_invalid',
                 undef, 'undefined fragment');
    is($p->{errors}[0]{message}, 'undefined fragment',
       'undefined fragment: said so');

    refused(get('/graphql', 'type Query { a: Int }'), 400, 'graphql_invalid',
            undef, 'type system definition');
    refused(get('/graphql', '{ a(s: "\ud800") }'), 400, 'graphql_invalid',
            undef, 'lone surrogate');
    refused($t->http(uri => '/graphql?query=%7B%20a(s:%20%22%C0%AF%22)%20%7D'),
            400, 'graphql_invalid', undef, 'overlong UTF-8');
}

# --- limits

{
    passed(get('/graphql', nest(9)), 'depth 10');
    my $p = refused(get('/graphql', nest(10)), 422, 'graphql_too_complex',
                    'max_depth', 'depth 11');
    is($p->{errors}[0]{max}, 10, 'depth: the limit');

    my $t0 = time;
    refused(post('/graphql', nest(10000), 'application/graphql'), 422,
            'graphql_too_complex', 'max_depth', 'depth 10,000');
    ok(time - $t0 < 5, 'depth 10,000: quick');

    refused(get('/graphql', '{ a { b { c { ...F } } } } fragment F on T '
                            . '{ d { e { f { g { h { i { j { k } } } } } } } }'),
            422, 'graphql_too_complex', 'max_depth',
            'depth through a fragment');

    refused(post('/graphql', '{ a(x: ' . ('[' x 5000) . ('1') . (']' x 5000)
                             . ') }', 'application/graphql'),
            422, 'graphql_too_complex', 'max_nesting', 'nested brackets');

    my $aliases = join ' ', map { "a$_: b" } 1 .. 15;
    passed(get('/graphql', "{ $aliases }"), '15 aliases');
    refused(get('/graphql', "{ $aliases x: b }"), 422, 'graphql_too_complex',
            'max_aliases', '16 aliases');

    my $flood = join ' ', map { "a$_: b" } 1 .. 5000;
    refused(post('/graphql', "{ $flood }", 'application/graphql'), 422,
            'graphql_too_complex', 'max_aliases', 'alias flood');

    # 8 aliases in a fragment, spread twice
    refused(get('/graphql', '{ x: a { ...F } y: a { ...F } } fragment F on T '
                            . '{ ' . join(' ', map { "f$_: b" } 1 .. 7)
                            . ' }'),
            422, 'graphql_too_complex', 'max_aliases',
            'aliases through fragments');

    # 30 fragments, each spreading the next twice: 2^30 expansions
    my $doc = '{ ...F0 }';
    $doc .= " fragment F$_ on T { a: x ...F" . ($_ + 1) . ' ...F'
            . ($_ + 1) . ' }' for 0 .. 29;
    $doc .= ' fragment F30 on T { z }';
    $t0 = time;
    $p = refused(post('/graphql', $doc, 'application/graphql'), 422,
                 'graphql_too_complex', 'max_aliases',
                 'exponential fragments');
    ok(time - $t0 < 5, 'exponential fragments: quick');

    refused(get('/graphql', '{ ' . join(' ', ('a') x 999) . ' }'), 422,
            'graphql_too_complex', 'max_tokens', '1,001 tokens');
    passed(get('/graphql', '{ ' . join(' ', ('a') x 998) . ' }'),
           '1,000 tokens');
}

# --- introspection

{
    my $p = refused(get('/graphql', '{ __schema { types { name } } }'), 422,
                    'graphql_introspection', 'introspection',
                    '__schema');
    refused(post_json('/graphql', { query => '{ __type(name: "User") '
                                             . '{ name } }' }),
            422, 'graphql_introspection', 'introspection', '__type');
    refused(get('/graphql', '{ a { ...F } } fragment F on T { s: __schema '
                            . '{ t } }'),
            422, 'graphql_introspection', 'introspection',
            '__schema in a fragment, aliased');
    passed(get('/graphql', '{ __typename a { __typename } }'), '__typename');

    is(get('/tight', '{ __schema { types { name } } }')->{status}, 200,
       'introspection=on: allowed');
    $p = refused(get('/tight', '{ a { b { c { d } } } }'), 422,
                 'graphql_too_complex', 'max_depth', 'max_depth=3');
    is($p->{errors}[0]{max}, 3, 'max_depth=3: the limit');
    refused(get('/tight', '{ a: x b: x c: x }'), 422, 'graphql_too_complex',
            'max_aliases', 'max_aliases=2');
    refused(get('/tight', '{ ' . join(' ', ('a') x 39) . ' }'), 422,
            'graphql_too_complex', 'max_tokens', 'max_tokens=40');
}

# --- a 1 MB string

{
    my $doc = '{ a(s: "' . ('x' x (1024 * 1024)) . '") }';
    my $body = encode_json({ query => $doc });

    refused(post('/graphql', $body), 413, 'body_too_large', undef,
            '1 MB string over the default max_size');

    my $t0 = time;
    my $j = passed(post('/big', $body), '1 MB string under max_size=2m');
    ok(time - $t0 < 10, '1 MB string: quick');
    is($j->{length}, length $body, '1 MB string: upstream got every byte');
    is($j->{sha256}, sha256_hex($body), '1 MB string: unchanged');

    $j = passed(post('/big', $doc, 'application/graphql'),
                '1 MB string, application/graphql');
    is($j->{sha256}, sha256_hex($doc), '1 MB application/graphql: unchanged');

    refused(post('/big', '{ a(s: "' . ('x' x (1024 * 1024)) . ') }',
                 'application/graphql'),
            400, 'graphql_invalid', undef, '1 MB unterminated string');
}

# --- chunked bodies, keep-alive

{
    my $body = encode_json({ query => '{ a { b } }' });
    my $chunked = join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) }
                           unpack('(a7)*', $body)) . "0\r\n\r\n";
    my $j = passed($t->http(method => 'POST', uri => '/graphql',
                            body => $chunked,
                            headers => [ [ 'Content-Type',
                                           'application/json' ],
                                         [ 'Transfer-Encoding',
                                           'chunked' ] ]),
                   'chunked');
    is($j->{sha256}, sha256_hex($body), 'chunked: upstream got the body');

    $body = encode_json({ query => nest(20) });
    $chunked = join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) }
                        unpack('(a5)*', $body)) . "0\r\n\r\n";
    refused($t->http(method => 'POST', uri => '/graphql', body => $chunked,
                     headers => [ [ 'Content-Type', 'application/json' ],
                                  [ 'Transfer-Encoding', 'chunked' ] ]),
            422, 'graphql_too_complex', 'max_depth', 'chunked, too deep');

    my $rs = $t->keepalive(requests => [
        { method => 'POST', uri => '/graphql',
          body => encode_json({ query => nest(20) }),
          headers => [ [ 'Content-Type', 'application/json' ] ] },
        { method => 'POST', uri => '/graphql',
          body => encode_json({ query => '{ a }' }),
          headers => [ [ 'Content-Type', 'application/json' ] ] },
        { uri => '/graphql?query=' . esc('{ b }') },
    ]);
    is(join(' ', map { $_->{status} } @$rs), '422 200 200',
       'keep-alive: a refusal, then two passes on one connection');
}

# --- the URL's query is checked on a POST too; argument forms

{
    refused($t->http(method => 'POST',
                     uri => '/graphql?query=' . esc('{ __schema { t } }'),
                     body => '{"query":"{ a }"}',
                     headers => [ [ 'Content-Type', 'application/json' ] ]),
            422, 'graphql_introspection', 'introspection',
            'POST: the URL document is checked');

    refused($t->http(uri => '/graphql?query=' . esc('{ a }') . '&query='
                            . esc('{ __schema { t } }')),
            400, 'graphql_invalid', undef, 'query given twice');
    # two Content-Types: the upstream may read the body as the other
    refused($t->http(method => 'POST', uri => '/graphql',
                     body => '{ __schema { t } }',
                     headers => [ [ 'Content-Type', 'application/json' ],
                                  [ 'Content-Type', 'application/graphql' ] ]),
            415, 'unsupported_media_type', undef, 'two Content-Types');

    # servers that also split at ';' would take the second document
    refused($t->http(uri => '/graphql?query=' . esc('{ a }') . ';query='
                            . esc('{ __schema { t } }')),
            400, 'graphql_invalid', undef, 'query after a semicolon');
    refused($t->http(uri => '/graphql?x=1;%71uery=' . esc('{ __schema { t } }')
                            . '&query=' . esc('{ a }')),
            400, 'graphql_invalid', undef,
            'encoded query name after a semicolon');
    refused($t->http(uri => '/graphql?query=' . esc('{ a }')
                            . '&y=;operationName=Q'),
            400, 'graphql_invalid', undef, 'operationName after a semicolon');
    passed($t->http(uri => '/graphql?query=' . esc('{ a }') . '&x=1;y=2'),
           'other arguments after a semicolon');
    refused($t->http(uri => '/graphql?%71uery=' . esc('{ __schema { t } }')),
            422, 'graphql_introspection', 'introspection',
            'percent-encoded argument name');
    passed($t->http(uri => '/graphql?query={+a+}'), 'plus is a space');
    # "%" and two raw control bytes 0x17 0x12 are no escape (folded to
    # lower case they would read "72", an "r"); nginx itself refuses
    # the control bytes in a request line, so the request never passes
    is($t->http(uri => "/graphql?query=%7B%\x17\x12%7D")->{status}, 400,
       'a "%" before two control bytes: refused (400)');
    passed($t->http(uri => '/graphql?query=%7B%72%7D'), 'the escape %72');
    passed($t->http(uri => '/graphql?query=' . esc('query A { a } query B '
                                                   . '{ b }')
                           . '&operationName=B'), 'GET operationName');
    refused($t->http(uri => '/graphql?query=' . esc('query A { a }')
                            . '&operationName=B'),
            400, 'graphql_invalid', undef, 'GET unknown operationName');
}

# --- order: authentication first; JSON Schema then GraphQL; compliance off

{
    my $r = post_json('/private', { query => nest(50) });
    is($r->{status}, 401, 'no credential: 401 before the document');

    refused(post_json('/private', { query => nest(50) },
                      [ 'X-API-Key', $key ]),
            422, 'graphql_too_complex', 'max_depth', 'authenticated: checked');
    passed(post_json('/private', { query => '{ a }' }, [ 'X-API-Key', $key ]),
           'authenticated: passed');

    refused(post_json('/schema', { variables => {} }), 422,
            'validation_failed', undef, 'schema first');
    refused(post_json('/schema', { query => '{ __schema { a } }' }), 422,
            'graphql_introspection', undef, 'then graphql');
    passed(post_json('/schema', { query => '{ a }' }), 'schema and graphql');

    refused(get('/off', '{ __schema { a } }'), 422, 'graphql_introspection',
            undef, 'compliance off: still checked');
    is(get('/off', '{ a }')->{status}, 200, 'compliance off: passed');
}

# --- nothing of the document comes back or goes to the trail

{
    my $r = get('/graphql', '{ SECRETMARKER(x: "hunter2") { ...SECRETFRAG } }');
    refused($r, 400, 'graphql_invalid', undef, 'undefined fragment, marked');
    unlike($r->{body}, qr/SECRET|hunter2/, 'the problem echoes nothing');
}

$t->stop;

{
    my @recs = map { decode_json($_) }
               grep { /\S/ } split /\n/, $t->read_file('logs/audit.jsonl');
    my @inv = grep { ($_->{event} // '') eq 'invalid_request' } @recs;

    ok(scalar(grep { ($_->{reason} // '') eq 'graphql_too_complex'
                     && $_->{status} == 422 && $_->{validation_errors} == 1
                     && $_->{severity} eq 'notice' } @inv),
       'record: invalid_request, 422, graphql_too_complex, one error');
    ok(scalar(grep { ($_->{reason} // '') eq 'graphql_invalid'
                     && $_->{status} == 400 && $_->{validation_errors} == 0 }
              @inv),
       'record: graphql_invalid, no validation error');
    ok(scalar(grep { ($_->{reason} // '') eq 'graphql_introspection' } @inv),
       'record: graphql_introspection');
    unlike($t->read_file('logs/audit.jsonl'), qr/SECRET|hunter2|__schema/,
           'the trail holds no document');
}

# --- configuration

$t->config_refusals([
    [ 'compliance_graphql max_depth=0;',
      qr/invalid value "max_depth=0" in "compliance_graphql", it must be a number from 1 to 128/ ],
    [ 'compliance_graphql max_depth=129;', qr/from 1 to 128/ ],
    [ 'compliance_graphql max_aliases=-1;', qr/invalid value "max_aliases=-1"/ ],
    [ 'compliance_graphql max_tokens=0;', qr/invalid value "max_tokens=0"/ ],
    [ 'compliance_graphql max_tokens=x;', qr/invalid value "max_tokens=x"/ ],
    [ 'compliance_graphql introspection=yes;',
      qr/introspection must be "on" or "off"/ ],
    [ 'compliance_graphql max_size=0;', qr/max_size must be a size/ ],
    [ 'compliance_graphql max_size=17m;',
      qr/max_size must be a size from 1 to 16m/ ],
    [ 'compliance_graphql depth=3;',
      qr/invalid parameter "depth=3" in "compliance_graphql"/ ],
    [ 'compliance_graphql max_depth=3 max_depth=4;',
      qr/duplicate parameter "max_depth=4"/ ],
    [ 'compliance_graphql; compliance_graphql;',
      qr/"compliance_graphql" directive is duplicate/ ],
    [ 'compliance_graphql;',
      qr/"compliance_graphql" directive is not allowed here/, 'server' ],
], at => 'location');

$t->config_accepted(<<'EOF', 'every parameter');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT_5%%;
        location / {
            compliance_graphql max_depth=128 max_aliases=0 max_tokens=1000000
                introspection=off max_size=16m;
        }
    }
}
EOF

$t->finish;
