#!/usr/bin/perl
# examples/quickstart.conf as `./build.sh run` serves it: the runner
# prepares certificates, a demo API key and a demo JWT, and nginx -t
# accepts the result; PORT_HTTP/PORT_HTTPS/PORT_UPSTREAM move its ports
# (free ones here), and a busy port is refused before the banner.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Test::Compliance;

my $top = Test::Compliance->repo_root;
my $dir = tempdir('compliance-qs-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# under ./build.sh asan the module needs the sanitizer runtime in nginx
local $ENV{LD_PRELOAD} = $ENV{COMPLIANCE_ASAN_LIB}
    if $ENV{COMPLIANCE_ASAN_LIB};
local $ENV{ASAN_OPTIONS} = $ENV{ASAN_OPTIONS}
    // 'detect_leaks=0:abort_on_error=0';

# the README tour on free ports: PORT_HTTP, PORT_HTTPS and PORT_UPSTREAM
# move the quickstart's 8080, 8443 and 8081
my $t = Test::Compliance->new;
my %env = (PORT_HTTPS => $t->port(0), PORT_HTTP => $t->port(1),
           PORT_UPSTREAM => $t->port(2));
my $env = join ' ', map { "$_=$env{$_}" } sort keys %env;

my $out = `$env $top/examples/run-quickstart.sh --check $top $dir 2>&1`;
is($? >> 8, 0, 'quickstart prepared and nginx -t passes') or diag($out);

like($out, qr/^  (ck_[a-z2-7]{12}_[A-Za-z0-9_-]{43})$/m, 'a demo API key');
like($out, qr/^  eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/m,
     'a demo JWT');
like($out, qr/curl -ki https:\/\/127\.0\.0\.1:$env{PORT_HTTPS}\/api\/orders -H/,
     'ready-to-paste curl lines, on the ports asked for');
like($out, qr{301 to https://localhost:$env{PORT_HTTPS}/api/orders\?page=2},
     '... and the redirect target with the HTTPS port');

ok(-f "$dir/api-keys.txt" && !((stat "$dir/api-keys.txt")[2] & 0007),
   'the key file is not readable by others');
my ($key) = $out =~ /^  (ck_\S+)$/m;
unlike(`cat $dir/api-keys.txt`, qr/\Q$key\E/,
       'the key file holds no key, only its hash');

# --- a port in use stops the runner before its banner, naming the
# port and the variable that moves it
{
    my $busy = IO::Socket::INET->new(LocalAddr => '127.0.0.1:0',
        Proto => 'tcp', Listen => 1) or die "listen: $!";
    my $p = $busy->sockport;
    my $d2 = tempdir('compliance-qs-XXXXXX', TMPDIR => 1, CLEANUP => 1);

    my $o = `PORT_HTTP=$p $top/examples/run-quickstart.sh --check $top $d2 2>&1`;
    isnt($? >> 8, 0, 'a busy PORT_HTTP: the runner fails');
    like($o, qr/^run-quickstart\.sh: 127\.0\.0\.1:$p \(PORT_HTTP\) cannot be used: Address already in use; .*PORT_HTTP=N \.\/build\.sh run$/m,
         '... saying which port, why, and how to move it') or diag($o);
    unlike($o, qr/quickstart\n|Demo API key/, '... before the banner');
    ok(!-e "$d2/nginx.conf", '... and before preparing anything');

    $o = `PORT_HTTPS=84x3 $top/examples/run-quickstart.sh --check $top $d2 2>&1`;
    like($o, qr/PORT_HTTPS=84x3: not a port number/, 'a bad port number');
}

# --- the README's tour: one record per request, and the demo upstream
# (not the gateway) writes none
my $conf = `cat $dir/nginx.conf`;
(my $directives = $conf) =~ s/#[^\n]*//g;
unlike($directives, qr/\b(?:8443|8080|8081)\b/, 'no default port left');
$conf =~ s/^pid [^;]*;/pid ${\ $t->path("logs\/nginx.pid")};/m;
$conf =~ s/^error_log [^;]*;/error_log ${\ $t->path('logs\/error.log')} info;/m;
$t->write_file('nginx.conf', $conf);

# the prepared files are relative to the quickstart's run directory
for my $f (qw(cert.pem key.pem api-keys.txt jwks.json audit-chain.key)) {
    system('cp', '-p', "$dir/$f", $t->path($f)) == 0 or die "cp $f";
}

my ($jwt) = $out =~ /^  (eyJ\S+)$/m;
$t->forbid_in_logs($key, $jwt);
$t->run;

my @tour = (
    [ https => '/health', [], 200 ],
    [ https => '/api/orders', [], 401 ],
    [ http => '/api/orders?page=2', [], 301 ],
    [ https => '/api/orders', [ [ 'X-API-Key', $key ] ], 200 ],
    [ https => '/api/admin', [ [ 'Authorization', "Bearer $jwt" ] ], 403 ],
);

for my $s (@tour) {
    my ($scheme, $uri, $h, $want) = @$s;
    my $r = $scheme eq 'https'
        ? $t->https(uri => $uri, headers => $h, port => $t->port(0))
        : $t->http(uri => $uri, headers => $h, port => $t->port(1));
    is($r->{status}, $want, "tour: $scheme $uri: $want");
}

$t->stop;

my $bin = $ENV{COMPLIANCE_BIN} || "$top/build/bin";
my $v = `$bin/compliance-audit verify --key ${\ $t->path('audit-chain.key')} ${\ $t->path('audit.jsonl')} 2>&1`;
like($v, qr/^OK 5 records$/m,
     'the trail holds one record per request of the tour, the upstream none');

$t->finish;
