#!/usr/bin/perl
# Vault entry ages (issue 19, SPEC 16): compliance-vault list shows when
# each secret was created and how old it is, "set --created" imports a
# secret with its real date, the same secret set again keeps its age,
# version 1 vault files stay readable with ages unknown; max_age= on
# compliance_vault, the posture gap vault_age, and the run-time alert
# records credential_too_old and credential_age_unknown.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Copy qw(copy);
use JSON::PP ();
use POSIX qw(strftime);
use Test::Compliance;
use Test::ComplianceVault ();

my $t = Test::Compliance->new;
my $p = $t->prefix;

my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';
my $VAULT = "$bin/compliance-vault";

plan skip_all => "no $VAULT (run ./build.sh)" unless -x $VAULT;

sub run_cli { Test::ComplianceVault::run_cli($t, @_) }

# vault($file, $key, $stdin, @args)
sub vault {
    my ($file, $key, $stdin, @args) = @_;

    return run_cli($stdin, $VAULT, '--vault', "$p/$file", '--key',
                   "$p/$key", @args);
}

sub day { strftime('%Y-%m-%d', gmtime(time - $_[0] * 86400)) }

my $today = day(0);
my $d200 = day(200);

my ($rc, $out);

# --- compliance-vault: created dates and ages

($rc, $out) = run_cli('', $VAULT, 'genkey', "$p/vault.key");
is($rc, 0, 'genkey') or diag($out);

($rc, $out) = vault('vault.bin', 'vault.key', 'fresh-secret-1', 'set',
                    'fresh-api');
is($rc, 0, 'set a new entry') or diag($out);
like($out, qr/created ${today}T\d\d:\d\d:\d\dZ/, 'set says when it was created');

($rc, $out) = vault('vault.bin', 'vault.key', 'old-secret-1', 'set',
                    '--created', $d200, 'old-api');
is($rc, 0, 'set --created DATE') or diag($out);
like($out, qr/created ${d200}T00:00:00Z/, 'set --created: the date given');

($rc, $out) = vault('vault.bin', 'vault.key', undef, 'list');
is($rc, 0, 'list');
like($out, qr/\ANAME\tCREATED\tAGE\n(?x)
                fresh-api\t${today}T\d\d:\d\d:\d\dZ\t0d\n
                old-api\t${d200}T00:00:00Z\t200d\n\z/,
     'list: NAME CREATED AGE, ages in whole days');

# the same secret again keeps its age; a new one starts a new age
($rc, $out) = vault('vault.bin', 'vault.key', 'old-secret-1', 'set',
                    'old-api');
is($rc, 0, 'set the same secret again') or diag($out);
like($out, qr/created ${d200}T00:00:00Z \(the same secret: its age is kept\)/,
     'the same secret: the age is kept, and set says so');
($rc, $out) = vault('vault.bin', 'vault.key', undef, 'list');
like($out, qr/^old-api\t${d200}T00:00:00Z\t200d$/m,
     'list: the same secret is as old as before');

($rc, $out) = vault('vault.bin', 'vault.key', 'old-secret-2', 'set',
                    'old-api');
($rc, $out) = vault('vault.bin', 'vault.key', undef, 'list');
like($out, qr/^old-api\t${today}T\S+Z\t0d$/m,
     'list: a new secret (a rotation) is created now');

($rc, $out) = vault('vault.bin', 'vault.key', 'old-secret-1', 'set',
                    '--created', $d200, 'old-api');
is($rc, 0, 'set --created over an existing entry');

open my $fh, '<:raw', "$p/vault.bin" or die;
read $fh, my $head, 5;
close $fh;
is(substr($head, 4, 1), chr(2), 'the vault file is of version 2');

# refused dates, and --created where it does not belong
my $future = strftime('%Y-%m-%d', gmtime(time + 3 * 86400));
($rc, $out) = vault('vault.bin', 'vault.key', 'x', 'set', '--created',
                    $future, 'old-api');
is($rc, 2, '--created in the future: usage error');
like($out, qr/--created "\Q$future\E" is in the future/, '... says why');

for my $bad ('2026/01/01', '2026-02-30', '2026-01-01T10:00:00', 'yesterday') {
    ($rc, $out) = vault('vault.bin', 'vault.key', 'x', 'set', '--created',
                        $bad, 'old-api');
    is($rc, 2, "--created \"$bad\": usage error");
    like($out, qr/invalid --created "\Q$bad\E": use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ/,
         "--created \"$bad\": the accepted forms");
}

($rc, $out) = vault('vault.bin', 'vault.key', undef, 'list', '--created',
                    $d200);
