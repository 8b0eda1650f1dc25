#!/usr/bin/perl
# compliance_jwt_revocation (SPEC 14): jti, sub and kid entries, 401
# token_revoked with the RFC 6750 challenge, exact matching (types kept
# apart, numeric and escaped claims as the token carries them), the
# token cache, a location's own list after an internal redirect, the
# audit record (revoked_by), reloads that add, remove and break the list,
# a list shared by several levels, a 100,000-line list, and the
# config-time refusals.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;
use Test::ComplianceAuth qw(make_secret pyjwt oct_jwk jwks reason_of
    requests bearer);

plan skip_all => 'Debian python3-jwt not available'
    unless Test::ComplianceAuth::python_ok();

my $t = Test::Compliance->new;

my $hs = make_secret($t, 'hs', 32);
my $k2 = make_secret($t, 'k2', 32);
$t->write_file('keys.jwks', jwks(oct_jwk($hs->{bytes}, kid => 'hs'),
                                 oct_jwk($k2->{bytes}, kid => 'k2')));

my $LIST = <<'EOF';
# revoked after incident 4411
jti j-revoked
sub mallory
kid k2
jti 12345
jti j-x
  sub   with spaces inside   
EOF

$t->write_file('revoked.txt', $LIST);
$t->write_file('other.txt', "jti j-other\n");

my $exp = time + 600;
my %tok;
my @names = qw(good jti sub kid num escaped jti_is_sub other spaced
    nojti);
my @ops = (
    { sub => 'alice', jti => 'j-good' },
    { sub => 'alice', jti => 'j-revoked' },
    { sub => 'mallory', jti => 'j-m' },
    'k2',
    { sub => 'alice', jti => 12345 },
    'escaped',
    { sub => 'alice', jti => 'mallory' },
    { sub => 'alice', jti => 'j-other' },
    { sub => 'with spaces inside', jti => 'j-s' },
    { sub => 'bob' },
);

@tok{@names} = pyjwt($t, map {
    ref $_ ? { op => 'jwt', alg => 'HS256', key => $hs->{key}, kid => 'hs',
               claims => { exp => $exp, %$_ } }
    : $_ eq 'k2'
        ? { op => 'jwt', alg => 'HS256', key => $k2->{key}, kid => 'k2',
            claims => { sub => 'alice', jti => 'j-k2', exp => $exp } }
    # "j\u002dx" is "j-x" once unescaped, as the claim is compared
        : { op => 'raw', alg => 'HS256', key => $hs->{key},
            header => { alg => 'HS256', kid => 'hs', typ => 'JWT' },
            payload => '{"sub":"alice","jti":"j\\u002dx","exp":'
                       . $exp . '}' }
} @ops);

$t->forbid_in_logs(values %tok);

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_audit_log logs/audit.jsonl;
    compliance_jwt_keys %%PREFIX%%/keys.jwks;
    compliance_jwt_revocation revoked.txt;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location / {
            return 200 "ok $compliance_principal\n";
        }

        # its own list replaces the inherited one
        location /other {
            compliance_jwt_revocation other.txt;
            return 200 "other $compliance_principal\n";
        }

        location /redirect {
            rewrite ^ /other last;
        }

        location = /metrics {
            compliance_status;
        }
    }

    # the same file named again: read once, the same answers
    server {
        listen 127.0.0.1:%%PORT_1%%;
        compliance_jwt_revocation %%PREFIX%%/revoked.txt;

        location / {
            return 200 "second\n";
        }
    }

    # a revoked token replayed is a failed authentication
    compliance_limit_zone failures 1m;

    server {
        listen 127.0.0.1:%%PORT_2%%;
        compliance_auth_failure_limit zone=failures rate=2r/m block=5m;

        location / {
            return 200 "limited\n";
        }
    }
}
EOF

$t->run;

sub req {
    my ($uri, $name) = @_;

    die "no token $name" unless $tok{$name};
    return { uri => $uri, headers => bearer($tok{$name}) };
}

