#!/usr/bin/perl
# compliance_auth_failure_limit allow=: trusted sources (an address, an
# IPv4 or IPv6 network) are never locked out, yet each of their failures
# is audited as one and past the rate they get one "alert" record
# (failure_limit_exceeded, not locked_out) and a warning; they never
# appear among the lockouts; other addresses are locked out as before;
# the address is the connection's ($remote_addr, realip's when trusted:
# an X-Forwarded-For nginx does not trust counts for nothing); an
# address put on the list by a reload goes free at once; config-time
# refusals.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;
use Test::ComplianceAuth qw(keygen reason_of);

my $t = Test::Compliance->new;

my $file = $t->path('keys.txt');
my $good = keygen($file, '--principal', 'alice');
my $bad = substr($good, 0, -2) . (substr($good, -2) eq 'AA' ? 'BA' : 'AA');

$t->forbid_in_logs($good);

my $conf = <<'EOF';
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_api_keys %%PREFIX%%/keys.txt;
    compliance_audit_log %%PREFIX%%/logs/audit.jsonl;

    compliance_limit_zone failures 1m;
    compliance_auth_failure_limit zone=failures rate=3r/m block=10m
        allow=203.0.113.0/24,2001:db8:aa::/48 allow=198.51.100.7%%MORE%%;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;

        location / {
            return 200 "ok\n";
        }

        location /health {
            compliance_public "probe";
            return 200 "up\n";
        }

        location = /_lockouts {
            compliance_public "lockout admin";
            allow 127.0.0.1;
            deny all;
            compliance_lockout_admin;
        }
    }

    # no realip here: X-Forwarded-For is just a header
    server {
        listen 127.0.0.1:%%PORT_1%%;

        location / {
            return 200 "direct\n";
        }
    }
}
EOF

sub config {
    my ($more) = @_;

    (my $c = $conf) =~ s/%%MORE%%/$more/;
    $t->write_config($c);
}

config('');
$t->run;

