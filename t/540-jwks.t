#!/usr/bin/perl
# compliance_jwt_keys_request (SPEC 14): key sets of an identity provider
# (t/helpers/idp-jwks.py, HTTPS and HTTP, counting its requests) fetched
# through an internal location, in shared memory for both workers and
# across reloads, in cache= across restarts.  Rotation (a new kid is
# accepted on its first try, an old one until it leaves the set); the
# provider answering 500, slowly, with garbage, with 10,000 keys, with a
# key whose alg does not fit its type; a flood of unknown kids fetches at
# most once per min_refresh; two workers fetch once; stale-on-failure,
# background refresh, 503 keys_unavailable, one alert record per outage.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use Test::Compliance;
use Test::ComplianceAuth qw(make_keys pyjwt jwks reason_of bearer);
use Test::ComplianceBackend qw(start_backend);

plan skip_all => 'Debian python3-jwt not available'
    unless Test::ComplianceAuth::python_ok();
plan skip_all => 'openssl CLI not available'
    unless Test::Compliance::openssl_available();

my $t = Test::Compliance->new;

# start_idp($port, $jwks_file [, $crt, $key]): the stand-in, listening
sub start_idp {
    my ($port, @args) = @_;

    start_backend($t, $port, script => 'idp-jwks.py', args => \@args);
}

my (%idp_tls);

sub control {
    my ($port, $what) = @_;

    my %r = (port => $port, uri => "/control/$what");
    my $res = $idp_tls{$port} ? $t->https(%r) : $t->http(%r);

    die "IdP control $what: no answer\n" unless $res && $res->{status};

    return $res->{body} =~ /(\d+)/ ? $1 : $res->{body};
}

sub count { control($_[0], 'count') }

my $k = make_keys($t, rsa1 => 'rsa', rsa2 => 'rsa', ec => 'ec256',
    enc => 'rsa');
my $now = time;
my %claims = (iss => 'https://idp.example', aud => 'api', exp => $now + 900,
    iat => $now);

my @ops = (
    { op => 'jwk', pub => $k->{rsa1}{pub}, kid => 'k1', alg => 'RS256',
      use => 'sig' },
    { op => 'jwk', pub => $k->{rsa2}{pub}, kid => 'k2' },
    { op => 'jwk', pub => $k->{ec}{pub}, kid => 'e1', alg => 'ES256' },
    { op => 'jwk', pub => $k->{enc}{pub}, kid => 'enc1', use => 'enc' },
);

my @names;

