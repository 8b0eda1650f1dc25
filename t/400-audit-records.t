#!/usr/bin/perl
# compliance_audit_log, compliance_audit_sensitive, compliance_audit_resource:
# one JSON record per request, every SPEC 7 field, in order; denied,
# public, sensitive, resource and TLS cases; two workers never interleave.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;

my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

my $t = Test::Compliance->new;
my ($crt, $key) = $t->make_cert('server');
my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';

my $keys = $t->path('keys.txt');
my $apikey = `$bin/compliance-keygen --file $keys --principal alice --org acme --scopes orders:read`;
chomp $apikey;
like($apikey, qr/^ck_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/, 'demo key made');
my ($kid) = $apikey =~ /^ck_([a-z2-7]{12})_/;

$t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;
events {
    accept_mutex off;
}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_api_keys $keys;
    compliance_audit_log logs/audit.jsonl;

    server {
        listen 127.0.0.1:%%PORT_0%% reuseport;
        listen 127.0.0.1:%%PORT_1%% ssl;

        ssl_certificate $crt;
        ssl_certificate_key $key;
        ssl_protocols TLSv1.2 TLSv1.3;

        location / {
            return 200 "ok\\n";
        }

        location /orders/ {
            compliance_require_scope orders:read;
            compliance_audit_resource order \$arg_id;
            return 200 "order\\n";
        }

        location /admin/ {
            compliance_require_scope admin;
            return 200 "admin\\n";
        }

        location = /health {
            compliance_public "load balancer probe";
            return 200 "up\\n";
        }

        location /patients/ {
            compliance_audit_sensitive "PHI access";
            return 200 "phi\\n";
        }

        location /quiet/ {
            compliance_public "not audited";
            compliance_audit_log off;
            return 200 "quiet\\n";
        }
    }
}
EOF

$t->run;

my @auth = (['X-API-Key', $apikey]);

sub records {
    my $text = $t->read_file('logs/audit.jsonl') // '';
    my @r;
    for my $line (split /\n/, $text) {
        my $j = eval { JSON::PP->new->decode($line) };
        push @r, $j // { _bad => $line };
    }
    return @r;
}

