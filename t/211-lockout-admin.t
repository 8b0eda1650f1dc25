#!/usr/bin/perl
# compliance_lockout_admin: with 2 workers, an address locked out by
# repeated failures is refused by both; GET lists it (zone, address as
# kept, seconds left, failures), POST/DELETE clears one address, one
# address in one zone, or all of them (all=yes), after which whichever
# worker gets the next request serves it; a limit without block= that
# shares the zone blocks nothing; unknown addresses, bad
# arguments and methods are refused with problem+json; the admin
# location is itself enforced (allow/deny on a public one, credentials
# and scope on another); every clear is a "lockout_cleared" audit record
# naming who, which address and how many, and the chained trail still
# verifies with compliance-audit; a reload keeps the lockouts and a
# clear works after it; config-time refusals.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;
use Test::ComplianceAuth qw(keygen reason_of run_cmd);
use Test::ComplianceAudit qw(audit_bin genkey);

my $t = Test::Compliance->new;

my $file = $t->path('keys.txt');
my $good = keygen($file, '--principal', 'alice');
my $bad = substr($good, 0, -2) . (substr($good, -2) eq 'AA' ? 'BA' : 'AA');
my $ops = keygen($file, '--principal', 'ops', '--scopes', 'lockouts');
my $ops_id = ($ops =~ /^ck_([a-z2-7]{12})_/)[0];
my $chain = genkey($t, 'chain.key');

$t->forbid_in_logs($good, $ops);

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_api_keys %%PREFIX%%/keys.txt;
    compliance_audit_log %%PREFIX%%/logs/audit.jsonl;
    compliance_audit_chain %%PREFIX%%/chain.key;

    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;

    compliance_limit_zone failures 1m;
    compliance_limit_zone other 1m;
    compliance_auth_failure_limit zone=failures rate=3r/m block=10m;

    server {
        # reuseport: the kernel spreads new connections over both workers
        listen 127.0.0.1:%%PORT_0%% reuseport;

        add_header X-Worker $pid always;

        location / {
            return 200 "ok\n";
        }

        location /report {
            compliance_auth_failure_limit zone=failures rate=3r/m;
            return 200 "report\n";
        }

        location /other {
            compliance_auth_failure_limit zone=other rate=2r/m block=10m;
            return 200 "other\n";
        }

        location = /_lockouts {
            compliance_public "lockout admin, local only";
            allow 127.0.0.1;
            deny all;
            compliance_lockout_admin;
        }

        location = /_admin/lockouts {
            compliance_require_scope lockouts;
            compliance_lockout_admin;
        }
    }
}
EOF

$t->run;

my @workers = $t->worker_pids;
is(scalar @workers, 2, 'two workers');

sub get {
    my ($uri, $addr, $key) = @_;

    my @h = ([ 'X-Forwarded-For', $addr ]);
    push @h, [ 'X-API-Key', $key ] if defined $key;

    return $t->http(uri => $uri, headers => \@h);
}