sub mint {
    my ($name, %o) = @_;

    push @names, $name;
    push @ops, { op => 'jwt', alg => $o{alg} // 'RS256',
                 key => $o{key} // $k->{rsa1}{key}, kid => $o{kid},
                 claims => { %claims, sub => $o{sub} // $name } };
}

mint('k1', kid => 'k1');
mint('k2', kid => 'k2', key => $k->{rsa2}{key});
mint('e1', kid => 'e1', alg => 'ES256', key => $k->{ec}{key});
mint("rand$_", kid => "random-$_-" . int(rand(1e9))) for 1 .. 40;

my @res = pyjwt($t, @ops);
my @jwk = map { decode_json($_) } splice @res, 0, 4;
my %tok;
@tok{@names} = @res;

# the encryption key is published with an alg this module does not know
$jwk[3]{alg} = 'RSA-OAEP';

$t->write_file('a.jwks', jwks($jwk[0], $jwk[3]));
$t->write_file('b.jwks', jwks($jwk[0]));
$t->write_file('d.jwks', jwks($jwk[0]));

my ($crt, $key) = $t->make_cert('idp', addext => 'subjectAltName=DNS:localhost');

my ($pa, $pb, $pd) = ($t->port(1), $t->port(2), $t->port(3));

$idp_tls{$pa} = 1;
start_idp($pa, $t->path('a.jwks'), $crt, $key);
start_idp($pb, $t->path('b.jwks'));
start_idp($pd, $t->path('d.jwks'));

# d starts slow, so that the requests of both workers wait on one fetch
control($pd, 'mode?m=slow:1');
control($pb, 'mode?m=fail');

my $conf = <<'EOF';
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_audit_log %%PREFIX%%/logs/audit.log;
    compliance_jwt_issuer https://idp.example;
    compliance_jwt_audience api;
    proxy_cache_path %%PREFIX%%/idp-cache keys_zone=idp:1m;

    server {
        listen 127.0.0.1:%%PORT_0%% reuseport;
        listen 127.0.0.1:%%PORT_4%% ssl http2;
        ssl_certificate %%PREFIX%%/idp.crt;
        ssl_certificate_key %%PREFIX%%/idp.key;

        add_header X-Worker $pid always;

        location = /_jwks_a {
            internal;
            proxy_pass https://127.0.0.1:%%PORT_1%%/jwks.json;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%PREFIX%%/idp.crt;
            proxy_ssl_name localhost;
        }

        location = /_jwks_b {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_2%%/jwks.json;
        }

        location = /_jwks_d {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_3%%/jwks.json;
            proxy_read_timeout 5s;
        }

        location /a {
            compliance_jwt_keys_request /_jwks_a min_refresh=2s
                cache=%%PREFIX%%/cache/a.cache;
            return 200 "$compliance_principal $compliance_key_id\n";
        }

        location /b {
            compliance_jwt_keys_request /_jwks_b refresh=2s min_refresh=1s
                stale=4s timeout=1s;
            return 200 "$compliance_principal\n";
        }

        location /d {
            compliance_jwt_keys_request /_jwks_d timeout=4s;
            return 200 "$compliance_principal\n";
        }

        # more sources on d's provider, for requests that wait
        location = /_jwks_e {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_3%%/jwks.json;
        }

        location = /_jwks_f {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_3%%/jwks.json;
        }

        location = /_jwks_g {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_3%%/jwks.json;
        }

        location /e {
            compliance_jwt_keys_request /_jwks_e timeout=4s;
            return 200 "$compliance_principal\n";
        }

        location /f {
            compliance_jwt_keys_request /_jwks_f timeout=4s;
            return 200 "$compliance_principal\n";
        }

        location /g {
            compliance_jwt_keys_request /_jwks_g timeout=4s;
            return 200 "$compliance_principal\n";
        }

        # nginx's proxy cache in front of the provider: the set comes
        # from the cache file
        location = /_jwks_h {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_3%%/jwks.json;
            proxy_cache idp;
            proxy_cache_valid 200 1h;
        }

        location /h {
            compliance_jwt_keys_request /_jwks_h min_refresh=1s;
            return 200 "$compliance_principal\n";
        }

        location = /_jwks_i {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_3%%/jwks.json;
        }

        location /i {
            compliance_jwt_keys_request /_jwks_i min_refresh=1s timeout=1s;
            return 200 "$compliance_principal\n";
        }

        # the same source as /a: one set, one fetch flag
        location /a-too {
            compliance_jwt_keys_request /_jwks_a min_refresh=2s
                cache=%%PREFIX%%/cache/a.cache;
            compliance_jwt_algorithms ES256;
            return 200 "$compliance_principal\n";
        }

        location = /_status {
            compliance_public "the test's scraper";
            compliance_status;
        }
    }
}
EOF

# workers (unprivileged when the tests run as root) write the cache file
mkdir $t->path('cache');
chmod 0777, $t->path('cache');

# a link where the cache file is written aside: removed, never followed
{
    open my $v, '>', $t->path('victim') or die "victim: $!";
    print $v "untouched\n";
    close $v;
    chmod 0666, $t->path('victim');
    symlink($t->path('victim'), $t->path('cache/a.cache.tmp'))
        or die "symlink: $!";
}

$t->write_config($conf);
$t->run;

sub get {
    my ($uri, $tok) = @_;

    return $t->http(uri => $uri, headers => bearer($tok), timeout => 10);
}

# all the requests sent before any answer is read: they are in flight
# together, on both workers
sub parallel {
    my (@reqs) = @_;

    my @c;

    for my $q (@reqs) {
        my $c = Test::Compliance::_connect($t, { timeout => 15 })
            or die "connect: $@\n";
        Test::Compliance::_send($c, Test::Compliance::_build_request({
            uri => $q->[0], headers => bearer($q->[1]) }, 0));
        push @c, $c;
    }

    my @out;

    for my $c (@c) {
        push @out, Test::Compliance::_read_response($c, 'GET');
        close $c->{sock};
    }

    return @out;
}

###########################################################################
# two workers, one fetch: every request waits on the same flight

my @r = parallel(map { [ '/d', $tok{k1} ] } 1 .. 16);
is(scalar(grep { $_->{status} == 200 } @r), 16,
    'd: 16 parallel requests during the first fetch: all 200');
my %pids = map { ($_->{header}->('x-worker') // '') => 1 } @r;
is(scalar(keys %pids), 2, 'd: both workers answered') or diag(join ' ', keys %pids);
is(count($pd), 1, 'd: the provider was asked once, not once per worker');

###########################################################################
# rotation over HTTPS, with an encryption key beside the signing keys

my $res = get('/a', $tok{k1});
is($res->{status}, 200, 'a: k1 accepted (first request waited for the set)');
like($res->{body}, qr/^k1 k1$/, 'a: principal and key id');
is(count($pa), 1, 'a: one fetch');
like($t->error_log, qr/key set "\/_jwks_a" fetched: 1 signing keys/,
    'a: the enc key is skipped, the sig key loaded');

$t->write_file('a.jwks', jwks($jwk[0], $jwk[1], $jwk[3]));
sleep 2.1;

$res = get('/a', $tok{k2});
is($res->{status}, 200, 'a: rotated key k2 accepted on its first try');
is(count($pa), 2, 'a: the unknown kid fetched once');
is(get('/a', $tok{k1})->{status}, 200, 'a: k1 still accepted (still in the set)');
is(get('/a', $tok{k2})->{status}, 200, 'a: k2 again, from the set');
is(count($pa), 2, 'a: known kids fetch nothing');

# k1 leaves the set: accepted until a refresh shows it
$t->write_file('a.jwks', jwks($jwk[1], $jwk[2]));
is(get('/a', $tok{k1})->{status}, 200, 'a: k1 accepted until the set is refetched');
sleep 2.1;
$res = get('/a', $tok{e1});
is(get('/a-too', $tok{e1})->{status}, 200, 'a-too: shares the set, ES256 only');
is($res->{status}, 200, 'a: new kid e1 accepted');
is(count($pa), 3, 'a: one more fetch');
$res = get('/a', $tok{k1});
is($res->{status}, 401, 'a: k1 refused once it left the set');
is(reason_of($res), 'unknown_key', 'a: reason unknown_key');
is(get('/a-too', $tok{k2})->{status}, 401, 'a-too: RS256 not allowed there');

###########################################################################
# a flood of unknown kids: at most one fetch per min_refresh

sleep 2.1;
control($pa, 'reset');
my $t0 = time;
my @flood = parallel(map { [ '/a', $tok{"rand$_"} ] } 1 .. 20);
push @flood, get('/a', $tok{"rand$_"}) for 21 .. 40;
my $spent = time - $t0;
is(scalar(grep { $_->{status} == 401 && reason_of($_) eq 'unknown_key' }
    @flood), 40, '40 random kids: all 401 unknown_key');
my $max = 1 + int($spent / 2);
cmp_ok(count($pa), '<=', $max,
    sprintf('flood: %d fetches in %.1f s (at most %d)', count($pa), $spent,
        $max));
cmp_ok(count($pa), '>=', 1, 'flood: the first unknown kid did fetch');

###########################################################################
# no set yet, and the provider fails in every way: 503, then recovery

$res = get('/b', $tok{k1});
is($res->{status}, 503, 'b: provider answers 500: 503');
is(reason_of($res), 'keys_unavailable', 'b: reason keys_unavailable');
like($t->error_log, qr/fetching the key set "\/_jwks_b" failed: status 500/,
    'b: the failure is logged');

# the fetches are counted for compliance_status (docs/metrics.md)
{
    my $m = $t->http(uri => '/_status')->{body} // '';
    my ($ok) = $m =~ /^compliance_jwks_fetch_total\{result="ok"\} (\d+)$/m;
    my ($err) = $m =~ /^compliance_jwks_fetch_total\{result="error"\} (\d+)$/m;
    cmp_ok($ok // 0, '>=', 2, 'status: the good fetches counted');
    cmp_ok($err // 0, '>=', 1, 'status: the failed fetch counted');
}

my $off;

sub fails_with {
    my ($mode, $re, $name) = @_;

    control($pb, "mode?m=$mode");
    sleep 1.1;
    $off = $t->log_offset;
    my $t1 = time;
    my $r = get('/b', $tok{k1});
    my $took = time - $t1;
    is($r->{status}, 503, "b: $name: 503");
    like($t->error_log($off), $re, "b: $name: logged");

    return $took;
}

my $took = fails_with('slow:3', qr/failed: timed out/, 'slow past timeout');
cmp_ok($took, '<', 2.5, sprintf('b: the request waited %.1f s, no longer '
    . 'than the time-out', $took));
fails_with('garbage', qr/failed: "\/_jwks_b": invalid JSON/, 'garbage');
fails_with('many:10000', qr/failed: the answer is over the size cap/,
    '10,000 keys');
fails_with('many:300', qr/300 keys, at most 256 accepted/, '300 keys');
fails_with('wrong_alg', qr/"alg" ES256 does not fit the key type/,
    'a key whose alg does not fit its type');
fails_with('cut', qr/failed: (the fetch failed|the answer was cut short)/,
    'an answer cut in the middle (the client request survives)');

# the provider comes back: the next request after min_refresh fetches
control($pb, 'mode?m=ok');
sleep 1.1;
$res = get('/b', $tok{k1});
is($res->{status}, 200, 'b: provider back: 200');
like($t->error_log, qr/"\/_jwks_b" fetched: 1 signing keys; fetches: 1 good, 7 failed/,
    'b: the fetch counters');

# background refresh: after refresh= the request is answered at once
my $n = count($pb);
sleep 2.1;
is(get('/b', $tok{k1})->{status}, 200, 'b: old set, answered');
ok($t->wait_for(sub { count($pb) == $n + 1 }), 'b: refreshed in the background');

# an outage: the last good set serves up to stale=, then 503
control($pb, 'mode?m=fail');
sleep 2.1;
is(get('/b', $tok{k1})->{status}, 200, 'b: provider down: stale set used');
ok($t->wait_for(sub { count($pb) == $n + 2 }), 'b: the refresh was tried');
sleep 1.1;
get('/b', $tok{k1});
ok($t->wait_for(sub { $t->error_log =~ /used for \d+ s more/ }),
    'b: the log says how long the stale set lasts');
ok($t->wait_for(sub { get('/b', $tok{k1})->{status} == 503 },
    timeout => 6, interval => 0.5), 'b: past stale=: 503');

my @alerts = grep { /"event":"alert"/ && /keys_fetch_failed/ }
    split /\n/, $t->read_file('logs/audit.log') // '';
is(scalar(grep { /_jwks_b/ } @alerts), 2,
    'b: one alert record per outage (two outages)');
like($alerts[0] // '', qr/"keys_request":"\/_jwks_b","error":"status 500"/,
    'alert: names the location and the error');

###########################################################################
# requests that wait: HTTP/2 streams of one connection, a client that
# leaves, a reload meanwhile

control($pd, 'mode?m=slow:1');
$n = count($pd);
my $url = 'https://127.0.0.1:' . $t->port(4) . '/e';
my $urls = join ' ', ("-o /dev/null $url") x 5;
my $out = `curl -sk --no-progress-meter --http2 --parallel --parallel-immediate --max-time 10 -w '%{http_code} %{http_version}\n' -H 'Authorization: Bearer $tok{k1}' $urls 2>&1`;
is($out, "200 2\n" x 5, 'HTTP/2: five streams wait on one fetch, all 200')
    or diag($out);
is(count($pd), $n + 1, 'HTTP/2: one fetch');

$n = count($pd);
my $gone = Test::Compliance::_connect($t, {}) or die "connect: $@\n";
Test::Compliance::_send($gone, Test::Compliance::_build_request({
    uri => '/f', headers => bearer($tok{k1}) }, 0));
sleep 0.2;
close $gone->{sock};
ok($t->wait_for(sub { count($pd) == $n + 1 }), 'a client left while waiting: '
    . 'the fetch went on');
sleep 1.2;
is(get('/f', $tok{k1})->{status}, 200, 'and its set serves the next request');

control($pd, 'mode?m=slow:2');
my $w = Test::Compliance::_connect($t, { timeout => 15 }) or die "$@\n";
Test::Compliance::_send($w, Test::Compliance::_build_request({
    uri => '/g', headers => bearer($tok{k1}) }, 0));
sleep 0.3;
$t->reload;
$res = Test::Compliance::_read_response($w, 'GET');
close $w->{sock};
is($res->{status}, 200, 'a reload while a request waits: it is answered');
is(get('/g', $tok{k1})->{status}, 200, 'the new workers have that set');
control($pd, 'mode?m=ok');

$n = count($pd);
is(get('/h', $tok{k1})->{status}, 200, 'proxy_cache, after a reload: first fetch (a wait in a new worker)');
is(count($pd), $n + 1, 'proxy_cache: the provider asked once');
sleep 1.1;
$off = $t->log_offset;
is(get('/h', $tok{k2})->{status}, 401, 'proxy_cache: unknown kid refetched');
like($t->error_log($off), qr/"\/_jwks_h" fetched \(unchanged\)/,
    'proxy_cache: the set came from the cache (its file read back)');
is(count($pd), $n + 1, 'proxy_cache: the provider was not asked again');

###########################################################################
# a worker killed while it fetches: its flag is taken over after the
# time-out, nobody waits for it forever

control($pd, 'mode?m=slow:3');
$t->ignore_log_lines(qr/worker process \d+ exited on signal 9/);
my @old = $t->worker_pids;
my $k9 = Test::Compliance::_connect($t, {}) or die "connect: $@\n";
Test::Compliance::_send($k9, Test::Compliance::_build_request({
    uri => '/i', headers => bearer($tok{k1}) }, 0));
my $t_fetch = time;
sleep 0.3;
kill 'KILL', @old;
close $k9->{sock};
ok($t->wait_for(sub {
    my %o = map { $_ => 1 } @old;
    my @cur = $t->worker_pids;
    @cur == 2 && !grep { $o{$_} } @cur;
}), 'the workers were killed and replaced');
control($pd, 'mode?m=ok');
SKIP: {
    my $age = time - $t_fetch;
    skip sprintf('the workers took %.1f s to come back', $age), 2
        if $age > 1.2;
    my $t1 = time;
    $res = get('/i', $tok{k1});
    is($res->{status}, 503, 'a fresh flag of a dead worker: waited for, '
        . 'then 503');
    cmp_ok(time - $t1, '<', 1.8, 'no longer than timeout=');
}
sleep 2.1;
is(get('/i', $tok{k1})->{status}, 200, 'past timeout=: the flag is taken '
    . 'over and the set fetched');

###########################################################################
# a reload keeps the sets; a restart with the provider down reads cache=

control($pa, 'mode?m=fail');
control($pa, 'reset');
$t->reload;
is(get('/a', $tok{e1})->{status}, 200, 'reload: the set is still there');
is(count($pa), 0, 'reload: no fetch');

# every fetch is counted (compliance_status) as it is logged
my $log = $t->error_log;
my $ok_lines = () = $log =~ /compliance: key set "[^"]+" fetched/g;
my $err_lines = () = $log =~ /compliance: fetching the key set "[^"]+" failed/g;
$res = $t->http(uri => '/_status?format=json');
my $m = eval { decode_json($res->{body}) } // {};
is_deeply($m->{compliance_jwks_fetch_total},
    { ok => $ok_lines, error => $err_lines },
    "compliance_jwks_fetch_total: $ok_lines ok, $err_lines error, as logged");
cmp_ok($m->{compliance_refusals_total}{keys_unavailable} // 0, '>=', 9,
    'compliance_refusals_total{reason="keys_unavailable"}');

$t->stop;
ok(-s $t->path('cache/a.cache'), 'cache= file written');
ok(-f $t->path('cache/a.cache') && !-l $t->path('cache/a.cache'),
    'cache=: a file of its own, not the link left where it is written aside');
{
    open my $v, '<', $t->path('victim') or die "victim: $!";
    local $/;
    is(<$v>, "untouched\n", 'cache=: the link\'s target is not written');
}
$t->run;
like($t->error_log, qr/key set "\/_jwks_a" read from the cache file/,
    'restart: the cache file is read');
is(get('/a', $tok{e1})->{status}, 200, 'restart, provider down: cache= serves');
is(get('/a', $tok{k2})->{status}, 200, 'restart: every cached key');
$res = get('/b', $tok{k1});
is($res->{status}, 503, 'restart: without cache= and the provider down: 503');

###########################################################################
# configuration

my $base = <<'EOF';
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance on;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / {
            LINE
            return 200;
        }
    }
}
EOF

sub with {
    my ($line) = @_;
    (my $c = $base) =~ s/LINE/$line/;
    return $c;
}

$t->config_refused(with('compliance_jwt_keys_request _jwks;'),
    qr/invalid uri "_jwks"/, 'uri without /');
$t->config_refused(with('compliance_jwt_keys_request /_jwks refresh=1h '
    . 'stale=1m;'), qr/"stale=" shorter than "refresh="/, 'stale < refresh');
$t->config_refused(with('compliance_jwt_keys_request /_jwks every=1m;'),
    qr/invalid parameter "every=1m"/, 'unknown parameter');
$t->config_refused(with('compliance_jwt_keys_request /_jwks min_refresh=0;'),
    qr/invalid parameter "min_refresh=0"/, 'min_refresh=0');
$t->write_file('local.jwks', jwks($jwk[0]));
$t->config_refused(with('compliance_jwt_keys_request /_jwks; '
    . 'compliance_jwt_keys %%PREFIX%%/local.jwks;'),
    qr/one source/, 'keys_request and keys at one level');
$t->config_refused(with('compliance_jwt_keys_request /_jwks; '
    . 'compliance_jwt_algorithms HS256;'),
    qr/allows no algorithm a key from "compliance_jwt_keys_request"/,
    'HMAC only');
$t->config_refused(with('compliance_jwt_keys_request /_jwks; '
    . 'compliance_jwt_keys_request /_jwks;'), qr/is duplicate/, 'duplicate');
$t->config_accepted(with('compliance_jwt_keys_request /_jwks refresh=5m '
    . 'min_refresh=10s stale=1h timeout=3s cache=jwks.cache;'),
    'every parameter');

$t->finish;
