#!/usr/bin/perl
# compliance_redact_response: card numbers (and SSNs) in application/json,
# application/*+json and text/* bodies are masked "[REDACTED:pan:1111]",
# also when the backend's two writes cut one in two, chunked or with
# Content-Length, buffered or not; Content-Length goes, HEAD and 304 pass;
# Accept-Encoding, Range and If-Range never reach the upstream and a
# Range request gets the whole masked body; a compressed, partial or too
# large response becomes 502 problem+json with an alert record, a chunked
# one over max_size is cut off with the same alert; the request record
# counts the replacements (redacted_in_response); the output of an SSI
# include (kept with set= too) or add_after_body subrequest is masked
# too; the body streams (what
# precedes a held card number leaves before the backend's pause).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use JSON::PP;
use Time::HiRes qw(time);
use Test::Compliance;
use Test::ComplianceBackend qw(python_available start_backend);

plan skip_all => 'python3 not available' unless python_available();

my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

my $t = Test::Compliance->new;

$t->write_file('html/static/cards.json',
               "{\"card\":\"4111111111111111\",\"pad\":\"" . ('x' x 3000)
               . "\",\"card2\":\"5555555555554444\"}\n");

$t->write_file('html/ssi/page.html',
               "<p>4111111111111111</p>\n"
               . '<!--# include virtual="/static/cards.json" -->'
               . "<p>5555555555554444</p>\n");
$t->write_file('html/ssi-off/page.html',
               "<p>4111111111111111</p>\n"
               . '<!--# include virtual="/static/cards.json" -->');
$t->write_file('html/add/page.html', "<p>5555555555554444</p>\n");
$t->write_file('html/ssi/set.html',
               '<!--# include virtual="/static/cards.json" set="c" -->'
               . '<!--# echo var="c" encoding="none" -->');
$t->write_file('html/ssi/off.html',
               '<!--# include virtual="/off/cards" -->');
