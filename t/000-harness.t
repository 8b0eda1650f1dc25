#!/usr/bin/perl

# Self-test of t/lib/Test/Compliance.pm against plain nginx (no module).

use FindBin;
use lib "$FindBin::Bin/lib";

use strict;
use warnings;

use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(time);

use Test::Compliance;

plan skip_all => 'openssl CLI not available'
    unless Test::Compliance::openssl_available();

my $t = Test::Compliance->new(no_module => 1);

###########################################################################
# files, ports, placeholders

ok(-d $t->prefix && -d $t->path('logs'), 'prefix and logs/ exist');
is($t->path('a/b'), $t->prefix . '/a/b', 'path()');
is((stat $t->prefix)[2] & 07777, 0755, 'prefix is 0755');

my $p0 = $t->port(0);
like($p0, qr/^\d+$/, 'port(0) is a number');
is($t->port(0), $p0, 'port(0) is stable');
isnt($t->port(1), $p0, 'port(1) differs from port(0)');

my $f = $t->write_file('sub/dir/secret.key', "s3cret\n", 0600);
is($f, $t->path('sub/dir/secret.key'), 'write_file returns the path');
is((stat $f)[2] & 07777, 0600, 'write_file mode');
is($t->read_file('sub/dir/secret.key'), "s3cret\n", 'read_file');
is($t->read_file('sub/dir/secret.key', 2), "cret\n", 'read_file offset');
is($t->read_file('missing'), undef, 'read_file of a missing file');

is($t->expand('a %%PREFIX%% %%PORT_0%% %%LOAD_MODULE%%.'),
    'a ' . $t->prefix . " $p0 .", 'expand: prefix, port, no module');
ok(!eval { $t->expand('x %%BOGUS%% y'); 1 }, 'unknown placeholder dies');
like($@, qr/BOGUS/, '... naming it');
ok(!eval { $t->write_config("events { }\n"); 1 },
    'nginx.conf template without %%TEST_GLOBALS%% dies');

my ($crt, $key) = $t->make_cert('localhost');
ok(-s $crt && -s $key, 'make_cert wrote crt and key');
like($t->read_file('localhost.crt'), qr/BEGIN CERTIFICATE/, 'PEM cert');

###########################################################################
# a broken config is refused with the line

$t->write_config(<<'EOF', 'broken.conf');
%%TEST_GLOBALS%%
events { }
http {
    server {
        bogus_directive on;
    }
}
EOF

my ($ok, $out) = $t->test_config('broken.conf');
ok(!$ok, 'test_config: broken config refused');

my @lines = split /\n/, $t->read_file('broken.conf');
my ($line) = grep { $lines[$_ - 1] =~ /bogus_directive/ } 1 .. @lines;
like($out, qr/unknown directive "bogus_directive" in \S*broken\.conf:$line\b/,
    'test_config: output names the directive and the line');

###########################################################################
# the real config

my $conf = <<'EOF';
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;

events { }

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_0%%;
        server_name localhost;

        location / { return 200 "hi"; }
        location /version { return 200 "VERSION"; }
        location /dup {
            add_header X-Dup a;
            add_header X-Dup b;
            return 200 "dup";
        }
        location /chunked {
            default_type text/html;
            sub_filter 'hi' 'hello';
            return 200 "hi there";
        }
        location /echo {
            return 200 "m=$request_method h=$http_x_test host=$host
len=$content_length";
        }
        location /upload {
            client_body_buffer_size 1k;
            proxy_pass http://127.0.0.1:%%PORT_0%%/len;
        }
        location /len { return 200 "len=$content_length"; }
    }

    server {
        listen 127.0.0.1:%%PORT_1%% ssl;
        ssl_certificate %%PREFIX%%/localhost.crt;
        ssl_certificate_key %%PREFIX%%/localhost.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / { return 200 "tls $ssl_protocol"; }
    }

    server {
        listen 127.0.0.1:%%PORT_2%% ssl;
        ssl_certificate %%PREFIX%%/localhost.crt;
        ssl_certificate_key %%PREFIX%%/localhost.key;
        ssl_protocols TLSv1.3;
        location / { return 200 "tls13 only"; }
    }

    server {
        listen 127.0.0.1:%%PORT_3%%;
        keepalive_requests 10000;
        location / { return 200 "k$request_uri"; }
    }
}
EOF

