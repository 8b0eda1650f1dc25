#!/usr/bin/perl
# The request body as the enforcement handler reads it
# (ngx_http_compliance_body.c, compliance_validate_body): after
# authentication (401 before any byte of the body is read), validated,
# then the request goes on through the phases and the upstream gets the
# body unchanged, whether it came with Content-Length or chunked, at
# once or in pieces (the read resumes from read events), in memory or in
# nginx's temporary file, with "Expect: 100-continue", on keep-alive
# connections; a "return" after the handler still answers; the bound
# (max_size) refuses a Content-Length at once (no "100 Continue") and a
# chunked body as soon as it goes over.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Select;
use JSON::PP;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(sleep time);
use Test::Compliance;
use Test::ComplianceAuth qw(keygen);
use Test::ComplianceBackend qw(python_available start_backend);

plan skip_all => 'python3 not available' unless python_available();

my $t = Test::Compliance->new;
my $keys = $t->path('api.keys');
my $key = keygen($keys, '--principal', 'alice');

$t->write_file('order.json', <<'EOF');
{
  "type": "object",
  "required": ["id", "qty"],
  "properties": {
    "id": {"type": "string", "format": "uuid"},
    "qty": {"type": "integer", "minimum": 1},
    "note": {"type": "string"}
  }
}
EOF

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    client_body_buffer_size 1k;
    client_max_body_size 10m;
    compliance_limit_zone z 1m;
    compliance_audit_log logs/audit.jsonl;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        compliance on;
        compliance_api_keys %%PREFIX%%/api.keys;

        location /orders {
            compliance_validate_body order.json max_size=256k;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /ret {
            compliance_validate_body order.json;
            return 200 "after validation\n";
        }

        location /limited {
            compliance_validate_body order.json;
            compliance_limit zone=z rate=2r/m;
            return 200 "limited\n";
        }

        location /small {
            compliance_public "test";
            compliance_validate_body order.json max_size=100;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /raw {
            compliance_public "test";
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }
}
EOF

start_backend($t, $t->port(1), 'echo-backend.py');
$t->run;

my $port = $t->port(0);
my $id = '0b4c3f4e-5d6a-4b7c-8d9e-0f1a2b3c4d5e';

sub order {
    my ($pad) = @_;

    return encode_json({ id => $id, qty => 2, note => 'x' x ($pad // 0) });
}

sub auth { return [ 'X-API-Key', $key ] }

# a raw HTTP/1.1 exchange: the head, then body parts (a number is a pause
# in seconds); returns (status, headers text, body, interim text)
sub exchange {
    my ($head, @parts) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!";
    $s->autoflush(1);
    print $s $head;

    for my $p (@parts) {
        if (ref $p eq 'CODE') {
            $p->($s);
        } elsif ($p =~ /^[0-9.]+$/ && length $p < 5) {
            sleep $p;
        } else {
            local $SIG{PIPE} = 'IGNORE';
            print $s $p;
        }
    }

    my $buf = '';
    my $deadline = time + 10;
    my $sel = IO::Select->new($s);

    while (time < $deadline) {
        last unless $sel->can_read(0.5) || $buf eq '';
        my $n = sysread($s, my $chunk, 65536);
        last unless $n;
        $buf .= $chunk;
        last if response_complete($buf);
    }

    close $s;
    return parse($buf);
}

sub response_complete {
    my ($buf) = @_;

    my $b = $buf;
    $b =~ s/^HTTP\/1\.1 100 Continue\r\n\r\n//;
    return 0 unless $b =~ /\r\n\r\n/;
    my ($h, $body) = split /\r\n\r\n/, $b, 2;
    return length($body) >= $1 if $h =~ /Content-Length: (\d+)/i;
    return $body =~ /0\r\n\r\n$/;
}

sub parse {
    my ($buf) = @_;

    my $interim = '';
    $interim = $1 if $buf =~ s/^(HTTP\/1\.1 100 Continue\r\n\r\n)//;
    my ($h, $body) = split /\r\n\r\n/, $buf, 2;
    my ($status) = ($h // '') =~ /^HTTP\/1\.1 (\d+)/;
    return ($status // 0, $h // '', $body // '', $interim);
}

sub head {
    my ($uri, %o) = @_;

    my $h = "POST $uri HTTP/1.1\r\nHost: localhost\r\n"
        . "Content-Type: application/json\r\nConnection: close\r\n";
    $h .= "X-API-Key: $key\r\n" unless $o{noauth};
    $h .= "Content-Length: $o{length}\r\n" if defined $o{length};
    $h .= "Transfer-Encoding: chunked\r\n" if $o{chunked};
    $h .= "Expect: 100-continue\r\n" if $o{expect};
    return "$h\r\n";
}

sub chunks {
    my ($body, $size) = @_;

    my @c;
    for (my $i = 0; $i < length $body; $i += $size) {
        my $c = substr($body, $i, $size);
        push @c, sprintf("%x\r\n%s\r\n", length $c, $c);
    }
    return @c;
}

sub upstream_saw {
    my ($body, $sent, $what) = @_;

    my $j = eval { decode_json($body) } || {};
    is($j->{length}, length $sent, "$what: upstream got every byte");
    is($j->{sha256}, sha256_hex($sent), "$what: upstream got the body "
       . 'unchanged');
}

# --- authentication first: 401 before the body is read

{
    my $body = order();
    my ($st, $h, $b, $interim) = exchange(head('/orders', noauth => 1,
                                               length => length($body)
                                                         + 100000,
                                               expect => 1));
    is($st, 401, 'no credential: 401 before the body');
    is($interim, '', 'and no 100 Continue asks for the body');
}

# --- Content-Length, whole, in memory

{
    my $body = order();
    my $r = $t->http(method => 'POST', uri => '/orders', body => $body,
                     headers => [ auth(),
                                  [ 'Content-Type', 'application/json' ] ]);
    is($r->{status}, 200, 'valid body, Content-Length: passed');
    upstream_saw($r->{body}, $body, 'in memory');
    is(decode_json($r->{body})->{content_length}, length $body,
       'upstream framing: Content-Length');
}

# --- Content-Length, in pieces: the read resumes from read events

{
    my $body = order();
    my $half = int(length($body) / 2);
    my ($st, $h, $b) = exchange(head('/orders', length => length $body),
                                substr($body, 0, $half), 0.3,
                                substr($body, $half));
    is($st, 200, 'body in two pieces: passed');
    upstream_saw($b, $body, 'in pieces');
}

# --- in nginx's temporary file (client_body_buffer_size 1k)

{
    my $off = $t->log_offset;
    my $body = order(200000);
    my ($st, $h, $b) = exchange(head('/orders', length => length $body),
                                substr($body, 0, 70000), 0.2,
                                substr($body, 70000));
    is($st, 200, 'a 200 KB body: passed');
    upstream_saw($b, $body, 'temporary file');
    like($t->error_log($off), qr/buffered to a temporary file/,
         'the body was in a temporary file');

    my $bad = $body;
    $bad =~ s/"qty":2/"qty":0/;
    ($st, $h, $b) = exchange(head('/orders', length => length $bad), $bad);
    is($st, 422, 'an invalid 200 KB body from the temporary file: 422');
    like($b, qr{"pointer":"/qty","keyword":"minimum"},
         'the error names /qty');
}

# --- chunked, in several pieces

{
    my $body = order(5000);
    my @c = chunks($body, 700);
    my ($st, $h, $b) = exchange(head('/orders', chunked => 1),
                                @c[0 .. 2], 0.2, @c[3 .. $#c], "0\r\n\r\n");
    is($st, 200, 'chunked body: passed');
    upstream_saw($b, $body, 'chunked');
    is(decode_json($b)->{content_length}, length $body,
       'upstream framing: nginx sent it with Content-Length');

    my $bad = encode_json({ id => 'nope', qty => 2 });
    ($st, $h, $b) = exchange(head('/orders', chunked => 1),
                             chunks($bad, 5), "0\r\n\r\n");
    is($st, 422, 'invalid chunked body: 422');
    like($b, qr{"pointer":"/id","keyword":"format"}, 'the error names /id');
}

# --- Expect: 100-continue

{
    my $body = order();
    my ($st, $h, $b, $interim) =
        exchange(head('/orders', length => length $body, expect => 1),
                 sub {
                     my ($s) = @_;
                     my $sel = IO::Select->new($s);
                     my $got = '';
                     if ($sel->can_read(3)) {
                         sysread($s, $got, 100);
                     }
                     like($got, qr/^HTTP\/1\.1 100 Continue/,
                          '100 Continue before the body is sent');
                 },
                 $body);
    is($st, 200, 'Expect: 100-continue: passed');
    upstream_saw($b, $body, 'Expect');
}

# --- a "return" in the location runs after the validation

{
    my $r = $t->http(method => 'POST', uri => '/ret', body => order(),
                     headers => [ auth(),
                                  [ 'Content-Type', 'application/json' ] ]);
    is($r->{status}, 200, 'return after validation: 200');
    is($r->{body}, "after validation\n", 'return: its body');

    my $body = order();
    my ($st, $h, $b) = exchange(head('/ret', length => length $body),
                                substr($body, 0, 10), 0.2,
                                substr($body, 10));
    is($st, 200, 'return after an asynchronous read: 200');
    is($b, "after validation\n", 'return after an asynchronous read: body');

    $r = $t->http(method => 'POST', uri => '/ret', body => '{"qty":1}',
                  headers => [ auth(),
                               [ 'Content-Type', 'application/json' ] ]);
    is($r->{status}, 422, 'return: an invalid body is refused first');
}

# --- after a body that came later the enforcement handler runs again:
# the identity is kept, the limit charged once, one record

{
    my $body = order();
    my @st;
    for (1 .. 3) {
        my ($st) = exchange(head('/limited', length => length $body),
                            substr($body, 0, 10), 0.2, substr($body, 10));
        push @st, $st;
    }
    is("@st", '200 200 429', 'rate=2r/m: two bodies in pieces pass, the '
       . 'third is limited (each charged once)');
}

# --- keep-alive: two validated requests, one connection

{
    my $body = order();
    my $rs = $t->keepalive(requests => [
        { method => 'POST', uri => '/orders', body => $body,
          headers => [ auth(), [ 'Content-Type', 'application/json' ] ] },
        { method => 'POST', uri => '/orders', body => '{"qty":1}',
          headers => [ auth(), [ 'Content-Type', 'application/json' ] ] },
        { method => 'POST', uri => '/orders', body => $body,
          headers => [ auth(), [ 'Content-Type', 'application/json' ] ] },
    ]);
    is(scalar @$rs, 3, 'keep-alive: three responses');
    is($rs->[0]{status}, 200, 'keep-alive: first passed');
    is($rs->[1]{status}, 422, 'keep-alive: second refused');
    is($rs->[2]{status}, 200, 'keep-alive: third passed');
    upstream_saw($rs->[2]{body}, $body, 'keep-alive');
}

# --- GET and other methods outside "methods" are not validated

{
    my $r = $t->http(method => 'GET', uri => '/orders',
                     headers => [ auth() ]);
    is($r->{status}, 200, 'GET: not validated');
    is(decode_json($r->{body})->{method}, 'GET', 'GET: proxied');
}

# --- the bound: Content-Length over max_size, at once

{
    my $t0 = time;
    my ($st, $h, $b, $interim) =
        exchange(head('/small', noauth => 1, length => 1000, expect => 1));
    is($st, 413, 'Content-Length over max_size: 413');
    is($interim, '', 'no 100 Continue: the body is never asked for');
    like($b, qr/"reason":"body_too_large"/, 'reason body_too_large');
    like($h, qr/Content-Type: application\/problem\+json/i, 'problem+json');
    like($h, qr/Connection: close/i, 'the connection is closed');
    ok(time - $t0 < 3, 'answered without waiting for the body');
}

# --- the bound: a chunked body, refused once it goes over

{
    my $t0 = time;
    my ($st, $h, $b) =
        exchange(head('/small', noauth => 1, chunked => 1),
                 "40\r\n" . ('a' x 64) . "\r\n", 0.2,
                 "40\r\n" . ('a' x 64) . "\r\n");
    is($st, 413, 'chunked over max_size: 413 (the last chunk never sent)');
    like($b, qr/"reason":"body_too_large"/, 'chunked: body_too_large');
    ok(time - $t0 < 4, 'chunked: answered at once');

    ($st, $h, $b) =
        exchange(head('/small', noauth => 1, chunked => 1),
                 "80\r\n" . ('a' x 128) . "\r\n");
    is($st, 413, 'chunked over max_size in the first read: 413');
}

# --- without validation, nothing changes

{
    my $body = 'not json at all';
    my $r = $t->http(method => 'POST', uri => '/raw', body => $body,
                     headers => [ [ 'Content-Type', 'text/plain' ] ]);
    is($r->{status}, 200, 'a location without validation passes anything');
    upstream_saw($r->{body}, $body, 'no validation');
}

$t->stop;

# one record per request, the delayed bodies' too
{
    my @recs = map { decode_json($_) }
        split /\n/, $t->read_file('logs/audit.jsonl') // '';
    my @lim = grep { $_->{path} eq '/limited' } @recs;
    is(scalar @lim, 3, 'one audit record per request');
    is(join(' ', map { $_->{user_id} // 'none' } @lim), 'alice alice alice',
       'the identity, once authenticated, on every record');
    my %ids;
    $ids{ $_->{request_id} }++ for @recs;
    ok(!grep({ $_ > 1 } values %ids), 'no request recorded twice');
}

$t->finish;