$t->write_file('html/ssi/gzip.html',
               "<p>before</p>\n" . '<!--# include virtual="/off/gzip" -->');

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance_audit_log logs/audit.jsonl;

    # for the logs only: response bodies get no operator pattern (D59)
    compliance_redact_pattern order_id "id [0-9]+";

    server {
        listen 127.0.0.1:%%PORT_0%%;
        root %%PREFIX%%/html;

        location /app/ {
            compliance_redact_response pan ssn;
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /unbuf/ {
            compliance_redact_response pan ssn;
            proxy_buffering off;
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /tiny/ {
            compliance_redact_response pan;
            proxy_buffer_size 1k;
            proxy_buffers 2 1k;
            proxy_busy_buffers_size 1k;
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /small/ {
            compliance_redact_response pan max_size=64k;
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /ae/ {
            compliance_redact_response pan;
            proxy_set_header Accept-Encoding gzip;
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /ep/ {
            compliance_redact_response pan;
            compliance_error_pages all;
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /off/ {
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /static/ {
            compliance_redact_response pan;
        }

        # a subrequest's output joins the main response (SSI, addition)
        location /ssi/ {
            compliance_redact_response pan;
            ssi on;
        }

        location /add/ {
            compliance_redact_response pan;
            add_after_body /static/cards.json;
        }

        location /ssi-off/ {
            compliance_redact_response off;
            ssi on;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_2%%;
        compliance_redact_response pan;

        location / {
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /plain/ {
            compliance_redact_response off;
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_3%%;
        compliance on;
        compliance_redact_response pan;

        location /api/ {
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /pub/ {
            compliance_public "test";
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }
    }
}
EOF

start_backend($t, $t->port(1), 'redact-backend.py');
$t->run;

my $MASKED_CARDS =
    '{"orders":[{"id":88421,"card":"[REDACTED:pan:1111]",'
  . '"ts":1767225600123},{"card":"[REDACTED:pan:4444]"},'
  . '{"card":"[REDACTED:pan:0005]"}],"ref":"a4111111111111111",'
  . '"bad":"4111111111111112"}' . "\n";

my $MASKED_SPLIT =
    '{"name":"Jane","card":"[REDACTED:pan:1111]","exp":"12/29"}' . "\n";

sub records {
    my @r;
    for my $l (split /\n/, $t->read_file('logs/audit.jsonl') // '') {
        my $x = eval { JSON::PP->new->decode($l) } or next;
        push @r, $x;
    }
    return @r;
}

# the records of the response's request id: [request record, alerts...]
sub records_of {
    my ($r, $want) = @_;
    my $id = $r->{header}->('x-request-id') // '-';
    my @got;
    $t->wait_for(sub {
        @got = grep { ($_->{request_id} // '') eq $id } records();
        return @got >= ($want // 1);
    });
    return @got;
}

sub request_record {
    my ($r) = @_;
    my ($rec) = grep { $_->{event} ne 'alert' } records_of($r);
    return $rec // {};
}

sub masked_ok {
    my ($r, $want, $what) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    is($r->{status}, 200, "$what: 200");
    is($r->{body}, $want, "$what: masked");
    is($r->{header}->('content-length'), undef,
       "$what: no Content-Length (the length changed)");
    ok(!$r->{error}, "$what: complete") or diag($r->{error});
}

# --- JSON with card numbers, every framing and buffering
for my $loc ('app', 'unbuf', 'tiny') {
    for my $q ('', '?chunked') {
        masked_ok($t->http(uri => "/$loc/cards$q"), $MASKED_CARDS,
                  "/$loc/cards$q");
    }
}

# --- a card number cut between two writes of the backend (0.3 s apart)
for my $loc ('app', 'unbuf', 'tiny') {
    for my $q ('', '?chunked') {
        my $r = $t->http(uri => "/$loc/split$q");
        masked_ok($r, $MASKED_SPLIT, "split card /$loc/split$q");
        unlike($r->{body}, qr/1111 11|11 1111/,
               "split card /$loc/split$q: no digit of it left");
    }
}

# streamed, not buffered: what precedes the cut card leaves at once, the
# held digits only with the rest (the backend pauses 1.5 s)
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port(0),
                                  Proto => 'tcp', Timeout => 5);
    print $s "GET /unbuf/slowsplit HTTP/1.0\r\nHost: localhost\r\n\r\n";
    my ($got, $first) = ('', '');
    my $start = time;
    while (time - $start < 5) {
        my $rin = '';
        vec($rin, fileno($s), 1) = 1;
        last unless select($rin, undef, undef, 0.1) || $first eq '';
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $got .= $buf;
        $first = $got if $first eq '' && $got =~ /"card":"/;
    }
    like($first, qr/\r\n\r\n\{"name":"Jane","card":"\z/,
         'streaming: the text before the cut card left before the pause');
    my ($body) = $first =~ /\r\n\r\n(.*)\z/s;
    unlike($body // '', qr/\d/, '... and none of its digits');
    while (sysread($s, my $buf, 65536)) {
        $got .= $buf;
    }
    like($got, qr/"card":"\[REDACTED:pan:1111\]","exp":"12\/29"\}\n\z/,
         '... the rest, masked, after it');
}

# the unmasked location leaks (the backend really sends them)
my $r = $t->http(uri => '/off/split');
like($r->{body}, qr/"card":"4111 1111 1111 1111"/, 'off: the card passes');
is($r->{header}->('content-length'), length $r->{body},
   'off: Content-Length kept');

# --- types: +json and text/* masked; xml is not a masked type
masked_ok($t->http(uri => '/app/hal'), $MASKED_CARDS, 'application/hal+json');
masked_ok($t->http(uri => '/app/text'),
          "ssn [REDACTED:ssn], card [REDACTED:pan:9424], id 1767225600123\n",
          'text/plain with ssn and card (the log-only pattern not applied)');
$r = $t->http(uri => '/app/xml');
is($r->{body}, "<card>4111111111111111</card>\n",
   'application/xml: not a masked type, passes');

# other statuses with a body are masked too
$r = $t->http(uri => '/app/created');
is($r->{status}, 201, 'upstream 201');
is($r->{body}, "{\"card\":\"[REDACTED:pan:1111]\"}\n", '201: masked');
$r = $t->http(uri => '/app/error');
is($r->{status}, 422, 'upstream 422');
is($r->{body}, "{\"error\":\"card [REDACTED:pan:1111] declined\"}\n",
   '422: masked');

# with compliance_error_pages all the error body is replaced instead
$r = $t->http(uri => '/ep/error');
is($r->{status}, 422, 'error_pages all: 422');
is($r->{header}->('content-type'), 'application/problem+json',
   'error_pages all: problem+json');
{
    # the request id is random hex: it may hold "4111"
    (my $body = $r->{body} // '') =~ s/"request_id":"[0-9a-f-]*"//;
    unlike($body, qr/4111|declined/, 'error_pages all: no upstream body');
}
masked_ok($t->http(uri => '/ep/cards'), $MASKED_CARDS,
          'error_pages all: a 200 still masked');

# a static file (sendfile) is masked too
$r = $t->http(uri => '/static/cards.json');
is($r->{status}, 200, 'static file');
like($r->{body}, qr/^\{"card":"\[REDACTED:pan:1111\]","pad":"x{3000}",
                    "card2":"\[REDACTED:pan:4444\]"\}\n\z/x,
     'static file: both cards masked');

# --- the upstream gets no Accept-Encoding, Range or If-Range
$r = $t->http(uri => '/app/echo', headers => [
    [ 'Accept-Encoding', 'gzip, br' ], [ 'Range', 'bytes=0-10' ],
    [ 'If-Range', '"v1"' ] ]);
is($r->{status}, 200, 'echo: 200, not 206');
is_deeply(eval { JSON::PP->new->decode($r->{body}) },
          { 'accept-encoding' => undef, range => undef, 'if-range' => undef },
          'the upstream saw no Accept-Encoding, Range, If-Range');
$r = $t->http(uri => '/off/echo', headers => [
    [ 'Accept-Encoding', 'gzip' ] ]);
like($r->{body}, qr/"accept-encoding": "gzip"/,
     'off: Accept-Encoding passes (the backend reports it)');

# --- Range: served whole
$r = $t->http(uri => '/app/cards', headers => [ [ 'Range', 'bytes=0-9' ] ]);
masked_ok($r, $MASKED_CARDS, 'Range on a proxied body: the whole of it');
is($r->{header}->('content-range'), undef, '... no Content-Range');
is($r->{header}->('accept-ranges'), undef, '... no Accept-Ranges');
$r = $t->http(uri => '/static/cards.json',
              headers => [ [ 'Range', 'bytes=10-20' ] ]);
is($r->{status}, 200, 'Range on a static file: 200');
like($r->{body}, qr/^\{"card":"\[REDACTED:pan:1111\]"/,
     '... the whole file, masked');

# --- HEAD and 304
$r = $t->http(uri => '/app/cards', method => 'HEAD');
is($r->{status}, 200, 'HEAD: 200');
is($r->{body}, '', 'HEAD: no body');
is($r->{header}->('content-length'), undef,
   'HEAD: no Content-Length (the unmasked length is not told)');
$r = $t->http(uri => '/app/etag');
is($r->{body}, $MASKED_CARDS, 'ETag route masked');
is($r->{header}->('etag'), 'W/"v1"', 'the ETag becomes weak');
$r = $t->http(uri => '/app/etag', headers => [ [ 'If-None-Match', '"v1"' ] ]);
is($r->{status}, 304, 'a 304 passes');
is($r->{body}, '', '304: no body');

# --- fail closed: compressed, partial, too large with a length
sub failed_closed {
    my ($r, $reason, $what) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    is($r->{status}, 502, "$what: 502");
    is($r->{header}->('content-type'), 'application/problem+json',
       "$what: problem+json");
    my $j = eval { JSON::PP->new->decode($r->{body}) } // {};
    is_deeply([ sort keys %$j ], [qw(request_id status title type)],
              "$what: type, title, status, request_id");
    is($j->{title}, 'Bad Gateway', "$what: Bad Gateway");
    like($j->{request_id} // '', $UUID, "$what: a request id");
    is($r->{header}->('content-encoding'), undef,
       "$what: no Content-Encoding");
    is($r->{header}->('content-length'), length $r->{body},
       "$what: Content-Length of the problem");
    # the request id is random hex: it may hold "4111"
    (my $body = $r->{body} // '') =~ s/"request_id":"[0-9a-f-]*"//;
    unlike($body, qr/4111|\x1f\x8b/, "$what: nothing of the body");

    my @recs = records_of($r, 2);
    my ($alert) = grep { $_->{event} eq 'alert' } @recs;
    ok($alert, "$what: an alert record");
    is($alert && $alert->{reason}, $reason, "$what: alert reason $reason");
    is($alert && $alert->{severity}, 'high', "$what: severity high");
    my ($req) = grep { $_->{event} ne 'alert' } @recs;
    is($req && $req->{status}, 502, "$what: the request record says 502");
}

$t->ignore_log_lines(qr/response replaced by 502/);

failed_closed($t->http(uri => '/app/gzip'), 'response_encoded',
              'gzip body');
failed_closed($t->http(uri => '/unbuf/gzip?chunked'), 'response_encoded',
              'gzip body, chunked, unbuffered');
failed_closed($t->http(uri => '/ae/gzip', headers => [
                  [ 'Accept-Encoding', 'gzip' ] ]),
              'response_encoded', 'gzip asked for by proxy_set_header');
failed_closed($t->http(uri => '/app/partial'), 'response_partial',
              'an upstream 206');
failed_closed($t->http(uri => '/small/big'), 'response_too_large',
              '216 KiB with Content-Length, max_size=64k');
$r = $t->http(uri => '/small/big', method => 'HEAD');
is($r->{status}, 502, 'HEAD of the too large one: 502');
is($r->{body}, '', '... no body');

# chunked and over max_size: the headers left already, so it is cut off
$r = $t->http(uri => '/small/big?chunked');
is($r->{status}, 200, 'chunked over max_size: the 200 had left');
ok($r->{error}, 'chunked over max_size: cut off (no last chunk)');
ok(length($r->{body}) <= 64 * 1024, 'chunked over max_size: at most 64k');
unlike($r->{body}, qr/4111111111111111/, '... and all of it masked');
{
    my @recs = records_of($r, 2);
    my ($alert) = grep { $_->{event} eq 'alert' } @recs;
    is($alert && $alert->{reason}, 'response_too_large',
       'chunked over max_size: alert response_too_large');
}

# the same body within the default max_size (1m) is masked whole
$r = $t->http(uri => '/app/big?chunked');
is($r->{status}, 200, '216 KiB chunked within max_size');
ok(!$r->{error}, '... complete');
my $n = () = $r->{body} =~ /\[REDACTED:pan:1111\]/g;
is($n, 6000, '... all 6000 cards masked');
unlike($r->{body}, qr/4111111111111111/, '... none left');
is(request_record($r)->{redacted_in_response}, 6000,
   'redacted_in_response: 6000');

# --- audit field
$r = $t->http(uri => '/app/cards');
is(request_record($r)->{redacted_in_response}, 3,
   'redacted_in_response: 3');
$r = $t->http(uri => '/app/xml');
is(request_record($r)->{redacted_in_response}, 0,
   'redacted_in_response: 0 for an unmasked type');
$r = $t->http(uri => '/off/cards');
my @off;
$t->wait_for(sub {
    @off = grep { ($_->{path} // '') eq '/off/cards' } records();
    return @off;
});
ok(@off && !exists $off[0]{redacted_in_response},
   'no redacted_in_response where the directive is not set');

# --- inheritance and off
masked_ok($t->http(uri => '/cards', port => $t->port(2)), $MASKED_CARDS,
          'server level: inherited');
$r = $t->http(uri => '/plain/cards', port => $t->port(2));
like($r->{body}, qr/4111111111111111/, 'off in a location: passes');

# --- a subrequest's output in the response (SSI include, add_after_body)
{
    my $r = $t->http(uri => '/ssi/page.html');
    is($r->{status}, 200, 'SSI include: 200');
    unlike($r->{body}, qr/4111111111111111|5555555555554444/,
           'SSI include: no card of the page or of the include unmasked');
    is(() = $r->{body} =~ /\[REDACTED:pan:(?:1111|4444)\]/g, 4,
       'SSI include: the page\'s 2 and the include\'s 2 masked');
    like($r->{body}, qr/"pad":"x{3000}"/, 'SSI include: the include is there');
    is(request_record($r)->{redacted_in_response}, 4,
       'SSI include: the record counts the page\'s and the include\'s');

    # an include from a location that does not mask joins a masked page
    $r = $t->http(uri => '/ssi/off.html');
    is($r->{body}, $MASKED_CARDS,
       'SSI include of an unmasked location: masked in a masked page');

    # an include kept in a variable, then echoed
    $r = $t->http(uri => '/ssi/set.html');
    is($r->{status}, 200, 'SSI include set=, echo: 200');
    unlike($r->{body}, qr/4111111111111111|5555555555554444/,
           'SSI include set=, echo: no card unmasked');
    like($r->{body}, qr/\[REDACTED:pan:1111\]/,
         'SSI include set=, echo: masked');

    # a compressed include cannot be masked: the response is cut off
    my $off = $t->log_offset;
    $r = $t->http(uri => '/ssi/gzip.html');
    ok($r->{error}, 'SSI include, compressed: the response is cut off');
    unlike($r->{body} // '', qr/\x1f\x8b/,
           'SSI include, compressed: nothing of it sent');
    like($t->error_log($off),
         qr/a subrequest's output cannot be masked: response_encoded/,
         'SSI include, compressed: said in error.log');

    $r = $t->http(uri => '/add/page.html');
    is($r->{status}, 200, 'add_after_body: 200');
    unlike($r->{body}, qr/4111111111111111|5555555555554444/,
           'add_after_body: no card unmasked');
    is(() = $r->{body} =~ /\[REDACTED:pan:(?:1111|4444)\]/g, 3,
       'add_after_body: the page\'s and the added body\'s masked');

    # the include's own location masks, the page's does not
    $r = $t->http(uri => '/ssi-off/page.html');
    like($r->{body}, qr/<p>4111111111111111<\/p>/,
         'off, SSI: the page as it is');
    like($r->{body}, qr/\[REDACTED:pan:1111\].*\[REDACTED:pan:4444\]/s,
         'off, SSI: the include masked by its own location');
}

# --- under compliance on: refusals as they are, admitted requests masked
$r = $t->http(uri => '/api/cards', port => $t->port(3));
is($r->{status}, 401, 'compliance on: the module\'s 401');
like($r->{body}, qr/"reason":"missing_credentials"/,
     '... its problem+json unchanged');
$r = $t->http(uri => '/pub/cards', port => $t->port(3));
masked_ok($r, $MASKED_CARDS, 'compliance on, public location');
is(request_record($r)->{redacted_in_response}, 3,
   '... its record counts 3');

# --- keepalive goes on after masked and failed responses
my $rs = $t->keepalive(requests => [
    { uri => '/app/cards' },
    { uri => '/app/split?chunked' },
    { uri => '/app/gzip' },
    { uri => '/unbuf/cards?chunked' },
    { uri => '/app/cards', method => 'HEAD' },
    { uri => '/static/cards.json' },
]);
is_deeply([ map { $_->{status} } @$rs ], [200, 200, 502, 200, 200, 200],
          'keepalive: statuses in order');
is($rs->[1]{body}, $MASKED_SPLIT, 'keepalive: the split card masked');
is($rs->[3]{body}, $MASKED_CARDS, 'keepalive: after a 502, masked');
ok(!grep({ $_->{error} } @$rs), 'keepalive: no framing error');

# --- nginx -t
$t->config_refusals([
    [ 'compliance_redact_response pan secret_params;',
      qr/invalid parameter "secret_params": query parameters are not looked for in a response body/ ],
    [ 'compliance_redact_response pan cvv;',
      qr/invalid parameter "cvv"/ ],
    [ 'compliance_redact_response pan max_size=0;',
      qr/invalid parameter "max_size=0"/ ],
    [ 'compliance_redact_response pan max_size=big;',
      qr/invalid parameter "max_size=big"/ ],
    [ 'compliance_redact_response max_size=1m;',
      qr/"compliance_redact_response" needs at least one detector, or "off"/ ],
    [ 'compliance_redact_response pan; compliance_redact_response ssn;',
      qr/"compliance_redact_response" directive is duplicate/ ],
]);

$t->config_accepted(<<'EOF', 'http, server and location contexts');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    compliance_redact_response pan ssn email jwt api_key bearer;
    server {
        compliance_redact_response pan max_size=256k;
        location / {
            compliance_redact_response off;
        }
    }
}
EOF

$t->finish;
