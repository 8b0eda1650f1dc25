#!/usr/bin/perl
# compliance_limit_zone, compliance_limit: exact token-bucket sequences,
# the 429 with Retry-After, RateLimit-Policy / RateLimit headers, refill,
# independent keys, key=org / key=ip, public locations, dry_run, several
# limits on a location, one charge per zone across internal redirects,
# and the config-time refusals.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use Test::Compliance;
use Test::ComplianceAuth qw(keygen reason_of);

my $t = Test::Compliance->new;

my $file = $t->path('keys.txt');

my $alice = keygen($file, '--principal', 'alice', '--org', 'acme');
my $carol = keygen($file, '--principal', 'carol', '--org', 'acme');
my $bob = keygen($file, '--principal', 'bob', '--org', 'globex');
my $dave = keygen($file, '--principal', 'dave');
my $acme = keygen($file, '--principal', 'acme');

$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_api_keys %%PREFIX%%/keys.txt;

    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;

    compliance_limit_zone five 1m;
    compliance_limit_zone fast 64k;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location /five {
            compliance_limit zone=five rate=5r/m burst=5;
            return 200 "five\n";
        }

        location /fast {
            compliance_limit zone=fast rate=2r/s;
            return 200 "fast\n";
        }

        location /org {
            compliance_limit zone=org rate=3r/m key=org;
            return 200 "org\n";
        }

        location /ip {
            compliance_limit zone=byip rate=2r/h key=ip;
            return 200 "ip\n";
        }

        location /public {
            compliance_public "limited probe";
            compliance_limit zone=public rate=2r/m;
            return 200 "public\n";
        }

        location /dry {
            compliance_limit zone=dry rate=1r/m dry_run;
            return 200 "[$compliance_reason]\n";
        }

        location /multi {
            compliance_limit zone=m1 rate=10r/m;
            compliance_limit zone=m2 rate=2r/m key=org;
            return 200 "multi\n";
        }

        location /hop {
            compliance_limit zone=hop rate=5r/m;
            rewrite ^ /landing last;
        }

        location /landing {
            compliance_limit zone=hop rate=5r/m;
            compliance_limit zone=land rate=5r/m;
            return 200 "landing\n";
        }

        location /named {
            compliance_limit zone=named rate=5r/m;
            error_page 418 = @named;
            return 418;
        }

        location @named {
            compliance_limit zone=named rate=5r/m;
            return 200 "named\n";
        }

        location /unlimited {
            return 200 "unlimited\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;

        compliance_limit zone=srv rate=3r/m;

        location / {
            return 200 "inherited\n";
        }

        location /own {
            compliance_limit zone=own rate=7r/m;
            return 200 "own\n";
        }
    }

    # zones may be declared after the limits that use them
    compliance_limit_zone srv 1m;
    compliance_limit_zone own 1m;
    compliance_limit_zone org 1m;
    compliance_limit_zone byip 1m;
    compliance_limit_zone public 1m;
    compliance_limit_zone dry 1m;
    compliance_limit_zone m1 1m;
    compliance_limit_zone m2 1m;
    compliance_limit_zone hop 1m;
    compliance_limit_zone land 1m;
    compliance_limit_zone named 1m;
}
EOF

$t->run;

sub get {
    my ($uri, $key, @h) = @_;

    my @headers = @h;
    push @headers, [ 'X-API-Key', $key ] if defined $key;

    return $t->http(uri => $uri, headers => \@headers);
}

sub hdr {
    my ($r, $name) = @_;

    return $r->{header}->($name) // '';
}

sub remaining {
    my ($r, $zone) = @_;

    return hdr($r, 'ratelimit') =~ /"\Q$zone\E";r=(\d+);t=(\d+)/
        ? $1 : undef;
}

# --- exact sequence: rate=5r/m burst=5
my @r = map { get('/five', $alice) } 1 .. 6;

is_deeply([ map { $_->{status} } @r ], [ 200, 200, 200, 200, 200, 429 ],
          'five pass, the sixth is refused');