sub admin {
    my ($method, $query, %o) = @_;

    my $uri = ($o{uri} // '/_lockouts') . (length $query ? "?$query" : '');
    my @h;
    push @h, [ 'X-API-Key', $o{key} ] if defined $o{key};
    push @h, [ 'X-Forwarded-For', $o{from} ] if defined $o{from};

    my $r = $t->http(method => $method, uri => $uri, headers => \@h,
                     defined $o{body} ? (body => $o{body}) : ());
    $r->{json} = eval { decode_json($r->{body} // '') };

    return $r;
}

# requests on new connections until both workers answered (at most 60);
# returns (statuses, number of workers seen)
sub both_workers {
    my ($uri, $addr, $key) = @_;

    my (%seen, @st);

    for (1 .. 60) {
        my $r = get($uri, $addr, $key);
        push @st, $r->{status};
        $seen{ $r->{header}->('x-worker') // '' } = 1;
        last if keys %seen >= 2;
    }

    return (\@st, scalar keys %seen);
}

sub lock_out {
    my ($addr, $uri, $n) = @_;

    get($uri // '/', $addr, $bad) for 1 .. ($n // 4);
}

sub records {
    my ($event) = @_;

    my $log = $t->read_file('logs/audit.jsonl') // '';

    return grep { $_->{event} eq $event }
           map { decode_json($_) } split /\n/, $log;
}

# --- a lockout holds in both workers
my $A = '198.51.100.1';

lock_out($A);

my ($st, $seen) = both_workers('/', $A, $good);
is($seen, 2, 'both workers answered');
ok(!grep({ $_ != 429 } @$st), 'locked out in both workers: 429 only')
    or diag("@$st");

# --- listing
my $r = admin('GET', '');
is($r->{status}, 200, 'GET lists');
is($r->{header}->('content-type'), 'application/json', '... as JSON');
is($r->{header}->('cache-control'), 'no-store', '... not to be cached');
is($r->{json}{total}, 1, '... one lockout');
is($r->{json}{truncated}, JSON::PP::false, '... not truncated');
my $lo = $r->{json}{lockouts}[0] // {};
is($lo->{zone}, 'failures', '... its zone');
is($lo->{address}, $A, '... the address as kept');
ok($lo->{seconds_left} > 590 && $lo->{seconds_left} <= 600,
   '... the seconds left of the 10 minute block')
    or diag(explain $lo);
is($lo->{failures}, 4, '... the failures counted');
like($lo->{until} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
     '... and when it ends, in UTC');
unlike($r->{body}, qr/\Q$good\E|\Q$bad\E|ck_/, 'no credential in the list');

$r = admin('HEAD', '');
is($r->{status}, 200, 'HEAD: 200');
is($r->{body} // '', '', '... no body');

$r = admin('GET', "address=$A");
is($r->{json}{total}, 1, 'GET address=: that address');
$r = admin('GET', 'address=198.51.100.77');
is($r->{status}, 200, 'GET of an address not locked out: 200');
is($r->{json}{total}, 0, '... total 0');
is_deeply($r->{json}{lockouts}, [], '... empty list');
$r = admin('GET', 'zone=other');
is($r->{json}{total}, 0, 'GET zone=other: none there');

# --- refusals of the admin endpoint
$r = admin('DELETE', 'address=198.51.100.77');
is($r->{status}, 404, 'clearing an address not locked out: 404');
is(reason_of($r), 'not_locked_out', '... not_locked_out');
is($r->{header}->('content-type'), 'application/problem+json',
   '... problem+json');

for my $c ([ 'POST', '', 'address_required' ],
           [ 'POST', "address=$A&all=yes", 'address_required' ],
           [ 'POST', 'address=300.1.1.1', 'invalid_address' ],
           [ 'POST', 'address=198.51.100.0/24', 'invalid_address' ],
           [ 'POST', 'address=2001:db8::/48', 'invalid_address' ],
           [ 'POST', 'address=%00', 'invalid_parameter' ],
           [ 'POST', "address=$A&zone=nosuch", 'unknown_zone' ],
           [ 'POST', "address=$A&address=$A", 'invalid_parameter' ],
           [ 'POST', 'all=no', 'invalid_parameter' ],
           [ 'POST', 'all=yes&foo=1', 'invalid_parameter' ],
           [ 'GET', 'all=yes', 'invalid_parameter' ],
           [ 'GET', 'key=1', 'invalid_parameter' ])
{
    my ($m, $q, $reason) = @$c;

    $r = admin($m, $q);
    is($r->{status}, 400, "$m ?$q: 400");
    is(reason_of($r), $reason, "... $reason");
}

for my $m (qw(PUT PATCH OPTIONS)) {
    $r = admin($m, "address=$A", body => '');
    is($r->{status}, 405, "$m: 405");
    is(reason_of($r), 'method_not_allowed', '... method_not_allowed');
    is($r->{header}->('allow'), 'GET, HEAD, POST, DELETE', '... Allow');
}

is(admin('GET', '')->{json}{total}, 1, 'the refusals cleared nothing');

# the public admin location answers only what allow/deny let in
$r = admin('DELETE', "address=$A", from => '198.51.100.9');
is($r->{status}, 403, 'from another address (realip): 403 by deny all');

# the authenticated one needs a key with the scope
$r = admin('GET', '', uri => '/_admin/lockouts');
is($r->{status}, 401, 'authenticated admin without a key: 401');
$r = admin('GET', '', uri => '/_admin/lockouts', key => $good);
is($r->{status}, 403, '... with a key lacking the scope: 403');
is(reason_of($r), 'insufficient_scope', '... insufficient_scope');
$r = admin('GET', '', uri => '/_admin/lockouts', key => $ops);
is($r->{json}{total}, 1, '... with the scope: the list');

is(admin('GET', '')->{json}{total}, 1, 'still locked out');

# --- clearing one address, by the authenticated admin
$r = admin('DELETE', "address=$A", uri => '/_admin/lockouts', key => $ops);
is($r->{status}, 200, 'DELETE address=: 200');
is($r->{json}{cleared}, 1, '... cleared 1');
is($r->{json}{lockouts}[0]{address}, $A, '... naming the address');

($st, $seen) = both_workers('/', $A, $good);
is($seen, 2, 'after the clear both workers answered');
ok(!grep({ $_ != 200 } @$st), '... and both served the address')
    or diag("@$st");
is(admin('GET', '')->{json}{total}, 0, 'the list is empty');

# its count started afresh: three more failures are within the rate
get('/', $A, $bad) for 1 .. 3;
is(get('/', $A, $good)->{status}, 200,
   'a cleared address starts with a fresh failure count');

my @rec = records('lockout_cleared');
is(scalar @rec, 1, 'one lockout_cleared audit record');
my $c = $rec[0] // {};
is($c->{lockout_address}, $A, '... lockout_address');
is($c->{lockout_zone}, undef, '... lockout_zone null: every zone');
is($c->{lockouts_cleared}, 1, '... lockouts_cleared');
is($c->{user_id}, 'ops', '... who: the principal');
is($c->{auth_method}, 'api_key', '... auth_method');
is($c->{key_id}, $ops_id, '... key_id');
is($c->{client_ip}, '127.0.0.1', '... client_ip');
is($c->{severity}, 'high', '... severity high');
ok($c->{audit}, '... audit true');
is($c->{status}, 200, '... status');
is($c->{method}, 'DELETE', '... method');
is($c->{path}, '/_admin/lockouts', '... path without the query');
like($t->error_log, qr/\[notice\].*compliance: 1 lockout cleared for address \Q$A\E in every zone by client 127\.0\.0\.1, principal ops/,
     'an error.log notice of the clear');

# --- one zone only, then all
my $D = '198.51.100.4';
lock_out($D);
lock_out($D, '/other', 3);
is(admin('GET', "address=$D")->{json}{total}, 2, 'locked out in two zones');
$r = admin('POST', "address=$D&zone=other");
is($r->{json}{cleared}, 1, 'zone=other: cleared there only');
$r = admin('GET', "address=$D");
is($r->{json}{total}, 1, '... the other zone keeps it');
is($r->{json}{lockouts}[0]{zone}, 'failures', '... in zone failures');
is(get('/other', $D, $good)->{status}, 200,
   '... /other (its own zone) serves it');
is(get('/', $D, $good)->{status}, 429, '... / (zone failures) does not');

my $B = '198.51.100.2';
my $C = '198.51.100.3';
lock_out($B);
lock_out($C, '/other', 3);

# IPv6 addresses are kept as their /64
my $V6 = '2001:db8:1:2::5';
lock_out($V6);
$r = admin('GET', 'address=2001:db8:1:2::99');
is($r->{json}{lockouts}[0]{address}, '2001:db8:1:2::/64',
   'an IPv6 lockout is listed as its /64');

is(admin('GET', '')->{json}{total}, 4, 'four lockouts in two zones');

$r = admin('POST', 'all=yes', body => 'ignored');
is($r->{status}, 200, 'POST all=yes: 200');
is($r->{json}{cleared}, 4, '... cleared all four');
is(admin('GET', '')->{json}{total}, 0, '... none left');
is(get('/', $B, $good)->{status}, 200, '... each served again');
is(get('/other', $C, $good)->{status}, 200, '... in each zone');
is(get('/', '2001:db8:1:2::7', $good)->{status}, 200, '... the /64 too');

@rec = records('lockout_cleared');
is(scalar @rec, 3, 'a record for each clear');
is_deeply([ @{ $rec[1] // {} }{qw(lockout_address lockout_zone
                                  lockouts_cleared auth_method)} ],
          [ $D, 'other', 1, 'public' ], 'the zone clear: its record');
is_deeply([ @{ $rec[2] // {} }{qw(lockout_address lockout_zone
                                  lockouts_cleared user_id auth_method)} ],
          [ undef, undef, 4, undef, 'public' ],
          'the clear of all: address null, count 4, by a public caller');

# --- a reload keeps the lockouts; a clear works after it
my $E = '198.51.100.5';
lock_out($E);
is(get('/', $E, $good)->{status}, 429, 'locked out before the reload');

$t->reload;

isnt(join(',', sort $t->worker_pids), join(',', sort @workers),
     'new workers after the reload');
is(get('/', $E, $good)->{status}, 429, 'still locked out after it');
$r = admin('GET', '');
is($r->{json}{lockouts}[0]{address}, $E, '... and listed');
$r = admin('DELETE', "address=$E");
is($r->{json}{cleared}, 1, 'cleared after the reload');
($st, $seen) = both_workers('/', $E, $good);
ok(!grep({ $_ != 200 } @$st), '... served by the new workers')
    or diag("@$st");

# --- a zone shared with a limit without block=: its window blocks nothing
my $F = '198.51.100.6';
lock_out($F, '/report');
like($t->error_log, qr/client \Q$F\E exceeded 3 authentication failures per 60s in zone "failures"/,
     'a limit without block= reported the failures');
is(get('/', $F, $good)->{status}, 200, '... which lock nothing out');
is(admin('GET', "address=$F")->{json}{total}, 0, '... and are not listed');
get('/', $F, $bad);
is(get('/', $F, $good)->{status}, 429,
   'one more failure under block=, the bucket empty: locked out');
is(admin('GET', "address=$F")->{json}{total}, 1, '... listed');
is(admin('DELETE', "address=$F")->{json}{cleared}, 1, '... and cleared');

# --- the trail, unlock records included, verifies
$t->stop;

my $bin = audit_bin($t);
my ($rc, $out) = run_cmd("$bin/compliance-audit", 'verify', '--key', $chain,
                         $t->path('logs/audit.jsonl'));
is($rc, 0, 'compliance-audit verify: exit 0') or diag($out);
like($out, qr/^OK \d+ records/, '... OK') or diag($out);
is(scalar records('lockout_cleared'), 5, 'five lockout_cleared records');

# --- config-time refusals
my $head = <<'EOF';
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance_limit_zone z 1m;
EOF

my @bad = (
    [ 'compliance on; compliance_audit_log logs/a.jsonl; '
      . 'compliance_auth_failure_limit zone=z rate=1r/m block=1m;',
      'location /a { compliance off; compliance_lockout_admin; }',
      qr/"compliance_lockout_admin" in location "\/a" needs "compliance on"/,
      'compliance off' ],
    [ 'compliance_audit_log logs/a.jsonl; '
      . 'compliance_auth_failure_limit zone=z rate=1r/m block=1m;',
      'location /a { compliance_lockout_admin; }',
      qr/"compliance_lockout_admin" in location "\/a" needs "compliance on"/,
      'compliance never turned on' ],
    [ 'compliance on; compliance_audit_log logs/a.jsonl; '
      . 'compliance_auth_failure_limit zone=z rate=1r/m block=1m;',
      'location /a { compliance_public "ops"; compliance_lockout_admin; }',
      qr/"compliance_lockout_admin" in public location "\/a" needs "allow" and "deny" rules/,
      'public without allow/deny' ],
    [ 'compliance on; compliance_audit_log logs/a.jsonl;',
      'location /a { compliance_lockout_admin; }',
      qr/no "compliance_auth_failure_limit" is configured/,
      'no failure limit' ],
    [ 'compliance on; '
      . 'compliance_auth_failure_limit zone=z rate=1r/m block=1m;',
      'location /a { compliance_lockout_admin; }',
      qr/"compliance_lockout_admin" in location "\/a" needs "compliance_audit_log"/,
      'no audit trail' ],
    [ 'compliance on; compliance_audit_log logs/a.jsonl; '
      . 'compliance_auth_failure_limit zone=z rate=1r/m block=1m;',
      'location /a { compliance_lockout_admin; compliance_lockout_admin; }',
      qr/"compliance_lockout_admin" directive is duplicate/,
      'duplicate' ],
    [ 'compliance on; compliance_audit_log logs/a.jsonl; '
      . 'compliance_auth_failure_limit zone=z rate=1r/m block=1m;',
      'location /a { compliance_lockout_admin zone=z; }',
      qr/invalid number of arguments in "compliance_lockout_admin"/,
      'a parameter' ],
    [ 'compliance on; compliance_audit_log logs/a.jsonl; '
      . 'compliance_auth_failure_limit zone=z rate=1r/m block=1m;',
      'compliance_lockout_admin;',
      qr/"compliance_lockout_admin" directive is not allowed here/,
      'at server level' ],
);

for my $b (@bad) {
    my ($http, $server, $re, $name) = @$b;

    $t->config_refused(<<"EOF", $re, $name);
$head
    $http
    server {
        listen 127.0.0.1:%%PORT_5%%;
        $server
    }
}
EOF
}

# allow/deny may come from the server; an authenticated location needs none
$t->config_accepted(<<"EOF", 'public, allow/deny inherited from the server');
$head
    compliance on;
    compliance_audit_log logs/a.jsonl;
    compliance_auth_failure_limit zone=z rate=1r/m block=1m;
    server {
        listen 127.0.0.1:%%PORT_5%%;
        allow unix:;
        deny all;
        location /a { compliance_public "ops"; compliance_lockout_admin; }
    }
}
EOF

$t->config_accepted(<<"EOF", 'authenticated, no allow/deny');
$head
    compliance on;
    compliance_api_keys %%PREFIX%%/keys.txt;
    compliance_audit_log logs/a.jsonl;
    server {
        listen 127.0.0.1:%%PORT_5%%;
        location / {
            compliance_auth_failure_limit zone=z rate=1r/m block=1m;
        }
        location /a { compliance_lockout_admin; }
    }
}
EOF

$t->finish;
