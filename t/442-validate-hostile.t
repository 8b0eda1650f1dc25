#!/usr/bin/perl
# Hostile request bodies under compliance_validate_body: a 100 MB body
# (413 without reading it all, with Content-Length and chunked), a slow
# body (nginx's client_body_timeout still applies), arrays nested 10,000
# deep, duplicate keys, invalid UTF-8 and overlong encodings, lone
# surrogates, numbers like 1e999999 (exact, not infinite), a ReDoS-shaped
# pattern against a long string (bounded in time); the submitted values
# never come back in a response or reach a log.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Select;
use JSON::PP;
use Errno qw(EAGAIN EWOULDBLOCK);
use Time::HiRes qw(sleep time);
use Test::Compliance;

my $t = Test::Compliance->new;

$t->write_file('any.json', '{}');
$t->write_file('num.json', <<'EOF');
{"type":"object","properties":{
  "n":{"type":"number","maximum":100},
  "u":{"type":"integer","maximum":18446744073709551615},
  "i":{"type":"integer"}
}}
EOF
$t->write_file('redos.json', <<'EOF');
{"type":"object","properties":{
  "s":{"type":"string","pattern":"^(a+)+$"},
  "p":{"type":"string","pattern":"^[0-9]{4}$"}
}}
EOF

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    client_max_body_size 200m;
    client_body_timeout 1s;
    compliance_audit_log logs/audit.jsonl;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        compliance on;

        location /any {
            compliance_public "test";
            compliance_validate_body any.json;
            return 200 "passed\n";
        }

        location /num {
            compliance_public "test";
            compliance_validate_body num.json;
            return 200 "passed\n";
        }

        location /redos {
            compliance_public "test";
            compliance_validate_body redos.json max_size=1m;
            return 200 "passed\n";
        }
    }
}
EOF

$t->run;

my $port = $t->port(0);

sub post {
    my ($uri, $body) = @_;

    return $t->http(method => 'POST', uri => $uri, body => $body,
                    headers => [ [ 'Content-Type', 'application/json' ] ]);
}

sub problem {
    my ($r) = @_;

    return eval { decode_json($r->{body}) } || {};
}

# --- a 100 MB body: refused without reading it

sub flood {
    my ($head, $total, $chunked) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!";
    print $s $head;
    $s->blocking(0);

    my $block = 'x' x 65536;
    $block = sprintf("%x\r\n%s\r\n", length $block, $block) if $chunked;
    my ($sent, $resp) = (0, '');
    my $sel = IO::Select->new($s);
    my $deadline = time + 20;
    local $SIG{PIPE} = 'IGNORE';

    while (time < $deadline && $sent < $total) {
        if ($sel->can_read(0)) {
            my $n = sysread($s, my $buf, 65536);
            $resp .= $buf if $n;
            last if $resp =~ /\r\n\r\n/ || !defined $n || $n == 0;
        }
        my $n = syswrite($s, $block);
        if (defined $n) {
            $sent += $n;
        } elsif ($! != EAGAIN && $! != EWOULDBLOCK) {
            last;
        } else {
            $sel->can_read(0.01);
        }
    }

    while (time < $deadline && $resp !~ /\r\n\r\n.*\}/s) {
        last unless $sel->can_read(1);
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $resp .= $buf;
    }

    close $s;
    return ($resp, $sent);
}

{
    my $total = 100 * 1024 * 1024;
    my $t0 = time;
    my ($resp, $sent) = flood("POST /any HTTP/1.1\r\nHost: x\r\n"
                              . "Content-Type: application/json\r\n"
                              . "Content-Length: $total\r\n\r\n", $total);
    like($resp, qr/^HTTP\/1\.1 413/, '100 MB, Content-Length: 413');
    like($resp, qr/"reason":"body_too_large"/, 'body_too_large');
    ok($sent < $total / 4, "answered before the body was sent ($sent "
       . 'bytes of it)');
    ok(time - $t0 < 10, 'at once');

    $t0 = time;
    ($resp, $sent) = flood("POST /any HTTP/1.1\r\nHost: x\r\n"
                           . "Content-Type: application/json\r\n"
                           . "Transfer-Encoding: chunked\r\n\r\n", $total, 1);
    like($resp, qr/^HTTP\/1\.1 413/, '100 MB, chunked: 413');
    like($resp, qr/"reason":"body_too_large"/, 'chunked: body_too_large');
    ok($sent < $total / 4, "chunked: answered before the body was sent "
       . "($sent bytes of it)");
}

# --- a slow body: client_body_timeout (1s) still applies