is_deeply([ map { remaining($_, 'five') } @r ], [ 4, 3, 2, 1, 0, 0 ],
          'RateLimit remaining drops by one per request');
is(hdr($r[0], 'ratelimit-policy'), '"five";q=5;w=60', 'RateLimit-Policy');
like(hdr($r[0], 'ratelimit'), qr/^"five";r=4;t=1[12]$/,
     'RateLimit: one token short, full again in 12 s');
like(hdr($r[4], 'ratelimit'), qr/^"five";r=0;t=(59|60)$/,
     'RateLimit: empty, full again in 60 s');
is(hdr($r[0], 'retry-after'), '', 'no Retry-After on a 200');

my $rl = $r[5];
is($rl->{header}->('content-type'), 'application/problem+json',
   '429 is problem+json');
is(reason_of($rl), 'rate_limited', '429 reason rate_limited');
like(hdr($rl, 'retry-after'), qr/^\d+$/, 'Retry-After in seconds');
ok(abs(hdr($rl, 'retry-after') - 12) <= 1, 'Retry-After: 12 (+-1)')
    or diag(hdr($rl, 'retry-after'));
is(hdr($rl, 'ratelimit-policy'), '"five";q=5;w=60',
   '429 carries RateLimit-Policy');
like(hdr($rl, 'ratelimit'), qr/^"five";r=0;t=\d+$/, '429 carries RateLimit');
like(hdr($rl, 'x-request-id'), qr/^[0-9a-f-]{36}$/, '429 has X-Request-ID');

# keys are independent
my $rb = get('/five', $bob);
is($rb->{status}, 200, 'another key is not limited');
is(remaining($rb, 'five'), 4, '... and has its own full bucket');

is(get('/five', $alice)->{status}, 429, 'the first key stays limited');

# --- refill: rate=2r/s, burst defaults to the rate
@r = map { get('/fast', $alice) } 1 .. 3;
is_deeply([ map { $_->{status} } @r ], [ 200, 200, 429 ],
          'rate=2r/s: burst defaults to 2');
is(hdr($r[0], 'ratelimit-policy'), '"fast";q=2;w=1', 'policy q=2;w=1');
is(hdr($r[2], 'retry-after'), '1', 'Retry-After: 1');

sleep(0.6);
$rb = get('/fast', $alice);
is($rb->{status}, 200, 'one token back after 0.5 s');
is(remaining($rb, 'fast'), 0, '... and used');
is(get('/fast', $alice)->{status}, 429, '... only one');

sleep(1.1);
$rb = get('/fast', $alice);
is($rb->{status}, 200, 'refilled after a second');
is(remaining($rb, 'fast'), 1, '... to full, minus this request');

# --- key=org shares a bucket across a tenant's keys
@r = (get('/org', $alice), get('/org', $carol), get('/org', $alice),
      get('/org', $carol));
is_deeply([ map { $_->{status} } @r ], [ 200, 200, 200, 429 ],
          'key=org: three requests per minute for the whole tenant');
is(get('/org', $bob)->{status}, 200, 'key=org: another tenant is separate');

# no org: the principal, and a principal named like an org is distinct
@r = map { get('/org', $dave) } 1 .. 4;
is_deeply([ map { $_->{status} } @r ], [ 200, 200, 200, 429 ],
          'key=org without an org falls back to the principal');
is(get('/org', $acme)->{status}, 200,
   'principal "acme" does not share the bucket of org "acme"');

# --- key=ip: all keys from one address share
@r = (get('/ip', $alice), get('/ip', $bob), get('/ip', $carol));
is_deeply([ map { $_->{status} } @r ], [ 200, 200, 429 ],
          'key=ip: one bucket per client address');
is(get('/ip', $alice, [ 'X-Forwarded-For', '192.0.2.7' ])->{status}, 200,
   'key=ip: another address has its own bucket');
