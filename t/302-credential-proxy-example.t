#!/usr/bin/perl
# examples/credential-proxy.conf, as shipped: it loads, and it does what
# its comments say.  Only the module path, pid/error_log and ports are
# changed for the test prefix (Test::ComplianceExamples); t/062 runs its
# header commands as written.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceExamples qw(example_template);

my $t = Test::Compliance->new;

my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';
my $VAULT = "$bin/compliance-vault";
my $KEYGEN = "$bin/compliance-keygen";

plan skip_all => "no $VAULT (run ./build.sh)" unless -x $VAULT && -x $KEYGEN;

sub run_cli {
    my ($stdin, @args) = @_;

    my $out = $t->path('cli.out');
    my $pid = open(my $fh, '|-');
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>', $out or die;
        open STDERR, '>&', \*STDOUT or die;
        exec @args or die "exec $args[0]: $!";
    }

    print {$fh} $stdin // '';
    close $fh;

    my $rc = $? >> 8;
    my $text = $t->read_file('cli.out') // '';
    die "@args failed: $text" if $rc;

    return $text;
}

sub rnd { join '', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. $_[0] }

my %secret = (pay => 'pay-' . rnd(40), maps => 'maps-' . rnd(40));
my @v = ('--vault', $t->path('vault.bin'), '--key', $t->path('vault.key'));

run_cli('', $VAULT, 'genkey', $t->path('vault.key'));
run_cli($secret{pay}, $VAULT, @v, 'set', 'payments-api');
run_cli($secret{maps}, $VAULT, @v, 'set', 'maps-key');

my ($billing) = run_cli('', $KEYGEN, '--file', $t->path('api-keys.txt'),
    '--principal', 'billing', '--scopes', 'payments:write,maps:read')
    =~ /^(ck_\S+)$/m;
my ($reader) = run_cli('', $KEYGEN, '--file', $t->path('api-keys.txt'),
    '--principal', 'reader', '--scopes', 'maps:read') =~ /^(ck_\S+)$/m;

my $conf = example_template('credential-proxy.conf');

$t->write_config($conf);

my ($ok, $out) = $t->test_config;
ok($ok, 'nginx -t accepts the example') or diag($out);

$t->run;

my $r = $t->http(uri => '/payments/charge',
                 headers => [ [ 'X-API-Key', $billing ] ]);
is($r->{status}, 200, 'payments: authorized');
is($r->{body}, "payments: bearer credential received\n",
   'payments: Bearer credential sent upstream');

$r = $t->http(uri => '/maps/tile',
              headers => [ [ 'Authorization', "ApiKey $reader" ] ]);
is($r->{body}, "maps: api key received\n", 'maps: X-API-Key sent upstream');

$r = $t->http(uri => '/payments/charge',
              headers => [ [ 'X-API-Key', $reader ] ]);
is($r->{status}, 403, 'payments without the scope: 403');

$r = $t->http(uri => '/payments/charge');
is($r->{status}, 401, 'no key: 401');

$r = $t->http(uri => '/health');
is($r->{body}, "ok\n", 'public health check');

$t->stop;

my $logs = join '', map { $t->read_file($_) // '' }
    qw(logs/gateway.log logs/error.log logs/access.log);
ok(index($logs, $secret{pay}) < 0 && index($logs, $secret{maps}) < 0,
   'no secret in the logs');
like($t->read_file('logs/gateway.log'), qr/billing "GET \/payments/,
     'gateway log written');

$t->finish;