(my $v1 = $conf) =~ s/VERSION/v1/;
$t->write_config($v1);

($ok, $out) = $t->test_config;
ok($ok, 'test_config: good config accepted') or diag($out);
like($out, qr/syntax is ok/, 'test_config: output');

$t->run;

my $master = $t->master_pid;
ok($master && kill(0, $master), 'master is running');
my @workers = $t->worker_pids;
is(scalar @workers, 2, 'two workers');

SKIP: {
    skip 'not root', 1 if $> != 0;
    my $status = do {
        local $/;
        open my $fh, '<', "/proc/$workers[0]/status" or die $!;
        <$fh>;
    };
    my ($uid) = $status =~ /^Uid:\s+(\d+)/m;
    isnt($uid, 0, 'workers run unprivileged although the tests run as root');
}

###########################################################################
# http()

my $r = $t->http;
is($r->{status}, 200, 'http: status');
is($r->{body}, 'hi', 'http: body');
is($r->{header}->('Content-Length'), 2, 'http: header() any case');
is($r->{headers}{'content-type'}[0], 'text/plain', 'http: headers{}');
is($r->{header}->('X-None'), undef, 'http: absent header');
like($r->{raw}, qr{^HTTP/1\.1 200 OK\r\n.*\r\n\r\nhi$}s, 'http: raw');
is($r->{header}->('Connection'), 'close', 'http: Connection: close sent');

$r = $t->http(uri => '/dup');
is_deeply($r->{headers}{'x-dup'}, [ 'a', 'b' ], 'http: repeated headers');
is_deeply([ map { $_->[1] } grep { $_->[0] eq 'X-Dup' }
    @{ $r->{header_list} } ], [ 'a', 'b' ], 'http: header_list keeps order');

$r = $t->http(uri => '/chunked');
is($r->{header}->('Transfer-Encoding'), 'chunked', 'http: chunked response');
is($r->{body}, 'hello there', 'http: chunked body decoded');

$r = $t->http(method => 'HEAD');
is($r->{status}, 200, 'http: HEAD status');
is($r->{body}, '', 'http: HEAD has no body');

$r = $t->http(method => 'POST', uri => '/echo', body => 'abc',
    headers => [ [ 'X-Test', 'first' ], [ 'X-Test', 'second' ] ],
    host => 'example.test');
like($r->{body}, qr/^m=POST h=first host=example\.test\nlen=3$/,
    'http: method, headers in order, host, body length');

$r = $t->http(method => 'POST', uri => '/upload', body => 'x' x 65536);
is($r->{body}, 'len=65536',
    'http: large body buffered to a temp file by a worker and proxied');

$r = $t->http(raw => "GET / HTTP/1.0\r\nHost: x\r\n\r\n");
is($r->{status}, 200, 'http: raw request');
is($r->{version}, 'HTTP/1.1', 'http: response version');

$r = $t->http(raw => "NONSENSE\r\n\r\n");
is($r->{status}, 400, 'http: raw garbage gives 400');

$r = $t->http(host => undef);
is($r->{status}, 400, 'http: HTTP/1.1 without Host gives 400');

my $idle = IO::Socket::INET->new(Proto => 'tcp', Listen => 5,
    LocalAddr => '127.0.0.1:' . $t->port(5), ReuseAddr => 1) or die $!;
my $t0 = time;
$r = $t->http(port => $t->port(5), timeout => 1);
is($r->{error}, 'timeout', 'http: timeout reported');
is($r->{status}, undef, 'http: no status on timeout');
ok(time - $t0 < 3, 'http: timeout honoured');
close $idle;

