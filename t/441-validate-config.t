#!/usr/bin/perl
# compliance_validate_body / compliance_validate_query at nginx -t: a
# schema is compiled once, when the directive is read, and anything the
# compiler refuses is an [emerg] naming the schema file, the JSON pointer
# of the keyword and the directive's line: a missing or unreadable file,
# invalid JSON, an unknown keyword, a remote $ref, a bad regex, an
# unsupported format; the directives' own parameters; the compiler's
# warnings are logged and the configuration accepted.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;

my $t = Test::Compliance->new;
my $p = $t->prefix;

my %schemas = (
    'ok.json'       => '{"type":"object","properties":{"a":{"type":"string"}}}',
    'syntax.json'   => qq({"type": "object",\n  "required": ["a",]\n}\n),
    'dup.json'      => '{"type":"object","type":"array"}',
    'unknown.json'  => '{"properties":{"a":{"maxLenght":3}}}',
    'deps.json'     => '{"dependencies":{"a":["b"]}}',
    'remote.json'   => '{"properties":{"a":{"$ref":'
                       . '"http://json-schema.org/draft-07/schema#"}}}',
    'relative.json' => '{"$ref":"other.json#/x"}',
    'regex.json'    => '{"properties":{"a":{"type":"string",'
                       . '"pattern":"(ab"}}}',
    'ppregex.json'  => '{"patternProperties":{"[z-a]":{}}}',
    'format.json'   => '{"properties":{"h":{"format":"hostname"}}}',
    'cycle.json'    => '{"anyOf":[{"type":"null"},{"$ref":"#"}]}',
    'type.json'     => '{"minimum":"1"}',
    'unresolved.json' => '{"$ref":"#/definitions/none"}',
    'warn.json'     => '{"properties":{"f":{"$ref":"#/definitions/d",'
                       . '"minimum":3}},"definitions":{"d":{}}}',
);

for my $f (sort keys %schemas) {
    $t->write_file($f, $schemas{$f});
}

mkdir "$p/dir.json";

sub conf {
    my ($line, $where) = @_;

    $where //= 'location';
    my %in = (server => '', location => '');
    $in{$where} = $line;

    return <<"EOF";
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT_0%%;
        compliance on;
        $in{server}
        location /v {
            compliance_public "test";
            $in{location}
            return 200;
        }
    }
}
EOF
}

# the line an [emerg] names ("in FILE:LINE"), as written in FILE
sub directive_at {
    my ($out, $what) = @_;

    $what //= qr/\[emerg\]/;
    my ($file, $line) = $out =~ /$what.* in (\S+):(\d+)$/m or return '';
    open my $fh, '<', $file or return '';
    my @l = <$fh>;
    my $text = $l[$line - 1] // '';
    $text =~ s/^\s+|\s+$//g;
    return $text;
}

# --- the schema file

