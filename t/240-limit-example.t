#!/usr/bin/perl
# examples/ratelimit.conf is a complete config: with the load_module
# path, pid, error_log and ports substituted (Test::ComplianceExamples),
# "nginx -t" accepts it quietly, and, started, it limits as its comments
# say.  t/062 runs its header commands as written.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceAuth qw(keygen reason_of requests);
use Test::ComplianceExamples qw(example_template);

my $c = example_template('ratelimit.conf');

my $t = Test::Compliance->new;
my $key = keygen($t->path('api-keys.txt'), '--principal', 'billing-service',
                 '--org', 'acme');

$t->write_config($c);

my ($ok, $out) = $t->test_config;
ok($ok, 'nginx -t accepts examples/ratelimit.conf') or diag($out);
unlike($t->without_posture($out), qr/\[(?:warn|emerg|alert|crit)\]/, '... quietly');

$t->run;

my $r = $t->http(uri => '/api/x', headers => [ [ 'X-API-Key', $key ] ]);
is($r->{status}, 200, '/api/ served');
like($r->{body}, qr/"principal":"billing-service"/, '... by the upstream');
is($r->{header}->('ratelimit-policy'),
   '"per_key";q=20;w=1, "per_org";q=6000;w=60', 'RateLimit-Policy');
like($r->{header}->('ratelimit') // '',
     qr/^"per_key";r=19;t=1, "per_org";r=5999;t=1$/, 'RateLimit');

$r = $t->http(uri => '/api/reports/q', headers => [ [ 'X-API-Key', $key ] ]);
is($r->{header}->('ratelimit-policy'),
   '"per_key";q=20;w=1, "per_org";q=100;w=3600', 'dry_run limit reported');

# burst=10 at 5r/s: ten at once, then at most a token per 200 ms
my @r = requests($t, [ map { { uri => '/health' } } 1 .. 15 ]);
is_deeply([ map { $_->{status} } @r[0 .. 9] ], [ (200) x 10 ],
          '/health: a burst of ten per address');
my @refused = grep { $_->{status} == 429 } @r[10 .. 14];
cmp_ok(scalar @refused, '>=', 3, '... then 429');
is(reason_of($refused[0]), 'rate_limited', '... rate_limited');

# eleven failures lock the address out of everything
my $bad = substr($key, 0, -2) . (substr($key, -2) eq 'AA' ? 'BA' : 'AA');
@r = map { $t->http(uri => '/api/x', headers => [ [ 'X-API-Key', $bad ] ]) }
     1 .. 11;
is_deeply([ map { $_->{status} } @r ], [ (401) x 11 ], 'eleven failures');

$r = $t->http(uri => '/api/x', headers => [ [ 'X-API-Key', $key ] ]);
is($r->{status}, 429, 'then the address is locked out');
is(reason_of($r), 'locked_out', '... locked_out');
cmp_ok($r->{header}->('retry-after') // 0, '>=', 899,
       '... for 15 minutes');

$t->finish;
