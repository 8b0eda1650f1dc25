#!/usr/bin/perl
# compliance_status: with 2 workers and traffic running (allowed, public,
# refused for several reasons, rate limited, JWT cache hits and misses,
# a location under "compliance off"), scrapes of the Prometheus text
# always lie between the audit trail read before and after them; once
# traffic stops the counts equal what the trail holds, record for
# record (outcome, reason, records written); ?format=json has the same
# numbers; the limit zones' keys and bytes, a 10-day certificate's
# seconds left (the soonest of a name; a regex name escaped) and the
# posture gaps of the load are reported; a reload keeps the counts;
# records lost to a full disk are counted as the gap record reports
# them; the endpoint is enforced like any location (401, 403, 405, 400)
# and refused where "compliance" is off.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use POSIX ();
use Time::HiRes ();
use Test::Compliance;
use Test::ComplianceAuth qw(keygen make_secret oct_jwk jwks pyjwt bearer
    reason_of);

plan skip_all => 'Debian python3-jwt not available'
    unless Test::ComplianceAuth::python_ok();
plan skip_all => 'openssl CLI not available'
    unless Test::Compliance::openssl_available();

my $t = Test::Compliance->new;

my $keys = $t->path('keys.txt');
my $alice = keygen($keys, '--principal', 'alice');
my $bob = keygen($keys, '--principal', 'bob');
my $ops = keygen($keys, '--principal', 'ops', '--scopes', 'metrics');
my $bad = substr($alice, 0, -2) . (substr($alice, -2) eq 'AA' ? 'BA' : 'AA');

my $hs = make_secret($t, 'hs', 32);
$t->write_file('jwks.json', jwks(oct_jwk($hs->{bytes}, kid => 'hs-1')));

my $now = time;
my ($jwt, $jwt_bad) = pyjwt($t,
    { op => 'jwt', alg => 'HS256', key => $hs->{key}, kid => 'hs-1',
      claims => { sub => 'carol', iat => $now, exp => $now + 3000 } },
    { op => 'jwt', alg => 'HS256', key => $t->write_file('other.secret',
                                                         'x' x 32, 0600),
      kid => 'hs-1',
      claims => { sub => 'mallory', iat => $now, exp => $now + 3000 } });

my ($crt, $key) = $t->make_cert('tls', subj => '/CN=tls.test', days => 10);
$t->make_cert('later', subj => '/CN=later.test', days => 40);

$t->forbid_in_logs($alice, $bob, $ops, $jwt);

my $conf = <<'EOF';
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_api_keys %%PREFIX%%/keys.txt;
    compliance_audit_log %%PREFIX%%/logs/audit.jsonl;

    compliance_limit_zone api 1m;
    compliance_limit_zone open 1m;

    server {
        # reuseport: the kernel spreads new connections over both workers
        listen 127.0.0.1:%%PORT_0%% reuseport;
        server_name plain.test;

        add_header X-Worker $pid always;

        location / {
            return 200 "ok\n";
        }

        location /limited {
            compliance_limit zone=api rate=6r/h key=principal;
            return 200 "limited\n";
        }

        location /admin {
            compliance_require_scope admin;
            return 200 "admin\n";
        }

        location /jwt {
            compliance_jwt_keys %%PREFIX%%/jwks.json;
            compliance_jwt_algorithms HS256;
            return 200 "jwt\n";
        }

        location /public {
            compliance_public "health check";
            compliance_limit zone=open rate=100000r/s key=ip;
            return 200 "public\n";
        }

        location /off {
            compliance off;
            return 200 "off\n";
        }

        location = /metrics {
            compliance_require_scope metrics;
            compliance_status;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%% ssl;
        server_name tls.test;
        ssl_certificate %%PREFIX%%/tls.crt;
        ssl_certificate_key %%PREFIX%%/tls.key;

        location / {
            compliance_public "tls test";
            return 200 "tls\n";
        }
    }

    # the same name with a later certificate: the sooner one counts
    server {
        listen 127.0.0.1:%%PORT_3%% ssl;
        server_name tls.test;
        ssl_certificate %%PREFIX%%/later.crt;
        ssl_certificate_key %%PREFIX%%/later.key;
        location / { compliance_public "tls test"; }
    }

    # a name that needs escaping in a label: \ in text and in JSON
    server {
        listen 127.0.0.1:%%PORT_4%% ssl;
        server_name ~^api\d\.test$;
        ssl_certificate %%PREFIX%%/later.crt;
        ssl_certificate_key %%PREFIX%%/later.key;
        location / { compliance_public "tls test"; }
    }
}
EOF

