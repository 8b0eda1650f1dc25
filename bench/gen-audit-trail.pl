#!/usr/bin/perl
# Writes a realistic chained audit trail for compliance-report: the record
# format of docs/audit.md (fields in order, "seq" and "chain" last), the
# chain computed as core/compliance_chain.c does
# (hex HMAC-SHA256(key, previous chain || record without its chain field)),
# so that "compliance-audit verify --key KEY" accepts it.
#
#   bench/gen-audit-trail.pl --records N --key KEYFILE --out FILE
#       [--start 2026-11-01T00:00:00Z] [--hours H] [--seed S]
#
# The mix: 5,000 principals over 3 organisations and 20,000 client
# addresses; about 78% allowed (jwt and api_key), 8% public, 8% 401,
# 2% 403, 3% 429, 1% sensitive (PHI) reads, 1% deprecated endpoint,
# 6% with an upstream credential; a lockout alert now and then.

use strict;
use warnings;
use Digest::SHA qw(hmac_sha256_hex);
use Getopt::Long;
use POSIX qw(strftime);
use Time::Local qw(timegm);

my %o = (records => 1000, start => '2026-11-01T00:00:00Z', hours => 72,
         seed => 1);
GetOptions(\%o, 'records=i', 'key=s', 'out=s', 'start=s', 'hours=i',
           'seed=i')
    && $o{key} && $o{out} && $o{records} > 0 && $o{hours} > 0
    or die "usage: $0 --records N --key KEYFILE --out FILE "
         . "[--start T] [--hours H] [--seed S]\n";

open my $kf, '<:raw', $o{key} or die "$o{key}: $!\n";
local $/;
my $k = <$kf>;
close $kf;
$k = pack('H64', $1) if $k =~ /^([0-9a-fA-F]{64})\n?$/;
length $k == 32 or die "$o{key}: not a 32-byte key (or 64 hex digits)\n";

$o{start} =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$/
    or die "--start: YYYY-MM-DDTHH:MM:SSZ\n";
my $t0 = timegm($6, $5, $4, $3, $2 - 1, $1) * 1000;
my $step = $o{hours} * 3600 * 1000 / $o{records};

srand($o{seed});

my @orgs = qw(acme globex initech);
my @paths = ('/api/orders', '/api/orders/%d', '/api/customers/%d',
             '/api/invoices', '/api/reports/%d', '/api/search');
my @ciphers = ('TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256');

open my $out, '>', $o{out} or die "$o{out}: $!\n";

my $prev = '0' x 64;

for my $seq (1 .. $o{records}) {
    my $ms = int($t0 + ($seq - 1) * $step + rand($step));
    my $ts = strftime('%Y-%m-%dT%H:%M:%S', gmtime(int($ms / 1000)))
        . sprintf('.%03dZ', $ms % 1000);
    my $rid = sprintf('%08x-%04x-4%03x-%04x-%012x', rand(2**32),
                      rand(2**16), rand(2**12), 0x8000 | rand(2**14),
                      rand(2**48));
    my $p = int(rand(5000));
    my $user = "user$p";
    my $org = $orgs[$p % 3];
    my $ip = sprintf('10.%d.%d.%d', ($p * 7) % 256, int(rand(80)),
                     1 + int(rand(250)));
    my $path = $paths[int(rand(@paths))];
    $path = sprintf($path, int(rand(100000))) if $path =~ /%d/;
    my $method = rand() < 0.8 ? 'GET' : 'POST';
    my $r = rand(100);

    my ($event, $sev, $audit, $auth, $kid, $status, $reason) =
        ('request', 'info', 'false', 'jwt', "k$p", 200, undef);
    my @extra;

    if ($r < 8) {
        ($event, $sev, $audit, $status) = ('auth_failure', 'warning',
                                           'true', 401);
        $reason = (qw(missing_credentials invalid_token expired_token
                      bad_issuer))[int(rand(4))];
        ($user, $org, $auth, $kid) = (undef, undef, 'none', undef);
        $ip = sprintf('203.0.113.%d', 1 + int(rand(40)));
    } elsif ($r < 10) {
        ($event, $sev, $audit, $status, $reason) =
            ('forbidden', 'warning', 'true', 403, 'insufficient_scope');
    } elsif ($r < 13) {
        ($event, $sev, $audit, $status, $reason) =
            ('rate_limited', 'warning', 'true', 429, 'rate_limited');
        $p = int(rand(50));
        ($user, $org, $kid) = ("user$p", $orgs[$p % 3], "k$p");
    } elsif ($r < 21) {
        ($auth, $user, $org, $kid) = ('public', undef, undef, undef);
        $path = '/health';
        push @extra, '"public_reason":"load balancer health check"';
    } elsif ($r < 22) {
        ($sev, $audit) = ('high', 'true');
        $path = sprintf('/patients/%d', int(rand(1000)));
        push @extra, '"resource_type":"patient"',
            sprintf('"resource_id":"%d"', int(rand(1000)));
    } elsif ($r < 23) {
        $path = '/v1/orders';
        push @extra, '"deprecated":true';
    } elsif ($r < 29) {
        push @extra, sprintf('"credential_id":"%s"',
                             (qw(stripe-live crm-prod))[int(rand(2))]);
    } elsif ($r < 29.02) {
        ($event, $sev, $audit, $status, $reason) =
            ('alert', 'critical', 'true', 0, 'auth_failure_lockout');
    }

    $auth = 'api_key' if $auth eq 'jwt' && $p % 2;
    $status = 500 if $event eq 'request' && rand() < 0.005;
    $sev = 'notice' if $sev eq 'info' && $status >= 400;

    my $q = sub { defined $_[0] ? "\"$_[0]\"" : 'null' };
    my $rec = sprintf('{"timestamp":"%s","request_id":"%s","event":"%s",'
        . '"severity":"%s","audit":%s,"user_id":%s,"organisation_id":%s,'
        . '"auth_method":"%s","key_id":%s,"client_ip":"%s","method":"%s",'
        . '"path":"%s","status":%d,"response_time_ms":%d.000,'
        . '"bytes_sent":%d,"reason":%s', $ts, $rid, $event, $sev, $audit,
        $q->($user), $q->($org), $auth, $q->($kid), $ip, $method, $path,
        $status, int(rand(40)), 200 + int(rand(4000)), $q->($reason));
    $rec .= ",$_" for @extra;
    $rec .= sprintf(',"tls":{"protocol":"TLSv1.3","cipher":"%s"}',
                    $ciphers[$seq % 2]);
    $rec .= ",\"seq\":$seq";

    my $chain = hmac_sha256_hex($prev . $rec . '}', $k);
    print $out $rec, ',"chain":"', $chain, "\"}\n";
    $prev = $chain;
}

close $out or die "$o{out}: $!\n";