$r = $t->http(port => $t->port(6));
is($r, undef, 'http: connection refused gives undef');
like($@, qr/connect to 127\.0\.0\.1:\d+ failed/, 'http: ... and sets $@');

###########################################################################
# https()

$r = $t->https(port => $t->port(1));
is($r->{status}, 200, 'https: status');
is($r->{body}, 'tls TLSv1.3', 'https: default TLS 1.3');
is($r->{tls_version}, 'TLSv1_3', 'https: tls_version');

$r = $t->https(port => $t->port(1), ssl_version => 'TLSv1_2');
is($r->{body}, 'tls TLSv1.2', 'https: TLS 1.2 forced');
is($r->{tls_version}, 'TLSv1_2', 'https: tls_version 1.2');

$r = $t->https(port => $t->port(2), ssl_version => 'TLSv1_2');
is($r, undef, 'https: failed handshake gives undef');
like($@, qr/TLS connection .* failed/, 'https: ... and sets $@');

$r = $t->https(port => $t->port(2));
is($r->{body}, 'tls13 only', 'https: TLS 1.3 server with default client');

###########################################################################
# keepalive()

my $res = $t->keepalive(requests => [ map { { uri => "/" } } 1 .. 1000 ]);
is(scalar @$res, 1000, 'keepalive: 1000 responses on one connection');
is(scalar(grep { $_->{status} == 200 && $_->{body} eq 'hi' } @$res), 1000,
    'keepalive: all 200 "hi"');
isnt($res->[0]{header}->('Connection'), 'close', 'keepalive: kept alive');
is($res->[-1]{header}->('Connection'), 'close',
    'keepalive: closed at keepalive_requests 1000');

$t0 = time;
$res = $t->keepalive(port => $t->port(3),
    requests => [ map { { uri => "/$_" } } 1 .. 5000 ]);
my $elapsed = time - $t0;
is(scalar @$res, 5000, 'keepalive: 5000 responses');
is($res->[4999]{body}, 'k/5000', 'keepalive: responses in order');
ok($elapsed < 10, 'keepalive: 5000 requests in under 10 s');
diag(sprintf 'keepalive: 5000 requests on one connection in %.2f s',
    $elapsed);

$res = $t->keepalive(port => $t->port(1), tls => 1,
    requests => [ (map { { uri => "/" } } 1 .. 199),
        { method => 'HEAD' } ]);
is(scalar(grep { $_->{body} eq 'tls TLSv1.3' } @$res), 199,
    'keepalive: over TLS');
is($res->[-1]{body}, '', 'keepalive: HEAD in a series');

###########################################################################
# reopen()