is(hdr($r[0], 'ratelimit-policy'), '"byip";q=2;w=3600', 'r/h: w=3600');

# --- public locations are limited per client address
@r = map { get('/public', undef) } 1 .. 3;
is_deeply([ map { $_->{status} } @r ], [ 200, 200, 429 ],
          'public location limited by address');
is(reason_of($r[2]), 'rate_limited', '... rate_limited');
is(get('/public', undef, [ 'X-Forwarded-For', '192.0.2.8' ])->{status}, 200,
   'another address passes');
is(get('/public', $alice)->{status}, 429,
   'a credential does not matter on a public location');
is(get('/public', undef, [ 'X-Forwarded-For', '2001:db8::1' ])->{status},
   200, 'IPv6 client address');

# --- dry_run: never refuses, still reports and marks the reason
@r = map { get('/dry', $alice) } 1 .. 3;
is_deeply([ map { $_->{status} } @r ], [ 200, 200, 200 ],
          'dry_run never refuses');
is($r[0]{body}, "[]\n", 'within the limit: no reason');
is($r[1]{body}, "[rate_limited]\n", 'past the limit: reason rate_limited');
is(remaining($r[2], 'dry'), 0, 'dry_run still sends RateLimit');
is(hdr($r[1], 'ratelimit-policy'), '"dry";q=1;w=60',
   'dry_run still sends RateLimit-Policy');
is(hdr($r[1], 'retry-after'), '', 'dry_run sends no Retry-After');

# --- several limits: every one applies, one list member each
@r = map { get('/multi', $alice) } 1 .. 3;
is_deeply([ map { $_->{status} } @r ], [ 200, 200, 429 ],
          'the stricter of two limits refuses');
is(hdr($r[0], 'ratelimit-policy'), '"m1";q=10;w=60, "m2";q=2;w=60',
   'RateLimit-Policy: one member per limit');
like(hdr($r[0], 'ratelimit'), qr/^"m1";r=9;t=\d+, "m2";r=1;t=\d+$/,
     'RateLimit: one member per limit');
is(remaining($r[2], 'm1'), 8,
   'a refused request costs no token of the other limit');
is(hdr($r[2], 'ratelimit-policy'), '"m1";q=10;w=60, "m2";q=2;w=60',
   'the 429 lists both limits');
is(get('/multi', $carol)->{status}, 429,
   'm2 is per org: the tenant\'s other key is refused too');
is(remaining(get('/multi', $bob), 'm1'), 9, 'another tenant passes');

# --- one charge per zone, whatever hops the request takes
$rb = get('/hop', $alice);
is($rb->{status}, 200, 'rewrite ... last into a limited location');
is(remaining($rb, 'hop'), 4, 'the zone of both locations charged once');
is(remaining($rb, 'land'), 4, 'the new location\'s own zone charged');
is(hdr($rb, 'ratelimit-policy'), '"hop";q=5;w=60, "land";q=5;w=60',
   'both zones reported');

$rb = get('/named', $alice);
is($rb->{status}, 200, 'error_page into a named location');
is(remaining($rb, 'named'), 4, 'internal redirect: charged once');

$rb = get('/unlimited', $alice);
is(hdr($rb, 'ratelimit'), '', 'no RateLimit header where no limit applies');
is(hdr($rb, 'ratelimit-policy'), '', 'no RateLimit-Policy either');

# --- inheritance: a level with its own limits does not inherit
$rb = $t->http(port => $t->port(1), uri => '/x',
               headers => [ [ 'X-API-Key', $alice ] ]);
is($rb->{header}->('ratelimit-policy'), '"srv";q=3;w=60',
   'a location without limits inherits the server\'s');
$rb = $t->http(port => $t->port(1), uri => '/own',
               headers => [ [ 'X-API-Key', $alice ] ]);
is($rb->{header}->('ratelimit-policy'), '"own";q=7;w=60',
   'a location with its own limits does not inherit');

