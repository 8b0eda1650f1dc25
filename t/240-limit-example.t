#!/usr/bin/perl
# examples/ratelimit.conf is a complete config: with the load_module
# path, pid, error_log and ports substituted, "nginx -t" accepts it
# quietly, and, started, it limits as its comments say.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceAuth qw(keygen reason_of requests);

my $root = Test::Compliance::repo_root();

open my $fh, '<', "$root/examples/ratelimit.conf" or die "ratelimit.conf: $!";
my $c = do { local $/; <$fh> };
close $fh;

my $n = 0;
my %port;

ok($c =~ s/^load_module [^;]+;/%%LOAD_MODULE%%\n%%TEST_GLOBALS%%/m,
   'has load_module');
ok($c =~ s/^pid [^;]+;//m, 'has pid');
ok($c =~ s/^error_log [^;]+;//m, 'has error_log');
ok($c =~ s/^(http \{)/$1\n    %%TEST_GLOBALS_HTTP%%/m, 'has an http block');
$c =~ s{127\.0\.0\.1:(\d+)}
       {'127.0.0.1:%%PORT_' . ($port{$1} //= $n++) . '%%'}ge;
$c =~ s{^(\s*)access_log logs/access.log api;}{$1access_log %%PREFIX%%/logs/access.log api;}m;
$c =~ s{api-keys.txt}{%%PREFIX%%/api-keys.txt}g;

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
