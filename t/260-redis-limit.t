#!/usr/bin/perl
# compliance_limit_zone ... redis= (SPEC 15): the zone options refused
# when wrong; strict mode shares one bucket between the 2 workers through
# a real redis-server (the RateLimit headers as with a local zone, the
# key in Redis expiring once full again); a refusal by another zone gives
# the Redis token back; the script reloaded after SCRIPT FLUSH (NOSCRIPT
# -> EVAL); redis_password_file (AUTH, the password never logged, a
# wrong one refused by Redis is an outage); a unix socket; sync mode.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceRedis;

my $t = Test::Compliance->new;

# config-time refusals
my $zone = 'compliance_limit_zone z 1m';
my $r6379 = 'redis=127.0.0.1:6379';
$t->write_file('empty.pw', '');
$t->config_refusals([
    [ "$zone redis=;",
      qr/invalid Redis address "redis=" in "compliance_limit_zone"/ ],
    [ "$zone redis=127.0.0.1:99999;", qr/invalid Redis address/ ],
    [ "$zone $r6379 bogus=1;",
      qr/invalid parameter "bogus=1" in "compliance_limit_zone"/ ],
    [ "$zone $r6379 mode=fast;", qr/invalid parameter "mode=fast"/ ],
    [ "$zone $r6379 fail=maybe;", qr/invalid parameter "fail=maybe"/ ],
    [ "$zone $r6379 sync=50ms;",
      qr/"sync=50ms" in "compliance_limit_zone" needs "mode=sync"/ ],
    [ "$zone $r6379 mode=sync sync=0;", qr/invalid sync time "sync=0"/ ],
    [ "$zone $r6379 mode=sync sync=2m;", qr/invalid sync time "sync=2m"/ ],
    [ "$zone mode=sync;",
      qr/"mode=sync" of "compliance_limit_zone" needs "redis="/ ],
    [ "$zone $r6379 redis_password_file=%%PREFIX%%/none.pw;",
      qr/cannot open the Redis password file/ ],
    [ "$zone $r6379 redis_password_file=%%PREFIX%%/empty.pw;",
      qr/must hold one line of 1 to 512 bytes/ ],
    [ "$zone $r6379 redis=127.0.0.1:6380;",
      qr/invalid parameter "redis=127.0.0.1:6380"/ ],
], at => 'http');

my $password = 'pw-' . join '', map { ('a' .. 'z')[rand 26] } 1 .. 24;
$t->write_file('redis.pw', "$password\n", 0600);
$t->write_file('wrong.pw', "not-the-password\n", 0600);
$t->write_file('loose.pw', "x\n", 0644);
my $out = $t->config_accepted(<<'EOF', 'a password file others may read');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    compliance_limit_zone z 1m redis=127.0.0.1:6379
                          redis_password_file=%%PREFIX%%/loose.pw;
}
EOF
my $loose = 'in "compliance_limit_zone" is accessible by group or others '
          . '(mode 0644): chmod 600 it';
like($out, qr/key file "[^"]*loose\.pw" \Q$loose\E/,
     'a password file others may read: warned');
$t->forbid_in_logs($password);

my $sock = $t->path('r2.sock');
my $redis = Test::ComplianceRedis->new(t => $t, port => $t->port(1),
                                       name => 'r1');
my $secure = Test::ComplianceRedis->new(t => $t, port => $t->port(2),
                                        name => 'r2', unix => $sock,
                                        password => $password);

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_audit_log %%PREFIX%%/logs/audit.log;

    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;

    compliance_limit_zone strict 1m redis=127.0.0.1:%%PORT_1%%;
    compliance_limit_zone local 1m;
    compliance_limit_zone secure 1m redis=unix:%%PREFIX%%/r2.sock
                          redis_password_file=%%PREFIX%%/redis.pw;
    compliance_limit_zone wrongpw 1m redis=127.0.0.1:%%PORT_2%%
                          redis_password_file=%%PREFIX%%/wrong.pw;
    compliance_limit_zone sync 1m redis=127.0.0.1:%%PORT_1%% mode=sync
                          sync=50ms;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location /strict {
            compliance_public "redis test";
            compliance_limit zone=strict rate=5r/m key=ip;
            return 200 "strict\n";
        }

        location /two {
            compliance_public "redis test";
            compliance_limit zone=strict rate=100r/m key=ip;
            compliance_limit zone=local rate=2r/m key=ip;
            return 200 "two\n";
        }

        location /secure {
            compliance_public "redis test";
            compliance_limit zone=secure rate=3r/m key=ip;
            return 200 "secure\n";
        }

        location /wrongpw {
            compliance_public "redis test";
            compliance_limit zone=wrongpw rate=3r/m key=ip;
            return 200 "wrongpw\n";
        }

        location /sync {
            compliance_public "redis test";
            compliance_limit zone=sync rate=6r/m key=ip;
            return 200 "sync\n";
        }
    }
}
EOF
$t->run;

# both workers' connections are up once each has had its SCRIPT LOAD
ok($t->wait_for(sub { $redis->calls('script|load') >= 4 }, timeout => 5),
   'each worker loaded the script (2 zones on this Redis)');