# unauthenticated requests to a limited location are refused before it
$rb = get('/five', undef);
is($rb->{status}, 401, 'no credential: 401 first');
is(hdr($rb, 'ratelimit'), '', '... not charged');

# --- config-time refusals name the directive and the value
my @bad = (
    [ 'location / { compliance_limit zone=nosuch rate=1r/s; }',
      qr/unknown zone "nosuch" in "compliance_limit", no "compliance_limit_zone nosuch ..." is declared in \S+:\d+/ ],
    [ 'location / { compliance_limit zone=z rate=1r/s bogus; }',
      qr/invalid parameter "bogus" in "compliance_limit"/ ],
    [ 'location / { compliance_limit zone=z rate=10; }',
      qr/invalid rate "rate=10" in "compliance_limit"/ ],
    [ 'location / { compliance_limit zone=z rate=0r/s; }',
      qr/invalid rate "rate=0r\/s" in "compliance_limit"/ ],
    [ 'location / { compliance_limit zone=z rate=5r/d; }',
      qr/invalid rate "rate=5r\/d" in "compliance_limit"/ ],
    [ 'location / { compliance_limit zone=z rate=999999999r/s; }',
      qr/rate "rate=999999999r\/s" in "compliance_limit" is too high/ ],
    [ 'location / { compliance_limit zone=z rate=1r/s burst=0; }',
      qr/invalid parameter "burst=0" in "compliance_limit"/ ],
    [ 'location / { compliance_limit zone=z rate=1r/s burst=x; }',
      qr/invalid parameter "burst=x" in "compliance_limit"/ ],
    [ 'location / { compliance_limit zone=z rate=1r/s key=user; }',
      qr/invalid parameter "key=user" in "compliance_limit"/ ],
    [ 'location / { compliance_limit zone=z rate=1r/s rate=2r/s; }',
      qr/invalid parameter "rate=2r\/s" in "compliance_limit"/ ],
    [ 'location / { compliance_limit zone= rate=1r/s; }',
      qr/invalid parameter "zone=" in "compliance_limit"/ ],
    [ 'location / { compliance_limit zone=z burst=3; }',
      qr/"compliance_limit" must have "zone=" and "rate=" parameters/ ],
    [ 'location / { compliance_limit zone=z rate=1r/s; '
      . 'compliance_limit zone=z rate=2r/s; }',
      qr/duplicate zone "z" in "compliance_limit"/ ],
    [ 'compliance_limit_zone z 1m;',
      qr/duplicate zone "z" in "compliance_limit_zone"/, 'http' ],
    [ 'compliance_limit_zone small 16k;',
      qr/size "16k" of zone "small" in "compliance_limit_zone" is too small/,
      'http' ],
    [ 'compliance_limit_zone big lots;',
      qr/invalid size "lots" in "compliance_limit_zone"/, 'http' ],
    [ 'compliance_limit_zone "a\"b" 1m;',
      qr/invalid zone name "a"b" in "compliance_limit_zone"/, 'http' ],
    [ 'compliance_limit zone=z rate=1r/s;',
      qr/"compliance_limit" directive is not allowed here/, 'http' ],
    [ 'location / { compliance_limit_zone y 1m; }',
      qr/"compliance_limit_zone" directive is not allowed here/ ],
);

$t->config_refusals(\@bad, http => 'compliance_limit_zone z 1m;',
    server => 'compliance on;');

# a zone used by a limit but declared only in another http block's
# position (after the server) is accepted; the same for limit_req's
# conflicting declaration of the name
my ($ok, $out) = $t->test_config_text(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    limit_req_zone $binary_remote_addr zone=shared:1m rate=1r/s;
    server {
        listen 127.0.0.1:%%PORT_5%%;
        location / { compliance_limit zone=shared rate=1r/s; }
    }
}
EOF
ok(!$ok, 'a limit_req zone cannot be used by compliance_limit');
like($out, qr/zone "shared" is already declared for a different use/,
     '... message');

$t->finish;
