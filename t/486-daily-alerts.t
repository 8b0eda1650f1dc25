#!/usr/bin/perl
# The run-time checks (issue 16, SPEC 13; SOC 2 checklist item 12): the
# server certificates loaded at start are checked once per
# compliance_check_interval (default a day) for the whole node, and one
# expiring within 30 days or expired writes an alert record
# (certificate_expiring, certificate_expired) and an error.log line.
# Two workers and a reload do not multiply the records; a restart runs
# the checks again; "off" stops them; the directive's refusals.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use Time::HiRes ();
use Test::Compliance;
use Test::ComplianceAudit qw(genkey audit_bin);

my $t = Test::Compliance->new;
my $p = $t->prefix;
my $bin = audit_bin($t);

plan skip_all => 'no openssl' unless $t->openssl_available;

my $chain = genkey($t, 'chain.key');

# valid 10 days, valid 400 days, and one that expired in 2025
$t->make_cert('soon', subj => '/CN=soon.example', days => 10);
# an ECDSA one beside the expired RSA one: a server holds one of each type
system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
       . "-nodes -keyout $p/later.key -out $p/later.crt -days 400 "
       . "-subj /CN=later.example >/dev/null 2>&1") == 0
    or die "openssl req failed";
chmod 0600, "$p/later.key";
{
    my $d = "$p/ca";
    mkdir $d or die;
    $t->write_file('ca/index.txt', '');
    $t->write_file('ca/serial', "01\n");
    $t->write_file('ca/ca.cnf', <<"EOF");
[ ca ]
default_ca = d
[ d ]
database = $d/index.txt
new_certs_dir = $d
serial = $d/serial
default_md = sha256
policy = p
unique_subject = no
[ p ]
commonName = supplied
EOF
    system("openssl req -new -newkey rsa:2048 -nodes -keyout $p/expired.key "
           . "-out $d/expired.csr -subj /CN=expired.example >/dev/null 2>&1 "
           . "&& openssl ca -batch -config $d/ca.cnf -selfsign "
           . "-keyfile $p/expired.key -in $d/expired.csr "
           . "-startdate 20250101000000Z -enddate 20250201000000Z "
           . "-out $p/expired.crt >/dev/null 2>&1") == 0
        or die "openssl ca failed";
    chmod 0600, "$p/expired.key";
}

sub conf {
    my (%o) = @_;

    my $interval = $o{interval}
        ? "compliance_check_interval $o{interval};" : '';
    my $audit = $o{no_audit} ? ''
        : "compliance_audit_log $p/logs/audit.jsonl; "
          . "compliance_audit_chain $chain;";

    # listen, server_name, then certificate and key pairs
    my $server = sub {
        my ($listen, $name, @certs) = @_;
        my $ssl = join ' ', map { "ssl_certificate $p/$_.crt; "
                                  . "ssl_certificate_key $p/$_.key;" } @certs;
        return "    server {\n        listen 127.0.0.1:$listen;\n"
               . "        server_name $name;\n        $ssl\n"
               . "        location / { compliance_public \"status page\"; "
               . "return 200 \"ok\\n\"; }\n    }\n";
    };

    # the same certificate file in two servers: one alert for it, not one
    # a server; a certificate inherited by a server without TLS is never
    # served; an ECDSA one beside the expired RSA one
    my $servers = $server->('%%PORT_1%% ssl', 'soon.example', 'soon')
        . $server->('%%PORT_3%% ssl', 'soon-alias.example', 'soon')
        . $server->('%%PORT_4%%', 'plain.example', 'expired')
        . $server->('%%PORT_2%% ssl', 'expired.example', 'expired', 'later');

    return <<"EOF";
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    $interval
    $audit
$servers}
EOF
}

my $json = JSON::PP->new;