$t->write_config($conf);
$t->run;

my @workers = $t->worker_pids;
is(scalar @workers, 2, 'two workers');

# --- reading both sides

sub scrape {
    my (%o) = @_;

    my $r = $t->http(uri => '/metrics' . ($o{query} // ''),
                     headers => [ [ 'X-API-Key', $o{key} // $ops ] ]);

    return $r;
}

# name => { label value ('' without a label) => number }, or undef with
# the first line that is not Prometheus text format 0.0.4
sub parse_text {
    my ($text) = @_;

    my (%m, %typed);

    for my $line (split /\n/, $text) {
        if ($line =~ /^# (HELP|TYPE) (\w+) (.+)$/) {
            $typed{$2}{$1} = $3;
            next;
        }

        if ($line =~ /^(\w+)(?:\{(\w+)="((?:[^"\\]|\\.)*)"\})? (-?\d+)$/) {
            return (undef, "sample before its TYPE: $line")
                unless $typed{$1}{TYPE} && $typed{$1}{HELP};
            my ($name, $value, $n) = ($1, $3 // '', $4);
            $value =~ s/\\(.)/$1 eq 'n' ? "\n" : $1/ge;
            $m{$name}{$value} = $n;
            next;
        }

        return (undef, "not a metric line: $line");
    }

    return (\%m, \%typed);
}

# the metrics the whole records of the trail say, as parse_text names
# them; without the records of @skip (request ids)
sub from_trail {
    my (%skip) = map { $_ => 1 } @_;

    my $log = $t->read_file('logs/audit.jsonl') // '';
    $log =~ s/[^\n]*\z//;                       # a line being written

    my @recs = map { decode_json($_) } split /\n/, $log;
    @recs = grep { !$skip{ $_->{request_id} // '' } } @recs;

    my %m = (
        compliance_requests_total => { allowed => 0, denied => 0,
                                       public => 0 },
        compliance_refusals_total => {},
        compliance_audit_records_total => { '' => scalar @recs },
        compliance_audit_lost_records_total => { '' => 0 },
    );

    for my $r (@recs) {
        my $e = $r->{event};

        if ($e eq 'request') {
            $m{compliance_requests_total}{
                $r->{auth_method} eq 'public' ? 'public' : 'allowed' }++;

        } elsif ($e =~ /^(?:auth_failure|rate_limited|forbidden)$/) {
            $m{compliance_requests_total}{denied}++;
            $m{compliance_refusals_total}{ $r->{reason} }++;
        }
    }

    return \%m;
}

# the refusal counters, without the reasons that never happened
sub refusals {
    my ($m) = @_;

    my $r = $m->{compliance_refusals_total} // {};

    return { map { $_ => $r->{$_} } grep { $r->{$_} } keys %$r };
}

sub counts {
    my ($m) = @_;

    return {
        requests => $m->{compliance_requests_total},
        refusals => refusals($m),
        records => $m->{compliance_audit_records_total}{''},
        lost => $m->{compliance_audit_lost_records_total}{''},
    };
}

# the scrape's own record, once written
sub wait_record {
    my ($id) = @_;

    return $t->wait_for(sub {
        ($t->read_file('logs/audit.jsonl') // '') =~ /"request_id":"\Q$id\E"/
    }, timeout => 5);
}

# --- the endpoint is enforced like any location

my $r = $t->http(uri => '/metrics');
is($r->{status}, 401, 'no credentials: 401');
is(reason_of($r), 'missing_credentials', '... missing_credentials');

$r = scrape(key => $alice);
is($r->{status}, 403, 'a key without the scope: 403');
is(reason_of($r), 'insufficient_scope', '... insufficient_scope');

$r = $t->http(method => 'POST', uri => '/metrics', body => 'x',
              headers => [ [ 'X-API-Key', $ops ] ]);
is($r->{status}, 405, 'POST: 405');

$r = $t->http(method => 'HEAD', uri => '/metrics',
              headers => [ [ 'X-API-Key', $ops ] ]);
is($r->{status}, 200, 'HEAD: 200');
ok($r->{header}->('content-length') > 0 && ($r->{body} // '') eq '',
   '... the length of the counters, no body');

$r = scrape(query => '?format=xml');
is($r->{status}, 400, 'an unknown format: 400');

$r = scrape();
is($r->{status}, 200, 'scrape with the scope: 200');
is($r->{header}->('content-type'),
   'text/plain; version=0.0.4; charset=utf-8', '... Prometheus text 0.0.4');
is($r->{header}->('cache-control'), 'no-store', '... not to be cached');

my ($m, $typed) = parse_text($r->{body});
ok($m, 'every line is a HELP, a TYPE or a sample') or diag($typed);

for my $name (qw(compliance_requests_total compliance_refusals_total
    compliance_audit_records_total compliance_audit_lost_records_total
    compliance_jwt_cache_total compliance_jwks_fetch_total))
{
    is($typed->{$name}{TYPE}, 'counter', "$name is a counter");
}

for my $name (qw(compliance_limit_zone_keys compliance_limit_zone_used_bytes
    compliance_certificate_expiry_seconds compliance_posture_gaps))
{
    is($typed->{$name}{TYPE}, 'gauge', "$name is a gauge");
}

is_deeply([ sort keys %{ $m->{compliance_requests_total} } ],
          [ qw(allowed denied public) ], 'outcomes: allowed denied public');
ok(exists $m->{compliance_refusals_total}{$_}, "reason $_ listed")
    for qw(missing_credentials insufficient_scope rate_limited locked_out
           token_revoked validation_failed other);
is_deeply([ sort keys %{ $m->{compliance_jwt_cache_total} } ],
          [ qw(hit miss) ], 'token cache: hit miss');
is_deeply($m->{compliance_jwks_fetch_total}, { ok => 0, error => 0 },
          'no key set fetched: 0 until compliance_jwt_keys_request');

# the certificate made for 10 days
my $left = $m->{compliance_certificate_expiry_seconds}{'tls.test'};
ok(defined $left && $left > 10 * 86400 - 600 && $left <= 10 * 86400,
   'tls.test: the seconds left of its 10-day certificate')
    or diag(explain $m->{compliance_certificate_expiry_seconds});
ok(!exists $m->{compliance_certificate_expiry_seconds}{'plain.test'},
   '... a server without TLS has none');
like($r->{body},
     qr/^compliance_certificate_expiry_seconds\{server="~\^api\\\\d\\\\\.test\$"\} \d+$/m,
     'a regex server name: its backslashes escaped in the label');
$left = $m->{compliance_certificate_expiry_seconds}{'~^api\d\.test$'};
ok(defined $left && $left > 40 * 86400 - 600 && $left <= 40 * 86400,
   '... with the seconds left of its 40-day certificate')
    or diag(explain $m->{compliance_certificate_expiry_seconds});

# the posture line of this load
my ($gaps) = ($t->error_log =~ /.*compliance posture: \d+ checks, (\d+) gaps/s);
ok(defined $gaps && $gaps > 0, 'the load reported posture gaps');
is($m->{compliance_posture_gaps}{''}, $gaps, '... the same number here');

# --- traffic from another process while the parent scrapes

my @mix = (
    [ '/', $alice ],                    # allowed
    [ '/', undef ],                     # missing_credentials
    [ '/', $bad ],                      # unknown_api_key
    [ '/admin', $alice ],               # insufficient_scope
    [ '/limited', $bob ],               # allowed, then rate_limited
    [ '/public', undef ],               # public
    [ '/off', undef ],                  # allowed (not enforced)
    [ '/jwt', "Bearer $jwt" ],          # cache miss, then hits
    [ '/jwt', "Bearer $jwt_bad" ],      # bad_signature: a miss
    [ '/?access_token=x', undef ],      # credential_in_url
);

my $ROUNDS = 30;

sub traffic {
    for my $round (1 .. $ROUNDS) {
        for my $q (@mix) {
            my ($uri, $cred) = @$q;
            my @h;

            if (defined $cred) {
                push @h, $cred =~ /^Bearer /
                         ? [ 'Authorization', $cred ]
                         : [ 'X-API-Key', $cred ];
            }

            $t->http(uri => $uri, headers => \@h);
        }

        # long enough for several scrapes
        Time::HiRes::sleep(0.03);
    }
}

my $pid = fork;
die "fork: $!" unless defined $pid;

if ($pid == 0) {
    traffic();
    POSIX::_exit(0);                    # not the harness's END block
}

my ($scrapes, $inside, $monotonic, $status) = (0, 0, 1, undef);
my %prev;

while (1) {
    if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
        $status = $?;
        last;
    }

    my $before = counts(from_trail());
    my $s = scrape();
    my $after = counts(from_trail());

    last unless $s && $s->{status} && $s->{status} == 200;

    my $got = counts((parse_text($s->{body}))[0]);

    $scrapes++;

    my $ok = 1;

    for my $k (qw(allowed denied public)) {
        $ok &&= $before->{requests}{$k} <= $got->{requests}{$k}
                && $got->{requests}{$k} <= $after->{requests}{$k};
        $monotonic &&= ($prev{$k} // 0) <= $got->{requests}{$k};
        $prev{$k} = $got->{requests}{$k};
    }

    $ok &&= $before->{records} <= $got->{records}
            && $got->{records} <= $after->{records};

    $inside++ if $ok;

    diag(explain { before => $before, scrape => $got, after => $after })
        unless $ok;

    Time::HiRes::sleep(0.05);
}

if (!defined $status) {
    waitpid($pid, 0);
    $status = $?;
}

is($status, 0, 'the traffic ran');

ok($scrapes >= 3, "scraped during the traffic ($scrapes times)");
is($inside, $scrapes, '... each scrape between the trail before and after');
ok($monotonic, '... and the counters only grew');

# --- once traffic stops: exactly what the trail says

sub exact {
    my ($what) = @_;

    my $s = scrape();
    my $id = $s->{header}->('x-request-id');

    ok(wait_record($id), "$what: the scrape's own record is written");

    my $got = counts((parse_text($s->{body}))[0]);
    my $want = counts(from_trail($id));

    is_deeply($got, $want, "$what: the counts are the trail's, exactly")
        or diag(explain { got => $got, want => $want });

    return ($s, $got);
}

my ($s, $got) = exact('after the traffic');

my $want_refusals = {
    missing_credentials => $ROUNDS + 1,   # and the first 401 above
    unknown_api_key => $ROUNDS,
    insufficient_scope => $ROUNDS + 1,    # and the scrape with alice's key
    rate_limited => $ROUNDS - 6,          # bob's 6 an hour, then 429s
    bad_signature => $ROUNDS,
    credential_in_url => $ROUNDS,
};

is_deeply($got->{refusals}, $want_refusals, '... by reason, as sent')
    or diag(explain $got->{refusals});
is($got->{requests}{public}, $ROUNDS, '... public: /public');
is($got->{lost}, 0, '... no record lost');

($m) = parse_text($s->{body});

my $cache = $m->{compliance_jwt_cache_total};
is($cache->{hit} + $cache->{miss}, 2 * $ROUNDS,
   'token cache: one lookup per token');
ok($cache->{miss} >= $ROUNDS + 1 && $cache->{miss} <= $ROUNDS + 2,
   '... a bad signature is never cached; the good token missed once a worker')
    or diag(explain $cache);

is_deeply($m->{compliance_limit_zone_keys}, { api => 1, open => 1 },
          'limit zones: one key each (bob; 127.0.0.1)');

for my $z (qw(api open)) {
    my $used = $m->{compliance_limit_zone_used_bytes}{$z} // 0;
    ok($used > 0 && $used % 4096 == 0 && $used < 1024 * 1024,
       "zone $z: bytes in use, whole pages") or diag($used);
}

# --- JSON: the same numbers

$s = scrape();
ok(wait_record($s->{header}->('x-request-id')), 'text scrape recorded');
my ($text) = parse_text($s->{body});

my $j = scrape(query => '?format=json');
is($j->{header}->('content-type'), 'application/json', 'format=json: JSON');
my $json = eval { decode_json($j->{body}) };
ok($json, '... that parses') or diag($j->{body});
like($j->{body}, qr/\}\n\z/, '... whole, to its last byte');
diag($j->{body}) if $ENV{STATUS_SHOW};
diag($s->{body}) if $ENV{STATUS_SHOW};

# the text scrape itself came between: one more allowed request, record
$text->{compliance_requests_total}{allowed}++;
$text->{compliance_audit_records_total}{''}++;

my %flat;

for my $name (keys %$json) {
    $flat{$name} = ref $json->{$name} ? $json->{$name}
                                      : { '' => $json->{$name} };
}

is_deeply(\%flat, $text, '... every metric and label of the text, equal')
    or diag(explain { json => \%flat, text => $text });

# --- a reload keeps the counts

my $before = counts((parse_text(scrape()->{body}))[0]);

$t->reload;
ok($t->wait_for(sub {
       my @w = $t->worker_pids;
       @w == 2 && !grep { my $o = $_; grep { $_ == $o } @workers } @w
   }, timeout => 10), 'reloaded: two new workers');

$t->http(uri => '/', headers => [ [ 'X-API-Key', $alice ] ]) for 1 .. 5;

($s, $got) = exact('after a reload');
ok($got->{requests}{allowed} >= $before->{requests}{allowed} + 5,
   '... the counts went on from before the reload');

# --- records lost to a full disk, and the gap record that reports them

sub reload_to {
    my ($audit) = @_;

    my @old = $t->worker_pids;
    (my $c = $conf) =~ s{%%PREFIX%%/logs/audit\.jsonl}{$audit};
    $t->write_config($c);
    $t->reload;

    return $t->wait_for(sub {
        my @w = $t->worker_pids;
        @w == 2 && !grep { my $o = $_; grep { $_ == $o } @old } @w
    }, timeout => 10);
}

SKIP: {
    skip '/dev/full not available', 9 unless -c '/dev/full';

    my $base = counts((parse_text(scrape()->{body}))[0]);

    ok(reload_to('/dev/full'), 'reloaded onto /dev/full');

    $t->http(uri => '/', headers => [ [ 'X-API-Key', $alice ] ]) for 1 .. 5;

    # the five records are lost once their LOG phase ran
    my $lost;
    $t->wait_for(sub {
        $lost = counts((parse_text(scrape()->{body}))[0]);
        $lost->{lost} >= 5
    }, timeout => 5);

    is($lost->{records}, $base->{records} + 1,
       '... nothing written since (but the scrape before the reload)');
    ok($lost->{lost} >= 5, '... the lost records counted');

    ok(reload_to('%%PREFIX%%/logs/audit.jsonl'), 'reloaded back');

    my $r = $t->http(uri => '/back', headers => [ [ 'X-API-Key', $alice ] ]);
    ok($t->wait_for(sub {
           ($t->read_file('logs/audit.jsonl') // '') =~ m{"path":"/back"}
       }, timeout => 5), '... a record written again');

    my ($gap) = grep { $_->{event} eq 'gap' }
                map { decode_json($_) }
                split /\n/, $t->read_file('logs/audit.jsonl');

    my $last = scrape();
    my $id = $last->{header}->('x-request-id');
    my $now = counts((parse_text($last->{body}))[0]);

    ok($gap, '... after a gap record');
    is($now->{lost}, $gap->{lost_records},
       'compliance_audit_lost_records_total = the gap record\'s lost_records');
    ok(wait_record($id), "... the scrape's own record written");
    is($now->{records}, counts(from_trail($id))->{records},
       '... and records written = the lines of the trail, gap included');
}

# --- compliance_status where the module does not check the caller

$t->config_refusals([
    [ 'compliance_status;',
      qr/"compliance_status" in location "\/" needs "compliance on": who may read the counters is checked by the module in \S+:\d+$/m ],
], at => 'location');

my $public = 'compliance_public "scraped from the monitoring network"; '
             . 'allow 127.0.0.1; deny all;';

$t->config_refusals([
    [ "$public compliance_status; compliance_status;",
      qr/"compliance_status" directive is duplicate/ ],
], at => 'location', http => 'compliance on;');

$t->config_accepted(<<"EOF", 'an explicit compliance_public status location');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance on;
    server {
        listen 127.0.0.1:%%PORT_2%%;
        location = /metrics { $public compliance_status; }
    }
}
EOF

$t->finish;