rename $t->path('logs/access.log'), $t->path('logs/access.log.1') or die;
$t->reopen;
$t->http(uri => '/after-reopen');
ok($t->wait_for(sub { ($t->read_file('logs/access.log') // '')
        =~ m{GET /after-reopen } }), 'reopen: new access.log written');
unlike($t->read_file('logs/access.log.1'), qr/after-reopen/,
    'reopen: old access.log untouched');

###########################################################################
# reload()

is($t->http(uri => '/version')->{body}, 'v1', 'before reload: v1');

(my $v2 = $conf) =~ s/VERSION/v2/;
$t->write_config($v2);
ok($t->reload, 'reload');

my %old = map { $_ => 1 } @workers;
my @now = $t->worker_pids;
is(scalar @now, 2, 'reload: two workers');
ok(!grep({ $old{$_} } @now), 'reload: all workers replaced');
is($t->master_pid, $master, 'reload: same master');
is($t->http(uri => '/version')->{body}, 'v2', 'after reload: v2 served');

# a refused reload keeps the old workers and configuration
$t->write_config($v2 . "bogus_directive on;\n");
is($t->reload(may_fail => 1, timeout => 3), 0,
    'reload: refused config returns 0 with may_fail');
is($t->http(uri => '/version')->{body}, 'v2', 'still serving after it');
$t->write_config($v2);

# refusals are checked without touching the running configuration
($ok, $out) = $t->test_config_text(<<'EOF');
%%TEST_GLOBALS%%
events { }
http { server { listen 127.0.0.1:%%PORT_7%%; no_such_thing; } }
EOF
ok(!$ok, 'test_config_text: refused');
like($out, qr/unknown directive "no_such_thing" in \S+test-config-1\.conf:5/,
    'test_config_text: message with file and line');
unlike($t->read_file('nginx.conf'), qr/no_such_thing/,
    'test_config_text: nginx.conf untouched');
($ok) = $t->test_config;
ok($ok, 'running config still valid');

###########################################################################
# run() failure path, with a second harness object

my $t2 = Test::Compliance->new(no_module => 1);
$t2->write_config(<<"EOF");
%%TEST_GLOBALS%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT_0%% ssl;
        ssl_certificate %%PREFIX%%/missing.crt;
        ssl_certificate_key %%PREFIX%%/missing.key;
    }
}
EOF
is($t2->run(may_fail => 1), 0, 'run: refused start returns 0 with may_fail');
like($t2->run_error, qr/nginx exited with status 1.*missing\.crt/s,
    'run: error explains, with error.log');
ok(!$t2->master_pid, 'run: nothing left running');
ok($t2->finish, 'second object: finish() skips the expected start failure');

###########################################################################
# log scanner and style checker (used by finish() and t/001-style.t)

my @bad = Test::Compliance::log_problems_in(<<'EOF');
2024/01/01 00:00:00 [notice] 1#1: start worker processes
2024/01/01 00:00:00 [warn] 1#1: something harmless
2024/01/01 00:00:00 [error] 1#1: *1 open() failed
2024/01/01 00:00:00 [alert] 1#1: worker exited on signal 11
2024/01/01 00:00:00 [crit] 1#1: pwrite() failed
2024/01/01 00:00:00 [emerg] 1#1: bind() failed
==123==ERROR: AddressSanitizer: heap-use-after-free on address 0x1
SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior x.c:1:2
x.c:3:4: runtime error: signed integer overflow
EOF
is(scalar @bad, 6, 'log_problems_in: alert crit emerg and sanitizer lines');
unlike(join("\n", @bad), qr/\[(?:notice|warn|error)\]/,
    'log_problems_in: not notice, warn or error');
is(scalar Test::Compliance::log_problems_in("[alert] expected one\n",
    qr/expected one/), 0, 'log_problems_in: ignore patterns');

my $good = $t->write_file('good.c', <<'EOF');
/* a URL in a comment: http://example.com/ is fine */
static const char  *u = "http://example.com//x";
static const char   c = '/';

/*
 * // inside a block comment is fine too
 */
int x; /* trailing comment */
EOF
is_deeply([ Test::Compliance::style_problems($good, 'good.c') ], [],
    'style: clean file has no problems');

my $bad = $t->write_file('bad.c',
    "int a;\n"
    . "\tint b;\n"
    . "int c; // cxx comment\n"
    . "int d;   \n"
    . ('x' x 81) . "\n"
    . ('y' x 80) . "\n"
    . "char *s = \"a\\\"//b\"; // after string\n"
    . "int e;");
my @sp = Test::Compliance::style_problems($bad, 'bad.c');
is_deeply([ sort @sp ], [ sort
    'bad.c: no newline at end of file',
    'bad.c:2: tab character',
    'bad.c:3: // comment (use /* */)',
    'bad.c:4: trailing whitespace',
    'bad.c:5: 81 columns (over 80)',
    'bad.c:7: // comment (use /* */)',
], 'style: every problem found with its line') or diag(join "\n", @sp);

###########################################################################

$t->finish;