sub alerts {
    my ($reason) = @_;
    my @r;
    for my $l (split /\n/, $t->read_file('logs/audit.jsonl') // '') {
        my $rec = eval { $json->decode($l) } or next;
        next unless ($rec->{event} // '') eq 'alert';
        next if defined $reason && $rec->{reason} ne $reason;
        push @r, $rec;
    }
    return @r;
}

sub counts {
    return (scalar(my @a = alerts('certificate_expiring')),
            scalar(my @b = alerts('certificate_expired')));
}

# --- the directive

my @refused = (
    [ 'compliance_check_interval 0;', qr/invalid value "0" in "compliance_check_interval", it must be a time of at least 1s, such as "1d", or "off"/ ],
    [ 'compliance_check_interval weekly;', qr/invalid value "weekly" in "compliance_check_interval"/ ],
    [ 'compliance_check_interval 1d; compliance_check_interval 2d;', qr/"compliance_check_interval" directive is duplicate/ ],
    # the checks' own zone, compliance_daily_checks (docs/posture.md), is
    # not a name a limit zone can take
    [ 'compliance_limit_zone compliance_daily_checks 1m;', qr/the shared memory zone "compliance_daily_checks" is already declared for a different use/ ],
);

for my $r (@refused) {
    my ($line, $re) = @$r;
    my $c = conf();
    $c =~ s/(http \{\n)/$1    $line\n/;
    $t->config_refused($c, $re, $line);
}
{
    my $c = conf();
    $c =~ s/(server_name soon.example;)/$1 compliance_check_interval 1h;/
        or die;
    $t->config_refused($c, qr/"compliance_check_interval" directive is not allowed here/,
                       'compliance_check_interval in a server');
}
$t->config_accepted(conf(interval => 'off'), 'compliance_check_interval off');

# --- at load: the same list, the posture gap

my ($ok, $out) = $t->test_config_text(conf());
like($out, qr/compliance posture: certificate_expiry: certificate "\/CN=soon.example" expires in (9|10) day\(s\), in server "soon.example"/,
     'posture: the certificate valid for 10 days');
like($out, qr/compliance posture: certificate_expiry: certificate "\/CN=expired.example" has expired, in server "expired.example"/,
     'posture: the expired certificate');
unlike($out, qr/later\.example/, 'posture: the certificate of 400 days is no gap');
like($out, qr/certificate "\/CN=soon.example" expires in (9|10) day\(s\), in server "soon-alias.example"/,
     'posture: a gap for each server that serves it');
unlike($out, qr/in server "plain.example"/, 'posture: a server without TLS serves no certificate');

# --- two workers, the default interval: one run for the node

$t->write_config(conf());
my $off = $t->log_offset;
my $started = time;
$t->run;

ok($t->wait_for(sub { my ($e, $x) = counts(); $e && $x }, timeout => 10),
   'the first run comes shortly after start');
cmp_ok(time - $started, '<=', 8, 'within seconds, not a day');

my ($soon) = alerts('certificate_expiring');
my ($gone) = alerts('certificate_expired');

is($soon->{certificate}, '/CN=soon.example', 'certificate_expiring: certificate');
like($soon->{expires}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
     'certificate_expiring: expires');
ok($soon->{days_left} == 9 || $soon->{days_left} == 10,
   'certificate_expiring: days_left') or diag($soon->{days_left});
is($soon->{server}, 'soon.example', 'certificate_expiring: server');
is($soon->{severity}, 'high', 'certificate_expiring: severity high');
ok($soon->{audit}, 'certificate_expiring: audit true');
ok(!defined $soon->{request_id}, 'certificate_expiring: no request');
like($soon->{timestamp}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
     'certificate_expiring: timestamp');

is($gone->{certificate}, '/CN=expired.example', 'certificate_expired: certificate');
is($gone->{expires}, '2025-02-01T00:00:00Z', 'certificate_expired: expires');
cmp_ok($gone->{days_left}, '<', 0, 'certificate_expired: days_left negative');
is($gone->{server}, 'expired.example', 'certificate_expired: server');
is($gone->{severity}, 'critical', 'certificate_expired: severity critical');

is(scalar(alerts()), 2, 'no alert for the certificate valid 400 days, one '
   . 'for a certificate two servers load, none for a server without TLS');

my $log = $t->error_log($off);
like($log, qr/\[warn\] .*compliance check: certificate "\/CN=soon.example" of server "soon.example" expires in (9|10) day\(s\)/,
     'error.log: the expiring certificate');
like($log, qr/\[warn\] .*compliance check: certificate "\/CN=expired.example" of server "expired.example" has expired/,
     'error.log: the expired certificate');

# both workers' timers have fired by now: still one run
Time::HiRes::sleep(2.5);
is_deeply([ counts() ], [ 1, 1 ], 'two workers: one record each, not two');

$t->reload;
Time::HiRes::sleep(2.5);
is_deeply([ counts() ], [ 1, 1 ], 'a reload does not run the checks again');

my ($rc) = system("$bin/compliance-audit verify --key $chain "
                  . "$p/logs/audit.jsonl >/dev/null 2>&1") >> 8;
is($rc, 0, 'the alert records are chained like every record');

# a restart: fresh shared memory, the checks run again
$t->stop;
$t->run;
ok($t->wait_for(sub { my ($e, $x) = counts(); $e == 2 && $x == 2 },
                timeout => 10),
   'a restart runs the checks again');

# --- a short interval: once per interval for the node, not per worker

$t->write_config(conf(interval => '2s'));
$t->reload;
ok($t->wait_for(sub { (counts())[0] >= 4 }, timeout => 10),
   'interval 2s: the checks run again');

my ($e0) = counts();
my $t0 = Time::HiRes::time();
Time::HiRes::sleep(6);
my ($e1, $x1) = counts();
my $runs = $e1 - $e0;
my $max = int((Time::HiRes::time() - $t0) / 2) + 1;
cmp_ok($runs, '>=', 1, 'interval 2s: runs during 6 s');
cmp_ok($runs, '<=', $max, "interval 2s: at most $max runs in 6 s with 2 workers")
    or diag("$runs runs");
cmp_ok(abs($e1 - $x1), '<=', 1, 'every run checks every certificate');

# --- off: no more runs

$t->write_config(conf(interval => 'off'));
$t->reload;
Time::HiRes::sleep(1);
my ($e2) = counts();
Time::HiRes::sleep(3);
is((counts())[0], $e2, 'compliance_check_interval off: no run');

# --- without an audit trail, error.log still says it

$t->write_config(conf(no_audit => 1));
$off = $t->log_offset;
$t->stop;
$t->run;
ok($t->wait_for(sub {
       $t->error_log($off) =~ /compliance check: certificate "\/CN=soon.example"/
   }, timeout => 10),
   'no audit trail: the error.log line');

($rc) = system("$bin/compliance-audit verify --key $chain "
               . "$p/logs/audit.jsonl >/dev/null 2>&1") >> 8;
is($rc, 0, 'the trail verifies after every run');

$t->finish;