# the LOG phase runs after the response is sent: wait for the record
sub by_id {
    my ($id) = @_;
    my $found;
    $t->wait_for(sub {
        ($found) = grep { ($_->{request_id} // '') eq $id } records();
        return $found;
    }, timeout => 3);
    return $found;
}

# --- a served request: every field, in SPEC order
my $r = $t->http(uri => '/orders/?id=42&page=1', headers => \@auth);
is($r->{status}, 200, 'authenticated request served');
my $rid = $r->{header}->('x-request-id');

by_id($rid);
my $line = (grep { /\Q$rid\E/ } split /\n/, $t->read_file('logs/audit.jsonl'))[0];
ok($line, 'record written') or BAIL_OUT('no audit record');

my @keys = $line =~ /"([a-z_]+)":/g;
is_deeply(\@keys, [qw(timestamp request_id event severity audit user_id
                      organisation_id auth_method key_id client_ip method
                      path status response_time_ms bytes_sent reason
                      resource_type resource_id seq)],
          'fields in SPEC order');

my $rec = decode_json($line);
like($rec->{timestamp}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
     'timestamp UTC with ms');
like($rec->{request_id}, $UUID, 'request_id');
is($rec->{event}, 'request', 'event request');
is($rec->{severity}, 'info', 'severity info');
is($rec->{audit}, JSON::PP::false, 'GET on a resource is not flagged');
is($rec->{user_id}, 'alice', 'user_id');
is($rec->{organisation_id}, 'acme', 'organisation_id');
is($rec->{auth_method}, 'api_key', 'auth_method');
is($rec->{key_id}, $kid, 'key_id is the key id, never the secret');
is($rec->{client_ip}, '127.0.0.1', 'client_ip');
is($rec->{method}, 'GET', 'method');
is($rec->{path}, '/orders/', 'path without the query string');
is($rec->{status}, 200, 'status');
like($line, qr/"response_time_ms":\d+\.\d{3},/, 'response_time_ms, 3 decimals');
cmp_ok($rec->{bytes_sent}, '>', 0, 'bytes_sent');
is($rec->{reason}, undef, 'no reason');
is($rec->{resource_type}, 'order', 'resource_type');
is($rec->{resource_id}, '42', 'resource_id from a variable');
is($rec->{seq} + 0, $rec->{seq}, 'seq is a number');
unlike($line, qr/\Q$apikey\E/, 'no key in the record');

# a write on a resource is audit-flagged
$r = $t->http(method => 'DELETE', uri => '/orders/?id=7', headers => \@auth);
$rec = by_id($r->{header}->('x-request-id'));
is($rec->{audit}, JSON::PP::true, 'DELETE on a resource: audit true');
is($rec->{method}, 'DELETE', 'method DELETE');

# --- denied requests
$r = $t->http(uri => '/orders/?id=1');
$rec = by_id($r->{header}->('x-request-id'));
is($rec->{event}, 'auth_failure', 'missing credentials: auth_failure');
is($rec->{status}, 401, 'status 401 recorded');
is($rec->{reason}, 'missing_credentials', 'reason recorded');
is($rec->{user_id}, undef, 'no user');
is($rec->{auth_method}, 'none', 'auth_method none');
is($rec->{severity}, 'warning', 'severity warning');
is($rec->{audit}, JSON::PP::true, 'refusals are audit events');

$r = $t->http(uri => '/x', headers => [['X-API-Key', 'ck_aaaaaaaaaaaa_' . 'A' x 43]]);
$rec = by_id($r->{header}->('x-request-id'));
is($rec->{reason}, 'unknown_api_key', 'unknown key recorded');
is($rec->{key_id}, undef, 'no key_id for an unknown key');

$r = $t->http(uri => '/admin/x', headers => \@auth);
$rec = by_id($r->{header}->('x-request-id'));
is($rec->{event}, 'forbidden', 'insufficient scope: forbidden');
is($rec->{status}, 403, 'status 403');
is($rec->{reason}, 'insufficient_scope', 'reason insufficient_scope');
is($rec->{user_id}, 'alice', 'the identity of a forbidden request is kept');

$r = $t->http(uri => '/x?access_token=abc');
$rec = by_id($r->{header}->('x-request-id'));
is($rec->{reason}, 'credential_in_url', 'credential_in_url recorded');
is($rec->{path}, '/x', 'query string never recorded');

# --- public, sensitive, TLS
$r = $t->http(uri => '/health');
$rec = by_id($r->{header}->('x-request-id'));
is($rec->{auth_method}, 'public', 'public auth_method');
is($rec->{public_reason}, 'load balancer probe', 'public_reason');

$r = $t->http(uri => '/patients/9', headers => \@auth);
$rec = by_id($r->{header}->('x-request-id'));
is($rec->{severity}, 'high', 'sensitive: severity high');
is($rec->{audit}, JSON::PP::true, 'sensitive: audit true');

$r = $t->https(port => $t->port(1), uri => '/health', ssl_version => 'TLSv1_2');
$rec = by_id($r->{header}->('x-request-id'));
is($rec->{tls}{protocol}, 'TLSv1.2', 'tls protocol');
ok($rec->{tls}{cipher}, 'tls cipher');

$r = $t->http(uri => '/health');
$rec = by_id($r->{header}->('x-request-id'));
ok(!exists $rec->{tls}, 'no tls field over plain HTTP');

$r = $t->http(uri => '/quiet/x');
my $quiet = $r->{header}->('x-request-id');
$r = $t->http(uri => '/health');
by_id($r->{header}->('x-request-id'));
ok(!grep({ ($_->{request_id} // '') eq $quiet } records()),
   'compliance_audit_log off');

# hostile bytes in the path and method still give valid JSON
$r = $t->http(raw => "GET /a%22b/\xff\xfe/\"x\\y HTTP/1.1\r\nHost: h\r\n"
                     . "Connection: close\r\n\r\n");
$rec = by_id($r->{header}->('x-request-id') // '');
ok($rec && !$rec->{_bad}, 'record with hostile path bytes parses');

# --- 2 workers under load: no interleaving, one record per request
my $before = scalar records();
my $sent = 0;
my @kids;
for my $c (1 .. 8) {
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my $rs = $t->keepalive(requests => [ map { { uri => '/health' } } 1 .. 250 ]);
        exit(scalar(grep { ($_->{status} // 0) == 200 } @$rs) == 250 ? 0 : 1);
    }
    push @kids, $pid;
}
my $fail = 0;
for (@kids) { waitpid($_, 0); $fail++ if $? }
is($fail, 0, '8 parallel clients got 2,000 answers');
$sent = 2000;

$t->stop;

my @all = records();
my @bad = grep { $_->{_bad} } @all;
is(scalar @bad, 0, 'every line parses as JSON') or diag($bad[0]{_bad});
is(scalar(@all) - $before, $sent, 'record count equals request count');

my %seq;
$seq{$_->{seq}}++ for @all;
is(scalar keys %seq, scalar @all, 'seq unique');
my @s = map { $_->{seq} } @all;
is_deeply(\@s, [sort { $a <=> $b } @s], 'file order is seq order');
is($s[-1] - $s[0] + 1, scalar @all, 'no seq missing');

# --- config refusals
my @cfg = (
    [ 'compliance_audit_log logs/a.jsonl buffer=0;',
      qr/invalid buffer size "buffer=0" in "compliance_audit_log"/ ],
    [ 'compliance_audit_log logs/a.jsonl flush=1s;',
      qr/"flush" needs "buffer" in "compliance_audit_log"/ ],
    [ 'compliance_audit_log logs/a.jsonl gzip;',
      qr/invalid parameter "gzip" in "compliance_audit_log"/ ],
    [ 'compliance_audit_log logs/a.jsonl buffer=8k flush=never;',
      qr/invalid flush time "flush=never" in "compliance_audit_log"/ ],
    [ 'compliance_audit_log off extra;',
      qr/"compliance_audit_log" directive has parameters after "off"/ ],
    [ 'compliance_audit_log logs/a.jsonl; '
      . 'server { listen 127.0.0.1:%%PORT_6%%; '
      . 'compliance_audit_log logs/b.jsonl; }',
      qr/names a second audit trail/ ],
    [ 'compliance_audit_failure sometimes;',
      qr/invalid value "sometimes" in "compliance_audit_failure"/ ],
    [ 'server { listen 127.0.0.1:%%PORT_6%%; location / { '
      . 'compliance_audit_sensitive ""; } }',
      qr/invalid reason "" in "compliance_audit_sensitive"/ ],
    [ 'server { listen 127.0.0.1:%%PORT_6%%; location / { '
      . 'compliance_audit_resource ""; } }',
      qr/invalid resource type "" in "compliance_audit_resource"/ ],
    [ 'compliance_audit_chain missing.key;',
      qr/invalid key in "compliance_audit_chain": cannot open key file/ ],
);

$t->config_refusals(\@cfg, at => 'http');

$t->finish;
