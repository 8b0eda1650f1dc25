#!/usr/bin/perl
# Request ids: UUID v4 on every response (errors, upstream, public),
# $compliance_request_id, 10,000 distinct ids over 2 workers.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;

my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

my $t = Test::Compliance->new;

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;
events {
    accept_mutex off;
}
http {
    %%TEST_GLOBALS_HTTP%%

    log_format ids '$compliance_request_id $status';
    access_log logs/ids.log ids;

    compliance on;

    server {
        listen 127.0.0.1:%%PORT_0%% reuseport;

        location = /id {
            compliance_public "test";
            return 200 "$pid $compliance_request_id\n";
        }

        location = /missing {
            compliance_public "test";
        }

        location = /bad-gateway {
            compliance_public "test";
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }

        location = /upstream {
            compliance_public "test";
            proxy_set_header X-Request-ID $compliance_request_id;
            proxy_pass http://127.0.0.1:%%PORT_1%%/echo;
        }

        location / {
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        compliance off;

        location /echo {
            add_header X-Request-ID "upstream-chosen-id";
            return 200 "$http_x_request_id";
        }
    }
}
EOF

$t->run;

# --- the variable and the header agree
my $r = $t->http(uri => '/id');
my ($pid, $id) = split ' ', $r->{body};
like($id, $UUID, '$compliance_request_id is a UUID v4');
is($r->{header}->('x-request-id'), $id, 'header equals variable');

# --- errors carry it too
$r = $t->http(uri => '/missing');
is($r->{status}, 404, 'status 404');
like($r->{header}->('x-request-id') // '', $UUID, '404 has X-Request-ID');

$r = $t->http(uri => '/bad-gateway');
is($r->{status}, 502, 'status 502');
like($r->{header}->('x-request-id') // '', $UUID, '502 has X-Request-ID');

$r = $t->http(uri => '/protected');
is($r->{status}, 401, 'status 401');
my $p = decode_json($r->{body});
is($p->{request_id}, $r->{header}->('x-request-id'), '401 body id = header');

$r = $t->http(raw => "GET /id HTTP/1.1\r\nConnection: close\r\n\r\n");
is($r->{status}, 400, 'HTTP/1.1 without Host is 400');
like($r->{header}->('x-request-id') // '', $UUID, '400 has X-Request-ID');

# --- a client cannot choose its id; the upstream's own is replaced
$r = $t->http(uri => '/id', headers => [['X-Request-ID', 'forged']]);
($pid, $id) = split ' ', $r->{body};
like($id, $UUID, 'client X-Request-ID ignored');

$r = $t->http(uri => '/upstream');
my @ids = @{ $r->{headers}{'x-request-id'} || [] };
is(scalar @ids, 1, 'exactly one X-Request-ID');
is($ids[0], $r->{body}, 'upstream received the same id the client got');
like($ids[0], $UUID, 'upstream-chosen id replaced');

# --- 10,000 ids over 2 workers: all distinct and valid
my (%seen, %pids, $bad);
my $conns = 16;
my $per = 625;

for my $c (1 .. $conns) {
    my $rs = $t->keepalive(requests => [ map { { uri => '/id' } } 1 .. $per ]);
    for my $x (@$rs) {
        my ($wp, $rid) = split ' ', $x->{body} // '';
        $bad++ unless defined $rid && $rid =~ $UUID
            && ($x->{header}->('x-request-id') // '') eq $rid;
        $seen{$rid // ''}++;
        $pids{$wp // ''}++;
    }
}

my $total = 0;
$total += $_ for values %seen;
is($total, 10_000, '10,000 responses');
is(scalar keys %seen, 10_000, 'all 10,000 request ids distinct');
ok(!$bad, 'every id a valid v4 equal to its header') or diag("$bad bad");
is(scalar keys %pids, 2, 'both workers answered');

# --- the access log sees the same ids
my $log = $t->read_file('logs/ids.log');
my $logged = () = $log =~ /^[0-9a-f-]{36} 200$/mg;
cmp_ok($logged, '>=', 10_000, 'ids in access_log');

$t->finish;
