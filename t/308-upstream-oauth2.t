#!/usr/bin/perl
# compliance_upstream_oauth2 (SPEC 16): the client-credentials grant sent
# through a token_request location to a local token endpoint
# (t/helpers/oauth2-token.py, which checks the grant and the client's
# Basic credentials and counts its requests); the token injected as
# "Bearer" for the upstream (the same script's API, which answers which
# token it got), kept in shared memory for both workers, refreshed ahead
# of expiry by one request while the old token is still used, 100
# parallel requests at expiry causing one token request; 502
# upstream_credential_unavailable and one alert record per outage when
# the endpoint fails (500, time-out, garbage, no access_token, wrong
# token_type, a token that is no bearer token, wrong client secret);
# withdrawn on internal redirects; a rotated client secret gets a new
# token at reload; neither the secret nor any token in any log or any
# response of the run.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Find ();
use JSON::PP ();
use MIME::Base64 ();
use Time::HiRes qw(sleep time);
use Test::Compliance;
use Test::ComplianceBackend qw(start_backend);
use Test::ComplianceVault qw(run_cli);

my $t = Test::Compliance->new;

my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';
my $VAULT = "$bin/compliance-vault";
my $KEYGEN = "$bin/compliance-keygen";

plan skip_all => "no $VAULT (run ./build.sh)" unless -x $VAULT && -x $KEYGEN;

sub rnd { join '', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. $_[0] }

my @secrets = ('cs-live-1' . rnd(32) . '+/:%', 'cs-live-2' . rnd(32));

sub vault {
    my ($stdin, @args) = @_;

    return run_cli($t, $stdin, $VAULT, '--vault', $t->path('vault.bin'),
                   '--key', $t->path('vault.key'), @args);
}

my ($rc, $out) = run_cli($t, '', $VAULT, 'genkey', $t->path('vault.key'));
is($rc, 0, 'genkey') or diag($out);
($rc, $out) = vault($secrets[0], 'set', 'idp-client');
is($rc, 0, 'set idp-client') or diag($out);

($rc, $out) = run_cli($t, '', $KEYGEN, '--file', $t->path('keys.txt'),
                      '--principal', 'alice', '--scopes', 'read');
my ($alice) = $out =~ /^(ck_\S+)$/m;
ok($alice, 'api key made') or diag($out);

# the endpoint reads the secret it expects from here at each request
$t->write_file('expected.secret', $secrets[0]);

my ($ptok, $papi, $pfail, $pfapi) = map { $t->port($_) } 1 .. 4;
start_backend($t, $ptok, script => 'oauth2-token.py',
              args => [ $papi, 'gw-client', $t->path('expected.secret') ]);
start_backend($t, $pfail, script => 'oauth2-token.py',
              args => [ $pfapi, 'gw-client', $t->path('expected.secret') ]);

sub control {
    my ($port, $what) = @_;

    my $res = $t->http(port => $port, uri => "/control/$what");
    die "token endpoint control $what: no answer\n"
        unless $res && $res->{status};

    return $res->{body};
}

sub count { control($_[0], 'count') =~ /(\d+)/ ? $1 : -1 }