sub get {
    my ($uri, $addr, $key, $port) = @_;

    my @h = ([ 'X-Forwarded-For', $addr ]);
    push @h, [ 'X-API-Key', $key ] if defined $key;

    return $t->http(uri => $uri, headers => \@h,
                    port => $t->port($port // 0));
}

sub statuses {
    my ($n, @a) = @_;

    return join ' ', map { get(@a)->{status} } 1 .. $n;
}

sub records {
    my ($addr) = @_;

    return grep { $_->{client_ip} eq $addr }
           map { decode_json($_) }
           split /\n/, $t->read_file('logs/audit.jsonl') // '';
}

sub listed {
    my $r = $t->http(uri => '/_lockouts');
    my $j = eval { decode_json($r->{body}) } // {};

    return map { $_->{address} } @{ $j->{lockouts} || [] };
}

# --- an allow-listed network: failures counted and audited, never a lock
my $T = '203.0.113.5';

is(statuses(10, '/', $T, $bad), join(' ', (401) x 10),
   'allow-listed: ten failures, each a 401');
is(get('/', $T, $good)->{status}, 200, '... never locked out');
is(get('/health', $T)->{status}, 200, '... public locations served');
is(reason_of(get('/', $T, $bad)), 'unknown_api_key',
   '... a failure keeps its own reason');
ok(!grep({ $_ eq $T } listed()), '... and not among the lockouts');

my @rec = records($T);
my @fail = grep { $_->{event} eq 'auth_failure' } @rec;
is(scalar @fail, 11, 'every failure is an auth_failure audit record');
is($fail[0]{reason} // '', 'unknown_api_key', '... with its reason');
my @alert = grep { $_->{event} eq 'alert' } @rec;
is(scalar @alert, 1, 'one alert past the rate (one per window)');
is($alert[0]{reason} // '', 'failure_limit_exceeded',
   '... reason failure_limit_exceeded');
is($alert[0]{severity} // '', 'high', '... severity high');
ok(!grep({ ($_->{reason} // '') eq 'locked_out' } @rec),
   '... nothing says locked_out');
my @w = grep { /\[warn\].*allow-listed client \Q$T\E exceeded 3 authentication failures per 60s in zone "failures", not locked out/ }
        split /\n/, $t->error_log;
is(scalar @w, 1, 'one warning naming the allow-listed client');

# a single address and an IPv6 network of the list
is(statuses(6, '/', '198.51.100.7', $bad), join(' ', (401) x 6),
   'allow=198.51.100.7: never locked out');
is(get('/', '198.51.100.7', $good)->{status}, 200, '... served');
is(statuses(6, '/', '2001:db8:aa:1::9', $bad), join(' ', (401) x 6),
   'allow=2001:db8:aa::/48: never locked out');
is(get('/', '2001:db8:aa:ff::1', $good)->{status}, 200, '... served');

# --- other addresses: locked out as before
my $O = '198.51.100.8';
is(statuses(4, '/', $O, $bad), '401 401 401 401', 'another address');
is(get('/', $O, $good)->{status}, 429, '... is locked out');
is(reason_of(get('/', $O, $good)), 'locked_out', '... locked_out');
is_deeply([ listed() ], [ $O ], 'only it is listed');
is(get('/', '203.0.113.250', $good)->{status}, 200,
   'the allow-listed network is still served');

# --- a reload that puts a locked-out address on the list frees it
my $L = '198.51.100.9';
statuses(4, '/', $L, $bad);
is(get('/', $L, $good)->{status}, 429, 'locked out before the reload');
config(" allow=$L");
$t->reload;
is(get('/', $L, $good)->{status}, 200,
   'allow-listed by a reload: served at once');
is(statuses(6, '/', $L, $bad), join(' ', (401) x 6),
   '... and no longer locked out by failures');
is(get('/', $O, $good)->{status}, 429, 'the others stay locked out');

# --- the address is the connection's: XFF from an untrusted hop is not it
is(statuses(4, '/', $T, $bad, 1), '401 401 401 401',
   'without realip, X-Forwarded-For: <allow-listed> from 127.0.0.1');
is(get('/', $T, $good, 1)->{status}, 429,
   '... is 127.0.0.1, which is locked out');
like($t->error_log, qr/client 127\.0\.0\.1 exceeded 3 authentication failures/,
     '... under its own address');

# --- config-time refusals
for my $c (
    [ 'allow=', qr/invalid address "" in "allow=" of "compliance_auth_failure_limit"/ ],
    [ 'allow=300.1.1.1', qr/invalid address "300\.1\.1\.1" in "allow=300\.1\.1\.1" of "compliance_auth_failure_limit"/ ],
    [ 'allow=10.0.0.0/33', qr/invalid address "10\.0\.0\.0\/33"/ ],
    [ 'allow=10.0.0.1,,10.0.0.2', qr/invalid address "" in "allow=10\.0\.0\.1,,10\.0\.0\.2"/ ],
    [ 'allow=10.0.0.1,', qr/invalid address "" in "allow=10\.0\.0\.1,"/ ],
    [ 'allow=office', qr/invalid address "office"/ ],
    [ 'allow=0.0.0.0/0', qr/"0\.0\.0\.0\/0" in "compliance_auth_failure_limit" would exempt every address from the lockout/ ],
    [ 'allow=::/0', qr/"::\/0" in "compliance_auth_failure_limit" would exempt every address/ ],
    [ 'allowed=10.0.0.1', qr/invalid parameter "allowed=10\.0\.0\.1" in "compliance_auth_failure_limit"/ ],
) {
    my ($p, $re) = @$c;

    $t->config_refused(<<"EOF", $re, $p);
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance_limit_zone z 1m;
    server {
        listen 127.0.0.1:%%PORT_5%%;
        compliance on;
        location / {
            compliance_auth_failure_limit zone=z rate=1r/m block=1m $p;
        }
    }
}
EOF
}

$t->config_accepted(<<'EOF', 'allow= with unix: and an IPv6 address');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance_limit_zone z 1m;
    server {
        listen 127.0.0.1:%%PORT_5%%;
        compliance on;
        location / {
            compliance_auth_failure_limit zone=z rate=1r/m block=1m
                allow=unix:,::1,10.0.0.0/8;
        }
    }
}
EOF

$t->finish;