sub get {
    my ($uri, $ip) = @_;

    return $t->http(uri => $uri, headers => [[ 'X-Forwarded-For', $ip ]]);
}

sub statuses {
    my ($uri, $ip, $n) = @_;

    return join ' ', map { get($uri, $ip)->{status} // 'none' } 1 .. $n;
}

# strict: one bucket for both workers, in Redis
my $evals = $redis->calls('evalsha');
is(statuses('/strict', '10.0.0.1', 8), '200 200 200 200 200 429 429 429',
   'strict: 5 of 8 requests across 2 workers (one shared bucket)');
cmp_ok($redis->calls('evalsha') - $evals, '>=', 8,
       'strict: one script call per limited request');

my $r = get('/strict', '10.0.0.1');
is($r->{status}, 429, 'strict: still refused');
like($r->{header}->('ratelimit') // '', qr/^"strict";r=0;t=\d+$/,
     'strict: RateLimit header from the Redis bucket');
like($r->{header}->('retry-after') // '', qr/^\d+$/, 'strict: Retry-After');
is($r->{header}->('ratelimit-policy'), '"strict";q=5;w=60',
   'strict: RateLimit-Policy');

$r = get('/strict', '10.0.0.2');
like($r->{header}->('ratelimit') // '', qr/^"strict";r=4;t=1[0-9]$/,
     'strict: a new key starts full, one token taken');

my @keys = $redis->keys_of('strict');
is(scalar @keys, 2, 'strict: one Redis key per client');
my $ttl = $redis->cmd('PTTL', $keys[0]);
ok($ttl > 0 && $ttl <= 61000, "strict: the key expires once full ($ttl ms)");

# a refusal by the local zone gives the Redis token back
is(statuses('/two', '10.0.0.3', 3), '200 200 429', 'two zones: 2 of 3');
@keys = grep { /:i\x0a\x00\x00\x03\z/ } $redis->keys_of('strict');
is(scalar @keys, 1, 'two zones: the Redis key exists');
# 100r/m: one token is 3600000 units; 2 kept, the third given back (the
# refund is sent after the response: waited for)
ok($t->wait_for(sub {
       ($redis->cmd('HGET', $keys[0], 'u') // 0) >= 98 * 3600000
   }, timeout => 3), 'two zones: the refused request costs no Redis token');

# NOSCRIPT: the script flushed from Redis is sent again with its body
is($redis->cmd('SCRIPT', 'FLUSH'), 'OK', 'SCRIPT FLUSH');
my $eval = $redis->calls('eval');
is(get('/strict', '10.0.0.4')->{status}, 200, 'after SCRIPT FLUSH: counted');
is($redis->calls('eval'), $eval + 1, 'after SCRIPT FLUSH: EVAL once');
is(statuses('/strict', '10.0.0.4', 5), '200 200 200 200 429',
   'after SCRIPT FLUSH: the same bucket');

# password (AUTH) over a unix socket
is(statuses('/secure', '10.0.0.5', 4), '200 200 200 429',
   'unix socket + password: limited');
is(scalar(() = $secure->keys_of('secure')), 1,
   'unix socket + password: the key is in Redis');

# a wrong password: Redis refuses AUTH, the zone falls back (fail=open)
is(statuses('/wrongpw', '10.0.0.6', 4), '200 200 200 429',
   'wrong password: local buckets');
is(scalar(() = $secure->keys_of('wrongpw')), 0,
   'wrong password: nothing in Redis');
like($t->error_log,
     qr/Redis 127\.0\.0\.1:\d+ of zone "wrongpw": AUTH refused/,
     'wrong password: logged');

# sync mode: decided locally, the tokens reach Redis within sync=
# 6r/m x 50ms is less than a token: each of the 2 workers may spend one
# token on credit before Redis answers (docs/fleet.md, D70)
my @sync = split / /, statuses('/sync', '10.0.0.7', 10);
my $granted = grep { $_ eq '200' } @sync;
ok($granted >= 6 && $granted <= 6 + 2,
   "sync: burst 6, at most 2 on credit ($granted of 10: @sync)");
is($sync[-1], 429, 'sync: refused once the fleet bucket is spent');
ok($t->wait_for(sub {
       my ($k) = $redis->keys_of('sync');
       return $k && ($redis->cmd('HGET', $k, 'u') // 1e18) < 3600000;
   }, timeout => 3), 'sync: the tokens spent are taken from the Redis bucket');

# another node spent the bucket: the next sync caps the local one
is(get('/sync', '10.0.0.8')->{status}, 200, 'sync: a new key');
my $k;
ok($t->wait_for(sub {
       ($k) = grep { /\x0a\x00\x00\x08\z/ } $redis->keys_of('sync');
       return $k;
   }, timeout => 3), 'sync: the key reached Redis');
$redis->cmd('HSET', $k, 'u', 0);
is(get('/sync', '10.0.0.8')->{status}, 200,
   'sync: this node still had tokens');
$t->wait_for(sub { 0 }, timeout => 0.3);
is(statuses('/sync', '10.0.0.8', 2), '429 429',
   'sync: another node emptied the bucket, this one refuses too');

unlike($t->error_log, qr/\Q$password\E/, 'the password is never logged');

$t->finish;
$_->stop for $redis, $secure;