my $conf = <<'EOF';
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance_api_keys keys.txt;
    compliance_vault vault.bin key=vault.key;
    compliance_audit_log %%PREFIX%%/logs/audit.jsonl;

    log_format leak '$status "$http_authorization" $compliance_principal';

    server {
        listen 127.0.0.1:%%PORT_0%% reuseport;
        access_log %%PREFIX%%/logs/gateway.log leak;

        compliance on;
        add_header X-Worker $pid always;
        add_header X-Leak-Auth "[$http_authorization]" always;

        location = /_token {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%/token;
        }

        location = /_token_fail {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_3%%/token;
            proxy_read_timeout 10s;
        }

        location /api/ {
            compliance_upstream_oauth2 billing token_request=/_token
                client_id=gw-client client_secret=idp-client
                "scope=read write" audience=https://api.example margin=3s;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }

        # the same source: one token, one flag
        location /api2/ {
            compliance_upstream_oauth2 billing token_request=/_token
                client_id=gw-client client_secret=idp-client
                "scope=read write" audience=https://api.example margin=3s;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }

        location /f/ {
            compliance_upstream_oauth2 flaky token_request=/_token_fail
                client_id=gw-client client_secret=idp-client margin=1s
                retry=1s timeout=1s;
            proxy_pass http://127.0.0.1:%%PORT_4%%;
        }

        # the API fails: error_page sends the request where no token goes
        location /err/ {
            compliance_upstream_oauth2 billing token_request=/_token
                client_id=gw-client client_secret=idp-client
                "scope=read write" audience=https://api.example margin=3s;
            proxy_intercept_errors on;
            error_page 500 = /plain/after-error;
            proxy_pass http://127.0.0.1:%%PORT_2%%/fail;
        }

        location /plain/ {
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }

        location /pub/ {
            compliance_public "no token for anonymous callers";
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }

        location = /_status {
            compliance_public "the test's scraper";
            compliance_status;
        }
    }
}
EOF

$t->write_config($conf);
$t->run;

my @responses;
my $auth = [ 'Authorization', "ApiKey $alice" ];

sub req {
    my ($uri, %o) = @_;

    my $res = $t->http(uri => $uri, headers => $o{headers} // [ $auth ],
                       timeout => 15);
    push @responses, $res->{raw} if $res && defined $res->{raw};
    return $res;
}

# all sent before any answer is read: in flight together, both workers
sub parallel {
    my ($uri, $n) = @_;

    my @c;

    for (1 .. $n) {
        my $c = Test::Compliance::_connect($t, { timeout => 20 })
            or die "connect: $@\n";
        Test::Compliance::_send($c, Test::Compliance::_build_request({
            uri => $uri, headers => [ $auth ] }, 0));
        push @c, $c;
    }

    my @out;

    for my $c (@c) {
        my $res = Test::Compliance::_read_response($c, 'GET');
        push @responses, $res->{raw} if $res && defined $res->{raw};
        push @out, $res;
        close $c->{sock};
    }

    return @out;
}

sub reason_of {
    my ($res) = @_;

    my $doc = eval { JSON::PP::decode_json($res->{body}) } || {};
    return $doc->{reason} // '';
}

sub audit_records {
    my $text = $t->read_file('logs/audit.jsonl') // '';
    return map { JSON::PP::decode_json($_) } grep { /\S/ } split /\n/, $text;
}

###########################################################################
# the first request fetches; the grant is what RFC 6749 4.4 says

my $res = req('/api/x');
is($res->{status}, 200, 'first request: 200 (it waited for the token)');
is($res->{body}, "auth=tok-1\n", 'the API got "Bearer" and token 1');
is(count($ptok), 1, 'one token request');
is(control($ptok, 'last'),
   "ok grant=client_credentials scope=read write "
   . "audience=https://api.example\n",
   'POST, form body, client_credentials, scope, audience, Basic client '
   . 'credentials with the vault secret (form-encoded)');
like($t->error_log, qr/upstream oauth2 "billing": token fetched through "\/_token", used for 3597 s, refreshed after 3594 s/,
    'the fetch is logged, without the token');

my %seen;

for (1 .. 12) {
    $res = req($_ % 2 ? '/api/y' : '/api2/y');
    $seen{$res->{body}}++;
    $seen{'w' . $res->{header}->('x-worker')}++;
}

is($seen{"auth=tok-1\n"}, 12, '12 more requests, two locations: token 1');
is(count($ptok), 1, 'still one token request (shared memory)');

# the client's own credential never reaches the API
is(req('/plain/z')->{body}, "auth=none\n",
   'a location without the directive: no token (the API key stays here)');
is(req('/pub/z', headers => [])->{body}, "auth=none\n",
   'public location: no token');

$res = req('/err/z');
is($res->{body}, "auth=none\n",
   'error_page to another location: the token is withdrawn');

###########################################################################
# expiry: 100 requests in parallel on two workers, one token request

sleep 1.1;
req('/api/refresh-now');                  # tok-1 has 3598 s: not yet
is(count($ptok), 1, 'a long-lived token is not refreshed early');

# tok-1 must go: a reload with the other client secret drops it
($rc, $out) = vault($secrets[1], 'set', 'idp-client');
is($rc, 0, 'rotate the client secret in the vault') or diag($out);
$t->write_file('expected.secret', $secrets[1]);
$t->reload;

# a token that lives 4 s: used 1 s (margin 3 s)
control($ptok, 'mode?m=ok&expires=4');
$res = req('/api/x');
is($res->{body}, "auth=tok-2\n",
   'after the reload with a rotated secret: a new token at once');
is(count($ptok), 2, 'one token request for it');
like(control($ptok, 'last'), qr/^ok /, 'the new secret was sent');

# wait past its use-by, then 100 requests while the fetch is slow; the
# next token lives 12 s: used 9 s, refreshed after 6 s
control($ptok, 'mode?m=slow:0.5&expires=12');
sleep 2.2;
my $before = count($ptok);
my @r = parallel('/api/many', 100);
my $fetched = time;
is(scalar(grep { ($_->{status} // 0) == 200 } @r), 100,
   '100 parallel: all 200')
    or diag(join ' ', map { $_->{status} // 'none' } @r);
is(scalar(grep { ($_->{body} // '') eq "auth=tok-3\n" } @r), 100,
   '100 parallel: all sent the one new token');
my %pids = map { (($_->{header} && $_->{header}->('x-worker')) // '') => 1 }
           @r;
is(scalar(keys %pids), 2, 'both workers answered');
is(count($ptok) - $before, 1, '100 requests at expiry: ONE token request');

# refresh ahead: between refresh (6 s) and use-by (9 s) the old token
# is sent while one request fetches the next
control($ptok, 'mode?m=ok&expires=3600');
sleep($fetched + 6.5 - time);
$res = req('/api/ahead');
is($res->{body}, "auth=tok-3\n", 'refresh ahead: the current token is used');
ok($t->wait_for(sub { count($ptok) == $before + 2 }),
   'refresh ahead: one token request in the background');
$res = req('/api/ahead');
is($res->{body}, "auth=tok-4\n", 'then the refreshed token');
is(count($ptok), $before + 2, 'no more token requests');

###########################################################################
# the endpoint fails in every way: 502, the reason, one alert per outage

control($pfail, 'mode?m=fail');
my $off = $t->log_offset;
$res = req('/f/x');
is($res->{status}, 502, 'endpoint 500: 502');
is(reason_of($res), 'upstream_credential_unavailable',
   'reason upstream_credential_unavailable');
like($res->{header}->('content-type'), qr{^application/problem\+json},
   'problem+json');
like($t->error_log($off),
     qr/upstream oauth2 "flaky": the token request through "\/_token_fail" failed: status 500; no token/,
     'the failure is logged');
is(count($pfail), 1, 'one token request');
$res = req('/f/x');
is($res->{status}, 502, 'within retry=: 502 at once');
is(count($pfail), 1, 'within retry=: the endpoint is not asked');

sub fails_with {
    my ($mode, $re, $name) = @_;

    control($pfail, "mode?m=$mode");
    sleep 1.1;
    $off = $t->log_offset;
    my $r = req('/f/x');
    is($r->{status}, 502, "$name: 502")
        or diag("$r->{status} $r->{body}" . $t->error_log($off));
    is(reason_of($r), 'upstream_credential_unavailable', "$name: reason");
    like($t->error_log($off), $re, "$name: logged");
}

fails_with('slow:3', qr/failed: timed out/, 'slow past timeout=1s');
fails_with('garbage', qr/failed: the answer is no JSON object/, 'garbage');
fails_with('missing', qr/failed: the answer has no access_token/,
           'no access_token');
fails_with('mac', qr/failed: the token_type is not "Bearer"/,
           'token_type mac');
fails_with('header', qr/failed: the access_token is no RFC 6750 b64token/,
           'a token with CR LF in it');
$t->write_file('expected.secret', 'not-the-secret');
fails_with('ok', qr/failed: status 401/, 'the endpoint refuses the client');
$t->write_file('expected.secret', $secrets[1]);

my @alerts = grep { ($_->{event} // '') eq 'alert'
                    && ($_->{reason} // '') eq 'upstream_token_failed' }
             audit_records();
is(scalar(@alerts), 1, 'one alert record for the whole outage');
is($alerts[0]{oauth2}, 'flaky', 'alert: names the source');
is($alerts[0]{token_request}, '/_token_fail', 'alert: names the location');
is($alerts[0]{error}, 'status 500', 'alert: the first error');

my @named = grep { ($_->{credential_id} // '') eq 'billing' } audit_records();
cmp_ok(scalar(@named), '>=', 100,
       'the records of requests sent with a token name credential_id billing');

my @refusals = grep { ($_->{reason} // '') eq 'upstream_credential_unavailable' }
               audit_records();
cmp_ok(scalar(@refusals), '>=', 8, 'every 502 has its audit record');
is($refusals[0]{status}, 502, 'the record says 502');

# counted for compliance_status (docs/metrics.md)
{
    my $m = req('/_status', headers => [])->{body} // '';
    my ($ok) = $m =~ /^compliance_oauth2_token_fetch_total\{result="ok"\} (\d+)$/m;
    my ($err) = $m =~ /^compliance_oauth2_token_fetch_total\{result="error"\} (\d+)$/m;
    my ($ref) = $m =~ /^compliance_refusals_total\{reason="upstream_credential_unavailable"\} (\d+)$/m;
    is($ok // -1, 4, 'status: the good token requests counted');
    is($err // -1, 7, 'status: the failed token requests counted');
    is($ref // -1, scalar(@refusals), 'status: the 502s counted by reason');
}

# recovery; no expires_in: used for 300 s
control($pfail, 'mode?m=noexpiry');
sleep 1.1;
$res = req('/f/x');
is($res->{status}, 200, 'the endpoint recovers: 200');
like($res->{body}, qr/^auth=tok-\d+\n\z/, 'with its token');
like($t->error_log, qr/"flaky": token fetched through "\/_token_fail", used for 299 s/,
     'no expires_in: 300 s less the margin');

###########################################################################
# configuration

my $base = <<'EOF';
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance_api_keys %%PREFIX%%/keys.txt;
    compliance_vault %%PREFIX%%/vault.bin key=%%PREFIX%%/vault.key;
    server {
        listen 127.0.0.1:%%PORT_5%%;
        compliance on;
        location = /_t { internal; proxy_pass http://127.0.0.1:1/; }
        location / { LINE proxy_pass http://127.0.0.1:1/; }
    }
}
EOF

sub conf_with {
    my ($line) = @_;
    (my $c = $base) =~ s/LINE/$line/;
    return $c;
}

my $good = 'compliance_upstream_oauth2 b token_request=/_t client_id=c '
         . 'client_secret=idp-client;';

$t->config_accepted(conf_with($good), 'the directive');
$t->config_refused(conf_with('compliance_upstream_oauth2 b token_request=/_t '
                   . 'client_id=c client_secret=nope;'),
    qr/"compliance_upstream_oauth2 b" names a client_secret the vault does not hold/,
    'an unknown vault entry');
$t->config_refused(conf_with('compliance_upstream_oauth2 b client_id=c '
                   . 'client_secret=idp-client;'),
    qr/needs "token_request=", "client_id=" and "client_secret="/,
    'no token_request');
$t->config_refused(conf_with('compliance_upstream_oauth2 b token_request=_t '
                   . 'client_id=c client_secret=idp-client;'),
    qr/it names a location/, 'token_request is no uri');
$t->config_refused(conf_with("$good compliance_upstream_credential "
                   . 'idp-client;'),
    qr/"compliance_upstream_credential" directive is duplicate/,
    'with a static credential in one location');
$t->config_refused(conf_with("$good $good"),
    qr/"compliance_upstream_oauth2" directive is duplicate/, 'twice');
like($t->config_accepted(conf_with("error_log %%PREFIX%%/logs/d.log debug; "
                                   . $good), 'debug error_log'),
     qr/"compliance_upstream_oauth2 b": the error_log of location "\/" logs at debug level/,
     'debug level, which logs upstream request headers: a warning');
$t->config_refused(conf_with('compliance_upstream_oauth2 b token_request=/_t '
                   . 'client_id=c client_secret=idp-client margin=x;'),
    qr/invalid parameter "margin=x"/, 'a bad margin');
$t->config_refused(conf_with('compliance_public "x"; ' . $good),
    qr/is not allowed in a public location/, 'in a public location');
(my $other = $base) =~ s/LINE/$good/;
$other =~ s/(location = \/_t)/location \/o { compliance_upstream_oauth2 b token_request=\/_t client_id=d client_secret=idp-client; proxy_pass http:\/\/127.0.0.1:1\/; }\n        $1/;
$t->config_refused($other, qr/"compliance_upstream_oauth2 b" is already given with other parameters/,
    'one name, two sets of parameters');

###########################################################################
# neither the client secret nor any token anywhere

my @issued = map { split /\n/, control($_, 'issued') } $ptok, $pfail;
cmp_ok(scalar(@issued), '>=', 6, 'tokens issued: ' . scalar(@issued));

my @needles = (@issued, @secrets);
for my $s (@secrets) {
    push @needles, MIME::Base64::encode_base64("gw-client:$s", '');
    (my $form = $s) =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    push @needles, MIME::Base64::encode_base64("gw-client:$form", '');
}

my @files;
File::Find::find(sub { push @files, $File::Find::name if -f $_ },
                 $t->path('logs'));

my @leaks;
for my $f (@files) {
    open my $fh, '<:raw', $f or next;
    local $/;
    my $text = <$fh> // '';
    close $fh;
    for my $n (@needles) {
        push @leaks, "$f: " . substr($n, 0, 12) if index($text, $n) >= 0;
    }
}

for my $raw (@responses) {
    for my $n (@needles) {
        push @leaks, 'a response: ' . substr($n, 0, 12)
            if index($raw, $n) >= 0;
    }
}

ok(scalar(@files) >= 4, 'log files searched: ' . join(' ',
   map { s{.*/}{}r } @files));
cmp_ok(scalar(@responses), '>=', 120, 'responses searched: '
       . scalar(@responses));
is(join("\n", @leaks), '', 'no secret and no token in any log or response');

$t->finish;
