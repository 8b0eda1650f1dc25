#!/usr/bin/perl
# examples/boundary.conf is a complete config: with the load_module
# path, pid, error_log and ports substituted (Test::ComplianceExamples),
# "nginx -t" accepts it quietly, and, started, it does what its comments
# say.  t/062 runs its header commands as written.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceExamples qw(example_template);

my $c = example_template('boundary.conf');

my $t = Test::Compliance->new;

$t->write_config($c);

my ($ok, $out) = $t->test_config;
ok($ok, 'nginx -t accepts examples/boundary.conf') or diag($out);
unlike($out, qr/\[(?:warn|emerg|alert|crit)\]/, '... quietly');

$t->run;

# --- compliance_scrub_headers on
my $r = $t->http(uri => '/api/x');
is($r->{status}, 200, '/api/ served');
is($r->{header}->('server'), 'nginx', 'Server: nginx');
ok(!$r->{header}->('x-powered-by') && !$r->{header}->('x-runtime'),
   'the application\'s X-Powered-By and X-Runtime removed');

# --- compliance_error_pages all
$r = $t->http(uri => '/api/crash');
is($r->{status}, 500, 'the application\'s 500');
is($r->{header}->('content-type'), 'application/problem+json',
   '... as problem+json');
unlike($r->{body}, qr/PDOException|db\.php/, '... without its text');
like($r->{body}, qr/"request_id":"\Q@{[ $r->{header}->('x-request-id') ]}\E"/,
     '... with the request id');

$r = $t->http(uri => '/nowhere');
is($r->{status}, 404, 'nginx\'s 404');
like($r->{body}, qr/^\{"type":"about:blank","title":"Not Found","status":404,/,
     '... as problem+json');

# --- compliance_deprecation
$r = $t->http(uri => '/api/v1/x');
is($r->{status}, 410, '/api/v1/: retired, 410');
like($r->{body}, qr/"reason":"api_sunset"/, '... api_sunset');
is($r->{header}->('sunset'), 'Wed, 01 Jan 2025 00:00:00 GMT', '... Sunset');
is($r->{header}->('server'), 'nginx', '... scrubbed too');

$r = $t->http(uri => '/api/v2/x');
is($r->{status}, 200, '/api/v2/: deprecated, served');
is($r->{header}->('deprecation'), '@1751241600', '... Deprecation');
is($r->{header}->('link'),
   '<https://docs.example.com/migrate-to-v3>; rel="deprecation"', '... Link');

$t->finish;
