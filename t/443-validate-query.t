#!/usr/bin/perl
# compliance_validate_query: the query arguments form an object of
# strings (a repeated name is an array), converted first where the
# schema's property type is integer, number or boolean; validated by the
# same schema machinery; errors point at /query/<name>; bad percent
# encoding or bytes that are not UTF-8 are 400 malformed_query; checked
# for every method, before any body is read.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;

my $t = Test::Compliance->new;

$t->write_file('search.json', <<'EOF');
{
  "type": "object",
  "required": ["q"],
  "additionalProperties": false,
  "properties": {
    "q": {"type": "string", "minLength": 1, "maxLength": 50},
    "page": {"type": "integer", "minimum": 1, "maximum": 1000},
    "ratio": {"type": "number", "exclusiveMaximum": 1},
    "exact": {"type": "boolean"},
    "tag": {"type": "array", "items": {"type": "string",
            "enum": ["a", "b", "c"]}, "maxItems": 2},
    "id": {"type": "array", "items": {"type": "integer"}},
    "since": {"type": "string", "format": "date"}
  }
}
EOF
$t->write_file('body.json', '{"type":"object","required":["x"]}');

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_0%%;
        compliance on;

        location /search {
            compliance_public "test";
            compliance_validate_query search.json;
            return 200 "passed $arg_page\n";
        }

        location /both {
            compliance_public "test";
            compliance_validate_query search.json;
            compliance_validate_body body.json;
            return 200 "passed\n";
        }
    }
}
EOF

$t->run;

sub get {
    my ($q, %o) = @_;

    my $r = $t->http(method => $o{method} // 'GET',
                     uri => ($o{uri} // '/search') . "?$q",
                     $o{body} ? (body => $o{body},
                                 headers => [ [ 'Content-Type',
                                                'application/json' ] ])
                              : ());
    my $p = eval { decode_json($r->{body}) } || {};
    return ($r, $p);
}

sub errors {
    my ($p) = @_;

    return join ' ', map { "$_->{pointer}:$_->{keyword}" }
        @{ $p->{errors} // [] };
}

my @ok = (
    'q=shoes',
    'q=shoes&page=12',
    'q=red+shoes&page=1000&ratio=0.5&exact=true',
    'q=x&exact=false&tag=a&tag=b',
    'q=x&tag=c',
    'q=x&id=1&id=2&id=3',
    'q=x&id=7',
    'q=caf%C3%A9',
    'q=x&since=2024-02-29',
    'q=x&page=1e2',
    'page=3&q=x',
);

for my $q (@ok) {
    my ($r) = get($q);
    is($r->{status}, 200, "valid: $q");
}

is((get('q=x&page=12'))[0]{body}, "passed 12\n", 'the query reaches nginx as sent');

my @bad = (
    [ '', '/query/q:required' ],
    [ 'page=2', '/query/q:required' ],
    [ 'q=', '/query/q:minLength' ],
    [ 'q=x&page=abc', '/query/page:type' ],
    [ 'q=x&page=12abc', '/query/page:type' ],
    [ 'q=x&page=1.5', '/query/page:type' ],
    [ 'q=x&page=0', '/query/page:minimum' ],
    [ 'q=x&page=1001', '/query/page:maximum' ],
    [ 'q=x&page=+5', '/query/page:type' ],
    [ 'q=x&page=1&page=2', '/query/page:type' ],
    [ 'q=x&ratio=1', '/query/ratio:exclusiveMaximum' ],
    [ 'q=x&ratio=0x1', '/query/ratio:type' ],
    [ 'q=x&exact=1', '/query/exact:type' ],
    [ 'q=x&exact=TRUE', '/query/exact:type' ],
    [ 'q=x&tag=d', '/query/tag/0:enum' ],
    [ 'q=x&tag=a&tag=b&tag=c', '/query/tag:maxItems' ],
    [ 'q=x&id=1&id=two', '/query/id/1:type' ],
    [ 'q=x&since=2023-02-29', '/query/since:format' ],
    [ 'q=x&other=1', '/query/other:additionalProperties' ],
    [ 'q=a&q=b', '/query/q:type' ],
    [ 'q=x&a%2Fb~c=1', '/query/a~1b~0c:additionalProperties' ],
    [ 'q=' . ('x' x 51), '/query/q:maxLength' ],
);

for my $c (@bad) {
    my ($q, $want) = @$c;
    my ($r, $p) = get($q);
    is($r->{status}, 422, "invalid: '$q'");
    is($p->{reason}, 'validation_failed', "invalid: '$q': reason");
    like(errors($p), qr/^\Q$want\E/, "invalid: '$q': $want");
}

# additionalProperties false reports what is not allowed
{
    my ($r, $p) = get('q=x&secret=hunter2');
    unlike($r->{body}, qr/hunter2/, 'the value is not echoed');
    is($p->{errors}[0]{message}, 'property is not allowed', 'message');
}

# every error, up to 20
{
    my ($r, $p) = get(join '&', 'q=', map { "x$_=1" } 1 .. 30);
    is(scalar @{ $p->{errors} }, 20, 'at most 20 errors');
    is($p->{truncated}, JSON::PP::true, 'truncated says there were more');
}

# malformed query strings
for my $q ('q=%zz', 'q=%4', 'q=%C0%AF', 'q=%ED%A0%80', 'q=%FF', '%E2%82=1') {
    my ($r, $p) = get($q);
    is($r->{status}, 400, "malformed: '$q'");
    is($p->{reason}, 'malformed_query', "malformed: '$q': reason");
}

# every method; before the body
{
    my ($r) = get('q=x', method => 'HEAD');
    is($r->{status}, 200, 'HEAD: validated and passed');
    ($r) = get('page=0', method => 'DELETE');
    is($r->{status}, 422, 'DELETE: validated');

    my $p;
    ($r, $p) = get('page=0', uri => '/both', method => 'POST',
                   body => '{"x":1}');
    is($r->{status}, 422, 'query and body: the query first');
    like(errors($p), qr{^/query/}, 'query and body: a query error');
    ($r, $p) = get('q=x', uri => '/both', method => 'POST', body => '{}');
    is($r->{status}, 422, 'query passes, body fails');
    is(errors($p), '/x:required', 'query and body: the body error');
    ($r) = get('q=x', uri => '/both', method => 'POST', body => '{"x":1}');
    is($r->{status}, 200, 'query and body: both pass');
}

$t->stop;
$t->finish;