# [request, status, name]
my @cases = (
    [ req('/', 'good'), 200, 'a token not listed' ],
    [ req('/', 'jti'), 401, 'jti listed' ],
    [ req('/', 'sub'), 401, 'sub listed' ],
    [ req('/', 'kid'), 401, 'kid of the verifying key listed' ],
    [ req('/', 'num'), 401, 'a numeric jti, as its text' ],
    [ req('/', 'escaped'), 401, 'an escaped jti, unescaped' ],
    [ req('/', 'jti_is_sub'), 200, 'a listed sub as a jti: not revoked' ],
    [ req('/', 'spaced'), 401, 'a value with inner spaces' ],
    [ req('/', 'nojti'), 200, 'a token without jti' ],
    [ req('/', 'other'), 200, 'the other list does not apply here' ],
    [ req('/other', 'other'), 401, 'the location\'s own list' ],
    [ req('/other', 'jti'), 200, '... which replaces the inherited one' ],
    [ req('/redirect', 'other'), 401,
      'rewrite ... last into a location whose list has the token' ],
    [ req('/redirect', 'good'), 200, 'rewrite ... last, not listed' ],
    # the second time a token comes from the per-worker cache
    [ req('/', 'jti'), 401, 'jti listed, cached token' ],
    [ req('/', 'good'), 200, 'good, cached token' ],
);

my @res = requests($t, [ map { $_->[0] } @cases ]);

for my $i (0 .. $#cases) {
    my (undef, $status, $name) = @{ $cases[$i] };
    my $r = $res[$i] || {};

    is($r->{status}, $status, "$name: $status") or diag($r->{body});
    is(reason_of($r), 'token_revoked', "$name: token_revoked")
        if $status == 401;
}

# compliance_status counts them by reason
my $revoked = grep { $_->[1] == 401 } @cases;
my $m = $t->http(%{ req('/metrics?format=json', 'good') });
my $mj = eval { decode_json($m->{body}) } || {};
is($mj->{compliance_refusals_total}{token_revoked}, $revoked,
   'compliance_refusals_total{reason="token_revoked"}');

my $r = $res[1];
is($r->{header}->('WWW-Authenticate'),
   'Bearer realm="api", error="invalid_token"', 'RFC 6750 challenge');
like($r->{header}->('Content-Type'), qr{^application/problem\+json},
     'problem+json');
my $p = eval { decode_json($r->{body}) } || {};
is($p->{status}, 401, 'problem status');
is($p->{title}, 'Unauthorized', 'problem title');
unlike($r->{body}, qr/j-revoked|jti|mallory/, 'the body names no entry');

@res = requests($t, [ req('/', 'jti'), req('/', 'good') ],
                port => $t->port(1));
is($res[0]{status}, 401, 'a second level naming the same file');
is($res[1]{status}, 200, 'a second level, good token');

@res = requests($t, [ (req('/', 'jti')) x 4, req('/', 'good') ],
                port => $t->port(2));
is(reason_of($res[0]), 'token_revoked', 'lockout: first replay refused');
is($res[3]{status}, 429, 'lockout: replays of a revoked token lock out');
is(reason_of($res[4]), 'locked_out', '... the source, whatever it sends');