is($rc, 2, '--created with list: usage error');
like($out, qr/--created is only for set/, '... says so');

($rc, $out) = vault('vault.bin', 'vault.key', undef, 'list');
like($out, qr/^old-api\t${d200}T00:00:00Z\t200d$/m,
     'refused sets changed nothing');
unlike($out, qr/secret/, 'list prints no secret');

# --- a version 1 vault: readable, ages unknown

my $fix = $t->repo_root . '/t/data/vault-v1';
copy("$fix/v1.vault", "$p/v1.vault") or die "copy: $!";
copy("$fix/v1.key", "$p/v1.key") or die "copy: $!";
chmod 0600, "$p/v1.key", "$p/v1.vault";

($rc, $out) = vault('v1.vault', 'v1.key', undef, 'list');
is($rc, 0, 'version 1 vault: list') or diag($out);
is($out, "NAME\tCREATED\tAGE\nlegacy-api\tunknown\tunknown\n",
   'version 1 vault: the age is unknown');

# the upgrade: old entries stay unknown until dated, new ones are dated
copy("$p/v1.vault", "$p/mixed.vault") or die;
($rc, $out) = vault('mixed.vault', 'v1.key', 'legacy-secret-1', 'set',
                    'legacy-api');
is($rc, 0, 'version 1 vault: set the same secret');
like($out, qr/created unknown \(the same secret, of unknown age: give --created DATE\)/,
     'the same secret of unknown age stays unknown, and set says what to do');
vault('mixed.vault', 'v1.key', 'old-secret-9', 'set', '--created', $d200,
      'old-api');
vault('mixed.vault', 'v1.key', 'fresh-secret-9', 'set', 'fresh-api');
($rc, $out) = vault('mixed.vault', 'v1.key', undef, 'list');
like($out, qr/\ANAME\tCREATED\tAGE\nfresh-api\t${today}T\S+Z\t0d\nlegacy-api\tunknown\tunknown\nold-api\t${d200}T00:00:00Z\t200d\n\z/,
     'written back as version 2: each entry keeps what it knows');

# --- nginx: compliance_vault max_age=

sub conf {
    my (%o) = @_;

    my $vault = $o{vault} // 'compliance_vault vault.bin key=vault.key '
                             . 'max_age=90d;';
    my $http = $o{http} // '';
    my $posture = $o{posture} ? "compliance_posture $o{posture};" : '';

    return <<"EOF";
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    $posture
    $http
    compliance_audit_log $p/logs/audit.jsonl;
    $vault
    server {
        listen 127.0.0.1:%%PORT_8%%;
        location / {
            compliance_public "health check";
            return 200 "ok\\n";
        }
    }
}
EOF
}

sub posture_lines {
    my ($ok, $out) = $t->test_config_text(@_);
    return ($ok, join("\n", grep { /compliance posture: / } split /\n/, $out));
}

# the vault's paths are relative to the configuration's directory
$t->config_accepted(conf(), 'max_age=90d');
$t->config_accepted(conf(vault => 'compliance_vault vault.bin max_age=12h '
                                  . 'key=vault.key;'),
                    'max_age before key=');

my @refused = (
    [ 'max_age=0', qr/invalid max_age "0" in "compliance_vault", it must be a time such as "90d"/ ],
    [ 'max_age=soon', qr/invalid max_age "soon" in "compliance_vault"/ ],
    [ 'rotate=90d', qr/invalid parameter "rotate=90d" in "compliance_vault", it must be "key=file" or "max_age=time"/ ],
);

for my $r (@refused) {
    my ($params, $re) = @$r;
    $t->config_refused(conf(vault => "compliance_vault vault.bin "
                                     . "key=vault.key $params;"),
                       $re, "compliance_vault ... $params");
}

$t->config_refused(conf(vault => 'compliance_vault vault.bin max_age=90d '
                                 . 'max_age=30d;'),
                   qr/invalid parameter "max_age=30d" in "compliance_vault"/,
                   'max_age twice');

$t->config_refused(conf(vault => 'compliance_vault vault.bin max_age=90d;'),
                   qr/"compliance_vault" needs "key=file"/,
                   'max_age without key=');

# --- posture: vault_age

my ($ok, $lines) = posture_lines(conf());
ok($ok, 'vault_age: a gap is a warning, nginx -t passes');
like($lines, qr/\[warn\] .*compliance posture: vault_age: credential "old-api" in the vault "\Q$p\E\/vault\.bin" is 200 day\(s\) old \(created \Q$d200\E\), older than max_age=90d, in (\S+):(\d+)/,
     'vault_age: the entry, its age, its creation date and the policy');