{
    my $off = $t->log_offset;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!";
    print $s "POST /any HTTP/1.1\r\nHost: x\r\n"
        . "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":";
    my $t0 = time;
    my $sel = IO::Select->new($s);
    my $got = '';

    while (time - $t0 < 6) {
        last unless $sel->can_read(6 - (time - $t0));
        my $n = sysread($s, my $buf, 4096);
        last unless $n;
        $got .= $buf;
    }

    my $el = time - $t0;
    ok($el > 0.8 && $el < 4, sprintf('slow body: closed after the timeout '
                                     . '(%.1f s)', $el));
    unlike($got, qr/HTTP\/1\.1 200/, 'slow body: never passed');
    ok($t->wait_for(sub { ($t->read_file('logs/audit.jsonl') // '')
                              =~ /"path":"\/any","status":408/ }),
       'slow body: the record says 408 (nginx\'s timeout)')
        or diag($t->read_file('logs/audit.jsonl'));
}

# --- malformed bodies: 400 malformed_body

my @malformed = (
    [ '[' x 10000 . ']' x 10000, 'arrays nested 10,000 deep', qr/nesting/ ],
    [ '[' x 65 . ']' x 65, 'arrays nested 65 deep', qr/nesting/ ],
    [ '{"a":1,"a":2}', 'duplicate keys', qr/duplicate/ ],
    [ '{"a":1,"\u0061":2}', 'duplicate keys after unescaping', qr/duplicate/ ],
    [ qq({"a":"\xc0\xaf"}), 'overlong encoding', qr/UTF-8/ ],
    [ qq({"a":"\xe0\x80\xaf"}), 'overlong encoding, 3 bytes', qr/UTF-8/ ],
    [ qq({"a":"\xed\xa0\x80"}), 'encoded surrogate', qr/UTF-8/ ],
    [ qq({"a":"\xff"}), 'invalid UTF-8', qr/UTF-8/ ],
    [ qq({"a":"\xc3"}), 'truncated UTF-8', qr/UTF-8/ ],
    [ '{"a":"\ud800"}', 'lone high surrogate', qr/surrogate/ ],
    [ '{"a":"\udc00"}', 'lone low surrogate', qr/surrogate/ ],
    [ '{"a":"\ud800\u0041"}', 'high surrogate without a low one', qr/surrogate/ ],
    [ '{"a":1,}', 'trailing comma', qr/JSON/ ],
    [ "\xef\xbb\xbf{}", 'byte order mark', qr/./ ],
    [ '{"a":NaN}', 'NaN', qr/./ ],
    [ '{"a":1e1000000001}', 'exponent out of range', qr/./ ],
    [ '', 'empty body', qr/./ ],
    [ '{} {}', 'two values', qr/./ ],
);

for my $c (@malformed) {
    my ($body, $name, $detail) = @$c;
    my $r = post('/any', $body);
    is($r->{status}, 400, "$name: 400");
    my $p = problem($r);
    is($p->{reason}, 'malformed_body', "$name: malformed_body");
    like($p->{detail} // '', qr/$detail.* at byte \d+$/, "$name: detail");
}

# nesting 64 is allowed
is(post('/any', '[' x 64 . ']' x 64)->{status}, 200, 'nesting 64: passed');
is(post('/any', '{"a":"\ud83d\ude00 \u00e9"}')->{status}, 200,
   'surrogate pair and escapes: passed');

# --- numbers: exact, never infinite

{
    my $r = post('/num', '{"n":1e999999}');
    is($r->{status}, 422, '1e999999 is above maximum 100');
    like($r->{body}, qr{"pointer":"/n","keyword":"maximum"}, '1e999999: maximum');

    is(post('/num', '{"i":1e999999}')->{status}, 200,
       '1e999999 is an integer');
    is(post('/num', '{"n":-1e999999}')->{status}, 200, '-1e999999 <= 100');
    is(post('/num', '{"u":18446744073709551615}')->{status}, 200,
       '2^64-1 <= 2^64-1');
    $r = post('/num', '{"u":18446744073709551616}');
    is($r->{status}, 422, '2^64 > 2^64-1 (exact comparison)');
    is(post('/num', '{"i":1.0}')->{status}, 200, '1.0 is an integer');
    is(post('/num', '{"i":1.5}')->{status}, 422, '1.5 is not');
}

# --- a ReDoS-shaped pattern against a long string: bounded

{
    my $t0 = time;
    my $r = post('/redos', encode_json({ s => ('a' x 100000) . '!' }));
    my $el = time - $t0;
    is($r->{status}, 422, 'ReDoS pattern: refused');
    like($r->{body}, qr{"pointer":"/s","keyword":"pattern"}, 'ReDoS: pattern');
    ok($el < 2, sprintf('ReDoS: bounded (%.2f s)', $el));

    is(post('/redos', encode_json({ s => 'a' x 20000 }))->{status}, 200,
       'a long matching string: passed');
}

# --- the submitted value never comes back, nor reaches a log

{
    my $pii = 'PII-4111111111111111-jane.doe@example.com';
    $t->forbid_in_logs($pii);
    my $r = post('/redos', encode_json({ p => $pii }));
    is($r->{status}, 422, 'pattern mismatch: 422');
    unlike($r->{body}, qr/\Q$pii\E|4111111111111111|jane\.doe/,
           'the value is not in the response');
    $r = post('/any', qq({"k":"$pii",}));
    is($r->{status}, 400, 'malformed: 400');
    unlike($r->{body}, qr/4111111111111111|jane\.doe/,
           'malformed: the value is not in the response');
}

$t->stop;
$t->finish;
