#!/usr/bin/perl
# compliance_auth_failure_limit: authentication failures counted per
# client address; past the rate one alert (error.log warning and one
# audit "alert" event) per window; with block= every request from the
# address, public ones included, gets 429 locked_out with Retry-After
# until the block ends; other addresses, requests without a credential
# and good credentials are not counted; config-time refusals.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use Test::Compliance;
use Test::ComplianceAuth qw(keygen reason_of);

my $t = Test::Compliance->new;

my $file = $t->path('keys.txt');
my $good = keygen($file, '--principal', 'alice');
my $bad = substr($good, 0, -2) . (substr($good, -2) eq 'AA' ? 'BA' : 'AA');

# the audit writer may not exist yet: only then is its assertion skipped
my ($audit) = $t->test_config_text(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    compliance_audit_log %%PREFIX%%/logs/audit.jsonl;
}
EOF
my $audit_line = $audit ? 'compliance_audit_log %%PREFIX%%/logs/audit.jsonl;'
                        : '';

$t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_api_keys %%PREFIX%%/keys.txt;
    $audit_line

    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;

    compliance_limit_zone failures 1m;
    compliance_auth_failure_limit zone=failures rate=10r/m block=5m;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location / {
            return 200 "ok\\n";
        }

        location /health {
            compliance_public "probe";
            return 200 "up\\n";
        }

        location /report {
            compliance_auth_failure_limit zone=reports rate=3r/m;
            return 200 "report\\n";
        }

        location /short {
            compliance_auth_failure_limit zone=short rate=2r/m block=2s;
            return 200 "short\\n";
        }
    }

    compliance_limit_zone reports 1m;
    compliance_limit_zone short 1m;
}
EOF

$t->run;

sub get {
    my ($uri, $addr, $key) = @_;

    my @h = ([ 'X-Forwarded-For', $addr ]);
    push @h, [ 'X-API-Key', $key ] if defined $key;

    return $t->http(uri => $uri, headers => \@h);
}

