#!/usr/bin/perl
# Errors nginx -t finds after a directive was read (in a merge, at
# postconfiguration, when the audit file is opened) name that directive's
# own file and line, not the end of the block nginx was reading then.
# Each case marks its directive with "# HERE"; the message must end with
# "in <file>:<that line>".

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceAuth qw(oct_jwk jwks);

my $t = Test::Compliance->new;

$t->write_file('hs.json', jwks(oct_jwk('s' x 32, kid => 'hs')), 0600);
$t->write_file('chain.key', ('ab' x 32) . "\n", 0600);

my $n = 0;

# ($ok, $out, $file, $line): nginx -t of the template, and where its
# "# HERE" line is in the file written
sub check {
    my ($template) = @_;

    my $name = 'pos-' . ++$n . '.conf';
    my $file = $t->write_config($template, $name);
    my ($ok, $out) = $t->test_config($name);

    my @lines = split /\n/, $t->read_file($name);
    my ($line) = grep { $lines[$_ - 1] =~ /# HERE/ } 1 .. @lines;
    die "no # HERE in case $n" unless $line;

    return ($ok, $out, $file, $line);
}

sub refused_at {
    my ($template, $re, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my ($ok, $out, $file, $line) = check($template);
    ok(!$ok, "refused: $name");
    like($out, qr/\[emerg\][^\n]*$re[^\n]* in \Q$file\E:$line$/m,
         "$name: names line $line") or diag($out);
}

sub warned_at {
    my ($template, $re, $name, $count) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my ($ok, $out, $file, $line) = check($template);
    ok($ok, "accepted: $name") or diag($out);
    my @w = $out =~ /^.*\[warn\][^\n]*$re[^\n]* in \Q$file\E:$line$/mg;
    is(scalar @w, $count // 1, "$name: warned, naming line $line")
        or diag($out);
}

# a server with a location and a nested one; the parts are per case
sub conf {
    my (%o) = @_;

    $o{$_} //= '' for qw(http server loc inner);

    return <<"EOF";
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance_limit_zone z 1m;
    compliance_limit_zone z2 1m;
    $o{http}
    server {
        listen 127.0.0.1:%%PORT_0%%;
        $o{server}
        location /x/ {
            $o{loc}
            location /x/y/ {
                $o{inner}
            }
        }
    }
}
EOF
}

my $on = 'compliance on;';

# --- merge_inert: scopes and limits where they can never act
refused_at(conf(server => $on, loc => qq{compliance_public "p";
            compliance_require_scope a;  # HERE
            }),
    qr/"compliance_require_scope" and "compliance_public" in location "\/x\/"/,
    'scopes in a public location');

refused_at(conf(server => $on, loc => 'compliance_public "status";',
    inner => 'compliance_require_scope a;  # HERE'),
    qr/"compliance_require_scope" in a location that inherits/,
    'scopes under an inherited public location');

refused_at(conf(server => 'compliance off;',
    loc => "\n            compliance_require_scope a;  # HERE\n"),
    qr/"compliance_require_scope" in location "\/x\/", where "compliance" is off/,
    'scopes where compliance is off');

refused_at(conf(loc => "compliance off;
            compliance_limit zone=z rate=1r/s;  # HERE
            compliance_limit zone=z2 rate=9r/m;"),
    qr/"compliance_limit" in location "\/x\/", where "compliance" is off/,
    'a limit where compliance is off: the first one');

refused_at(conf(loc => "compliance off;
            compliance_auth_failure_limit zone=z rate=5r/m;  # HERE"),
    qr/"compliance_auth_failure_limit" in location "\/x\/", where/,
    'a failure limit where compliance is off');

# --- the zone is known only once the http block is read
refused_at(conf(server => $on,
    loc => "compliance_limit zone=nosuch rate=1r/s;  # HERE"),
    qr/unknown zone "nosuch" in "compliance_limit", no "compliance_limit_zone nosuch \.\.\." is declared/,
    'an unknown zone');

# --- merge_auth: the method's line, also when inherited from http
refused_at(conf(http => "$on\n    compliance_auth jwt;  # HERE\n"),
    qr/"compliance_auth jwt" needs "compliance_jwt_keys" here/,
    'compliance_auth inherited from http, refused in the server');

refused_at(conf(server => "$on compliance_jwt_keys %%PREFIX%%/hs.json;",
    loc => "compliance_auth api_key;  # HERE"),
    qr/"compliance_auth api_key" needs "compliance_api_keys" here/,
    'compliance_auth in a location');

# --- jwt_merge: the line of whichever of the two is the inner one
refused_at(conf(http => "$on compliance_jwt_algorithms RS256;",
    loc => "compliance_jwt_keys %%PREFIX%%/hs.json;  # HERE"),
    qr/no key loaded by "compliance_jwt_keys" can verify any algorithm allowed by "compliance_jwt_algorithms"/,
    'keys no allowed algorithm fits: the keys of the location');

refused_at(conf(http => "$on compliance_jwt_keys %%PREFIX%%/hs.json;",
    server => 'compliance_jwt_algorithms ES256;  # HERE'),
    qr/no key loaded by "compliance_jwt_keys" can verify any algorithm/,
    '... the allow-list of the server');

# --- warnings: the header name's own line, once per server for http's
warned_at(conf(http => "$on\n    compliance_api_key_header X_Api_Key;  # HERE\n",
    loc => 'compliance_public "p";'),
    qr/"compliance_api_key_header X_Api_Key": nginx drops client headers with "_"/,
    'an API-key header with "_" at http level');

# two servers without underscores_in_headers: one warning each, and none
# for the one that has it
warned_at(<<'EOF', qr/"compliance_api_key_header X_Api_Key": nginx drops/,
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance_api_key_header X_Api_Key;  # HERE
    server { listen 127.0.0.1:%%PORT_0%%; location /a/ { } }
    server { listen 127.0.0.1:%%PORT_1%%; }
    server { listen 127.0.0.1:%%PORT_2%%; underscores_in_headers on; }
}
EOF
    '... once per server that drops it', 2);

# --- the vault: a credential where requests are not authenticated
refused_at(conf(http => 'compliance on;', loc => 'compliance_public "p";
            compliance_upstream_credential x;  # HERE'),
    qr/"compliance_upstream_credential x" is not allowed in a public location/,
    'an upstream credential in a public location');

warned_at(conf(http => "compliance_audit_chain %%PREFIX%%/chain.key;  # HERE"),
    qr/"compliance_audit_chain" is set but no "compliance_audit_log" is configured/,
    'a chain without a trail');

# --- the audit file: opened while its directive is read
refused_at(conf(http => "$on
    compliance_audit_log %%PREFIX%%/no/such/dir/audit.jsonl;  # HERE"),
    qr/"compliance_audit_log" cannot open "\Q${\ $t->path('no\/such\/dir\/audit.jsonl')}\E" \(2: No such file or directory\)/,
    'an audit log in a missing directory');

mkdir $t->path('trail');
refused_at(conf(server => "$on
        compliance_audit_log %%PREFIX%%/trail;  # HERE"),
    qr/"compliance_audit_log" cannot open "[^"]+\/trail" \(21: Is a directory\)/,
    'an audit log path that is a directory');

my ($ok, $out) = check(conf(http => "$on
    compliance_audit_log %%PREFIX%%/logs/audit.jsonl;  # HERE"));
ok($ok, 'a writable audit log loads') or diag($out);
ok(-f $t->path('logs/audit.jsonl'), '... and exists after nginx -t, as '
   . 'nginx itself would leave it');

$t->finish;