unlike($lines, qr/vault_age: credential "fresh-api"/,
       'vault_age: a young entry is no gap');
{
    my ($file, $line) = $lines =~ /vault_age: .* in (\S+):(\d+)$/m;
    my @conf = split /\n/, ($t->read_file($file =~ s/^\Q$p\E\///r) // '');
    like($conf[$line - 1] // '', qr/^\s*compliance_vault /,
         'vault_age: names the line of compliance_vault');
}

($ok, $lines) = posture_lines(conf(vault => 'compliance_vault vault.bin '
                                            . 'key=vault.key;'));
unlike($lines, qr/vault_age/, 'without max_age: no vault_age check');

($ok, $lines) = posture_lines(conf(vault => 'compliance_vault vault.bin '
                                            . 'key=vault.key max_age=365d;'));
unlike($lines, qr/vault_age/, 'every entry within max_age: no gap');

($ok, $lines) = posture_lines(conf(vault => 'compliance_vault v1.vault '
                                            . 'key=v1.key max_age=90d;'));
ok($ok, 'a version 1 vault loads');
like($lines, qr/vault_age: credential "legacy-api" in the vault "\S+v1\.vault" has no creation time, its age is unknown \(max_age=90d\)/,
     'vault_age: an entry of unknown age is a gap');

($ok, $lines) = posture_lines(conf(http => 'compliance_posture_waive '
                                   . 'vault_age "rotated by the provider";'));
like($lines, qr/\[notice\] .*vault_age: waived \("rotated by the provider"\): credential "old-api"/,
     'vault_age: waived in the http block, with the reason');

($ok, $lines) = posture_lines(conf(posture => 'strict'));
ok(!$ok, 'vault_age under compliance_posture strict: nginx -t fails');
like($lines, qr/\[emerg\] .*compliance posture: vault_age: /,
     'strict: vault_age is an [emerg]');

# --- at run time: the daily alert records

$t->write_config(conf(vault => 'compliance_vault mixed.vault key=v1.key '
                               . 'max_age=90d;'));
$t->run;

my $json = JSON::PP->new;

sub alerts {
    my @r;
    for my $l (split /\n/, $t->read_file('logs/audit.jsonl') // '') {
        my $rec = eval { $json->decode($l) } or next;
        push @r, $rec if ($rec->{event} // '') eq 'alert';
    }
    return @r;
}

ok($t->wait_for(sub { my @a = alerts(); @a >= 2 }, timeout => 10),
   'the first run writes its alert records shortly after start');

my @a = alerts();
my ($old) = grep { $_->{reason} eq 'credential_too_old' } @a;
my ($unk) = grep { $_->{reason} eq 'credential_age_unknown' } @a;

is(scalar(@a), 2, 'two alerts: one too old, one of unknown age');
ok($old, 'credential_too_old') or diag(explain(\@a));
is($old->{credential_id}, 'old-api', 'credential_too_old: credential_id');
is($old->{created}, "${d200}T00:00:00Z", 'credential_too_old: created');
cmp_ok($old->{age_seconds}, '>=', 200 * 86400,
       'credential_too_old: age_seconds');
is($old->{max_age_seconds}, 90 * 86400, 'credential_too_old: max_age_seconds');
is($old->{severity}, 'high', 'credential_too_old: severity high');
ok($old->{audit}, 'credential_too_old: audit true');
ok(!defined $old->{request_id}, 'a run-time alert has no request');

ok($unk, 'credential_age_unknown') or diag(explain(\@a));
is($unk->{credential_id}, 'legacy-api', 'credential_age_unknown: credential_id');
ok(exists $unk->{created} && !defined $unk->{created},
   'credential_age_unknown: created null');
is($unk->{severity}, 'warning', 'credential_age_unknown: severity warning');

my $log = $t->error_log;
like($log, qr/\[warn\] .*compliance check: credential "old-api" in the vault "\S+mixed\.vault" is 200 day\(s\) old, older than max_age=90d/,
     'error.log: the credential that is too old');
like($log, qr/\[warn\] .*compliance check: credential "legacy-api" .* has no creation time/,
     'error.log: the credential of unknown age');

my $trail = $t->read_file('logs/audit.jsonl');
for my $s ('old-secret-9', 'legacy-secret-1', 'fresh-secret-9') {
    unlike($trail, qr/\Q$s\E/, "no secret in the trail ($s)");
    unlike($log, qr/\Q$s\E/, "no secret in error.log ($s)");
}

$t->finish;