# --- audit records
sub records {
    my $text = $t->read_file('logs/audit.jsonl') // '';
    return map { eval { decode_json($_) } // {} } split /\n/, $text;
}

my $want = 9 + @cases;
$t->wait_for(sub { records() >= $want }, timeout => 5);
my @recs = records();

my ($rj) = grep { ($_->{reason} // '') eq 'token_revoked'
                  && ($_->{revoked_by} // '') eq 'jti' } @recs;
my ($rs) = grep { ($_->{revoked_by} // '') eq 'sub' } @recs;
my ($rk) = grep { ($_->{revoked_by} // '') eq 'kid' } @recs;
ok($rj, 'record with revoked_by jti');
ok($rs, 'record with revoked_by sub');
ok($rk, 'record with revoked_by kid');
is($rj->{event}, 'auth_failure', 'event auth_failure');
is($rj->{status}, 401, 'record status');
ok(!exists $rk->{user_id} || !defined $rk->{user_id},
   'a refused token names no user');
my @ok = grep { ($_->{status} // 0) == 200 } @recs;
ok(@ok && !grep({ exists $_->{revoked_by} } @ok),
   'no revoked_by on an allowed request');

# --- reload: the list is read again
$t->write_file('revoked.txt', $LIST . "jti j-good\n");
$t->reload;
is($t->http(%{ req('/', 'good') })->{status}, 401,
   'reload: a new entry applies');

$t->write_file('revoked.txt', "# emptied\n");
$t->reload;
is($t->http(%{ req('/', 'jti') })->{status}, 200,
   'reload: a removed entry no longer applies');

# a broken list: the reload is refused, the running list stays
$t->write_file('revoked.txt', "jti ok\nbogus line\n");
ok(!$t->reload(may_fail => 1), 'reload with a malformed list refused');
my $listed = qr/invalid revocation list "revoked\.txt" in/;
like($t->error_log,
     qr/$listed "compliance_jwt_revocation": \S+revoked\.txt: line 2: /,
     'the refusal names the file and line');
is($t->http(%{ req('/', 'jti') })->{status}, 200,
   'the previous configuration serves on');
$t->write_file('revoked.txt', $LIST);
$t->reload;
is($t->http(%{ req('/', 'jti') })->{status}, 401, 'fixed and reloaded');

# --- a large list: 100,000 entries, the last one hit
{
    my $big = join '', map { "jti big-$_\n" } 1 .. 99_999;
    $t->write_file('revoked.txt', $big . "jti j-good\n");
    my $t0 = time;
    $t->reload;
    is($t->http(%{ req('/', 'good') })->{status}, 401,
       '100,000-line list: last entry found');
    is($t->http(%{ req('/', 'jti') })->{status}, 200,
       '100,000-line list: others pass');
    cmp_ok(time - $t0, '<', 10, '100,000-line list reloads quickly');
}

# --- refusals at nginx -t
my $conf = <<'EOF';
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance on;
    compliance_jwt_keys %%PREFIX%%/keys.jwks;
    server {
        listen 127.0.0.1:%%PORT_5%%;
        location / {
            LINE
            return 200;
        }
    }
}
EOF

sub conf_with {
    my ($line) = @_;
    (my $c = $conf) =~ s/LINE/$line/;
    return $c;
}

$t->write_file('bad-type.txt', "jti a\niss x\n");
$t->write_file('no-value.txt', "sub\n");
$t->write_file('control.txt', "kid a\x01b\n");
$t->write_file('empty.txt', '');

my $expected = quotemeta '"jti <id>", "sub <subject>" or "kid <kid>"';
$t->config_refused(conf_with('compliance_jwt_revocation bad-type.txt;'),
    qr/\[emerg\] \S+ invalid revocation list "bad-type\.txt" in "\S+": (?#
       )\S+bad-type\.txt: line 2: expected $expected/, 'unknown entry type');
$t->config_refused(conf_with('compliance_jwt_revocation no-value.txt;'),
    qr/line 1: entry without a value/, 'entry without a value');
$t->config_refused(conf_with('compliance_jwt_revocation control.txt;'),
    qr/line 1: control character in the value/, 'control character');
$t->config_refused(conf_with('compliance_jwt_revocation missing.txt;'),
    qr/cannot open revocation list "\S+missing\.txt": No such file/,
    'missing file');
$t->config_refused(conf_with("compliance_jwt_revocation empty.txt;\n"
                             . "compliance_jwt_revocation empty.txt;"),
    qr/"compliance_jwt_revocation" directive is duplicate/, 'duplicate');
$t->config_refused(conf_with('compliance_jwt_revocation;'),
    qr/invalid number of arguments in "compliance_jwt_revocation"/,
    'no file');
$t->config_accepted(conf_with('compliance_jwt_revocation empty.txt;'),
    'an empty list');
my $public = qr/public \("compliance_public "probe""\), would never be/;
my $off = qr/where "compliance" is off, would never be enforced/;
$t->config_refused(conf_with('compliance_public "probe"; '
                             . 'compliance_jwt_revocation empty.txt;'),
    qr/"compliance_jwt_revocation" in location "\/", $public checked in /,
    'in a public location');
$t->config_refused(conf_with('compliance off; '
                             . 'compliance_jwt_revocation empty.txt;'),
    qr/"compliance_jwt_revocation" in location "\/", $off/,
    'where compliance is off');

$t->finish;