my @files = (
    [ 'none.json', qr{cannot open schema file "\Q$p\E/none\.json": No such file}, 'missing file' ],
    [ 'dir.json', qr{schema file "\Q$p\E/dir\.json" is not a regular file}, 'a directory' ],
    [ 'syntax.json', qr{\Q$p\E/syntax\.json: invalid JSON at line 2, column 20: }, 'invalid JSON' ],
    [ 'dup.json', qr{\Q$p\E/dup\.json: invalid JSON at line 1, column \d+: duplicate}, 'duplicate member' ],
    [ 'unknown.json', qr{\Q$p\E/unknown\.json: #/properties/a/maxLenght: unsupported keyword}, 'misspelt keyword' ],
    [ 'deps.json', qr{\Q$p\E/deps\.json: #/dependencies: unsupported keyword}, 'unsupported keyword' ],
    [ 'remote.json', qr{\Q$p\E/remote\.json: #/properties/a/\$ref: only local references}, 'remote $ref' ],
    [ 'relative.json', qr{\Q$p\E/relative\.json: #/\$ref: only local references}, 'relative $ref' ],
    [ 'regex.json', qr{\Q$p\E/regex\.json: #/properties/a/pattern: invalid regex: missing closing parenthesis}, 'bad regex' ],
    [ 'ppregex.json', qr{\Q$p\E/ppregex\.json: #/patternProperties/\[z-a\]: invalid regex}, 'bad patternProperties regex' ],
    [ 'format.json', qr{\Q$p\E/format\.json: #/properties/h/format: unsupported format "hostname"}, 'unsupported format' ],
    [ 'cycle.json', qr{\Q$p\E/cycle\.json: #/anyOf/1/\$ref: reference cycle}, '$ref cycle' ],
    [ 'type.json', qr{\Q$p\E/type\.json: #/minimum: }, 'keyword value of the wrong type' ],
    [ 'unresolved.json', qr{\Q$p\E/unresolved\.json: #/\$ref: "\#/definitions/none" does not resolve}, 'unresolved $ref' ],
);

for my $c (@files) {
    my ($file, $re, $name) = @$c;

    for my $d ('compliance_validate_body', 'compliance_validate_query') {
        my $out = $t->config_refused(conf("$d $file;"),
                                     qr/\[emerg\].*"\Q$d\E".*|\[emerg\].*$re/,
                                     "$d: $name");
        like($out, qr/\[emerg\].*$re/, "$d: $name: file and pointer");
        like($out, qr/"\Q$d\E"/, "$d: $name: the directive");
        is(directive_at($out), "$d $file;", "$d: $name: its line");
    }
}

SKIP: {
    skip 'root reads any file', 2 if $> == 0;

    $t->write_file('secret.json', '{}');
    chmod 0000, "$p/secret.json";
    $t->config_refused(conf('compliance_validate_body secret.json;'),
                       qr/\[emerg\].*cannot open schema file .*secret\.json.*Permission denied/,
                       'unreadable file');
}

# relative paths are from the configuration's directory (the prefix here)
$t->config_accepted(conf('compliance_validate_body ok.json;'), 'relative path');
$t->config_accepted(conf("compliance_validate_body $p/ok.json;"),
                    'absolute path');

# the compiler's warnings: logged, accepted
{
    my $out = $t->config_accepted(conf('compliance_validate_body warn.json;'),
                                  'keywords next to $ref: accepted');
    like($out, qr/\[warn\].*schema in "compliance_validate_body": \Q$p\E\/warn\.json: #\/properties\/f: keywords next to "\$ref" are ignored/,
         'keywords next to $ref: warned');
}

# max_size above client_max_body_size: nginx's 413 would come first
{
    my $out = $t->config_accepted(conf('client_max_body_size 1k; '
                                       . 'compliance_validate_body ok.json;'),
                                  'max_size above client_max_body_size');
    like($out, qr/\[warn\].*"compliance_validate_body" max_size=65536 is above "client_max_body_size" 1024: nginx refuses larger bodies first.* in \S+:\d+/,
         'max_size above client_max_body_size: warned, with the line');
    is(directive_at($out, qr/\[warn\].*max_size=65536/),
       'client_max_body_size 1k; compliance_validate_body ok.json;',
       'max_size above client_max_body_size: the directive\'s line');

    $out = $t->config_accepted(conf('client_max_body_size 0; '
                                    . 'compliance_validate_body ok.json '
                                    . 'max_size=10m;'),
                               'client_max_body_size 0');
    unlike($out, qr/is above "client_max_body_size"/,
           'client_max_body_size 0 (no limit): no warning');
    $out = $t->config_accepted(conf('compliance_validate_body ok.json '
                                    . 'max_size=1m;'),
                               'max_size = client_max_body_size');
    unlike($out, qr/is above "client_max_body_size"/,
           'max_size equal to client_max_body_size: no warning');
}

# a file several directives name is compiled once (one warning)
{
    my $out = $t->config_accepted(conf('compliance_validate_body warn.json; '
                                       . 'compliance_validate_query '
                                       . "$p/warn.json;"),
                                  'one schema file, two directives');
    my @w = $out =~ /keywords next to "\$ref" are ignored/g;
    is(scalar @w, 1, 'one schema file, two directives: compiled once');
}

# --- the directives' parameters

my @params = (
    [ 'compliance_validate_body ok.json max_size=0;', qr/invalid max_size "0"/ ],
    [ 'compliance_validate_body ok.json max_size=12q;', qr/invalid max_size "12q"/ ],
    [ 'compliance_validate_body ok.json types=json;', qr/invalid media type in "types=json"/ ],
    [ 'compliance_validate_body ok.json types=application/json,;', qr/invalid media type/ ],
    [ 'compliance_validate_body ok.json "types=a/b;c=d";', qr/invalid media type/ ],
    [ 'compliance_validate_body ok.json methods=POST,FETCH;', qr/invalid method "FETCH" in "methods=POST,FETCH"/ ],
    [ 'compliance_validate_body ok.json methods=post;', qr/invalid method "post"/ ],
    [ 'compliance_validate_body ok.json strict;', qr/invalid parameter "strict"/ ],
    [ 'compliance_validate_body ok.json; compliance_validate_body ok.json;', qr/"compliance_validate_body" directive is duplicate/ ],
    [ 'compliance_validate_query ok.json; compliance_validate_query ok.json;', qr/"compliance_validate_query" directive is duplicate/ ],
    [ 'compliance_validate_query ok.json max_size=1k;', qr/invalid number of arguments in "compliance_validate_query"/ ],
    [ 'compliance_validate_body;', qr/invalid number of arguments in "compliance_validate_body"/ ],
);

for my $c (@params) {
    $t->config_refused(conf($c->[0]), qr/\[emerg\].*$c->[1]/, $c->[0]);
}

for my $d ('compliance_validate_body ok.json;', 'compliance_validate_query ok.json;') {
    $t->config_refused(conf($d, 'server'), qr/\[emerg\].*directive is not allowed here/,
                       "$d in a server block");
}

$t->config_accepted(conf('compliance_validate_body ok.json max_size=1m '
                         . 'types=application/json,Application/Merge-Patch+JSON '
                         . 'methods=POST,PUT,PATCH,DELETE;'),
                    'every parameter');
$t->config_accepted(conf('compliance_validate_body ok.json; '
                         . 'compliance_validate_query ok.json;'),
                    'body and query');

$t->finish;