sub warnings_for {
    my ($addr, $off) = @_;

    my @l = grep { /\[warn\].*client \Q$addr\E exceeded/ }
            split /\n/, $t->error_log($off // 0);

    return scalar @l;
}

# --- brute force: ten failures within the rate, the 11th trips it
my $A = '198.51.100.1';
my $B = '198.51.100.2';

my @r = map { get('/', $A, $bad) } 1 .. 10;
is_deeply([ map { $_->{status} } @r ], [ (401) x 10 ],
          'ten failures: 401 each');
is(reason_of($r[9]), 'unknown_api_key', '... with their own reason');
is(warnings_for($A), 0, 'no warning within the rate');
is(get('/', $A, $good)->{status}, 200,
   'within the rate a good key still works');

my $r = get('/', $A, $bad);
is($r->{status}, 401, 'the 11th failure is answered as a failure');
is(warnings_for($A), 1, '... and logs one warning');
like($t->error_log, qr/\[warn\].*client \Q$A\E exceeded 10 authentication failures per 60s, locked out for 300s by zone "failures"/,
     'warning names address, rate, block and zone');

$r = get('/', $A, $good);
is($r->{status}, 429, 'locked out: even a good key is refused');
is(reason_of($r), 'locked_out', '... reason locked_out');
is($r->{header}->('content-type'), 'application/problem+json',
   '... problem+json');
my $ra = $r->{header}->('retry-after') // '';
ok($ra =~ /^\d+$/ && $ra >= 299 && $ra <= 300,
   'Retry-After: the seconds left of the 5 minute block')
    or diag("Retry-After: $ra");
is($r->{header}->('ratelimit'), undef, 'no RateLimit header on a lockout');

is(get('/health', $A)->{status}, 429,
   'locked out on a public location too');
is(reason_of(get('/health', $A)), 'locked_out', '... locked_out');
is(get('/', $A, $bad)->{status}, 429, 'further failures: 429');
is(warnings_for($A), 1, 'one warning per block window');

# --- other addresses are unaffected
is(get('/', $B, $good)->{status}, 200, 'another address: served');
is(get('/', $B, $bad)->{status}, 401, 'another address: its own count');
is(get('/health', $B)->{status}, 200, 'another address: public served');

# requests without a credential and good credentials are not failures
my $C = '198.51.100.3';
@r = map { get('/', $C) } 1 .. 15;
is_deeply([ map { $_->{status} } @r ], [ (401) x 15 ],
          'no credential: 401, never a lockout');
is(reason_of($r[14]), 'missing_credentials', '... missing_credentials');
@r = map { get('/', $C, $good) } 1 .. 15;
is_deeply([ map { $_->{status} } @r ], [ (200) x 15 ],
          'good credentials are never counted');

# --- without block=: reported once per period, nothing refused
my $D = '198.51.100.4';
@r = map { get('/report', $D, $bad) } 1 .. 6;
is_deeply([ map { $_->{status} } @r ], [ (401) x 6 ],
          'no block: failures stay 401');
is(warnings_for($D), 1, 'no block: one warning per period');
like($t->error_log, qr/client \Q$D\E exceeded 3 authentication failures per 60s in zone "reports"/,
     'no block: warning text');
is(get('/report', $D, $good)->{status}, 200, 'no block: not locked out');

# --- a short block ends; the next failure opens a new window
my $E = '198.51.100.5';
@r = map { get('/short', $E, $bad) } 1 .. 3;
is_deeply([ map { $_->{status} } @r ], [ 401, 401, 401 ],
          'short block: three failures');
$r = get('/short', $E, $good);
is($r->{status}, 429, 'short block: locked out');
ok(($r->{header}->('retry-after') // 0) <= 2, 'short block: Retry-After <= 2');
sleep(2.2);
is(get('/short', $E, $good)->{status}, 200, 'served once the block ended');
is(get('/short', $E, $bad)->{status}, 401,
   'a failure right after: the bucket is still empty');
is(get('/short', $E, $good)->{status}, 429, '... a new block');
is(warnings_for($E), 2, '... and a new alert for the new window');

# --- the audit trail: exactly one alert event for the first address
SKIP: {
    skip 'compliance_audit_log is not supported yet', 2 unless $audit;

    my $alerts = sub {
        my $log = $t->read_file('logs/audit.jsonl') // '';
        return scalar grep { /"event":"alert"/ && /"\Q$A\E"/ }
                      split /\n/, $log;
    };

    $t->wait_for(sub { $alerts->() >= 1 }, timeout => 5);
    is($alerts->(), 1, 'exactly one audit alert event for the lockout');

    my ($line) = grep { /"event":"alert"/ && /"\Q$A\E"/ }
                 split /\n/, $t->read_file('logs/audit.jsonl') // '';
    like($line // '', qr/"severity":"critical".*"reason":"locked_out"/,
         '... severity critical, reason locked_out');
}

# --- config-time refusals
my @bad = (
    [ 'compliance_auth_failure_limit zone=nosuch rate=10r/m;',
      qr/unknown zone "nosuch" in "compliance_auth_failure_limit", no "compliance_limit_zone nosuch ..." is declared in \S+:\d+/ ],
    [ 'compliance_auth_failure_limit zone=z rate=10r/m block=soon;',
      qr/invalid block time "block=soon" in "compliance_auth_failure_limit"/ ],
    [ 'compliance_auth_failure_limit zone=z rate=10r/m block=0;',
      qr/invalid block time "block=0" in "compliance_auth_failure_limit"/ ],
    [ 'compliance_auth_failure_limit zone=z rate=ten block=1m;',
      qr/invalid rate "rate=ten" in "compliance_auth_failure_limit"/ ],
    [ 'compliance_auth_failure_limit zone=z rate=10r/m burst=3;',
      qr/invalid parameter "burst=3" in "compliance_auth_failure_limit"/ ],
    [ 'compliance_auth_failure_limit zone=z block=1m;',
      qr/"compliance_auth_failure_limit" must have "zone=" and "rate="/ ],
    [ 'compliance_auth_failure_limit zone=z rate=1r/s; '
      . 'compliance_auth_failure_limit zone=z rate=2r/s;',
      qr/"compliance_auth_failure_limit" directive is duplicate/ ],
);

$t->config_refusals(\@bad, at => 'location',
    http => 'compliance_limit_zone z 1m;', server => 'compliance on;');

$t->finish;
