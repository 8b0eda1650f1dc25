#!/usr/bin/perl
# Key-file permissions, one warning for every directive that reads a key
# file: an API-key file and a JWKS that others may read, an audit chain
# key and a vault key that group or others may read, each load with one
# [warn] that names the file, the directive and the real mode digits;
# the same files with tight modes load without a warning.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceAuth qw(apikey_record oct_jwk jwks);

my $t = Test::Compliance->new;

my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';
my $VAULT = "$bin/compliance-vault";

plan skip_all => "no $VAULT (run ./build.sh)" unless -x $VAULT;

sub genkey {
    my ($file) = @_;

    my $out = `'$VAULT' genkey '${\ $t->path($file)}' 2>&1`;
    $? == 0 or die "compliance-vault genkey: exit " . ($? >> 8) . "\n";
}

my (undef, $line) = apikey_record(principal => 'modes');
$t->write_file('keys.txt', $line, 0600);
$t->write_file('jwks.json', jwks(oct_jwk('m' x 32, kid => 'k1')), 0600);

genkey('chain.key');
genkey('vault.key');

open my $in, '|-', "'$VAULT' --vault '" . $t->path('vault.bin')
    . "' --key '" . $t->path('vault.key') . "' set svc >/dev/null 2>&1"
    or die "$VAULT: $!";
print {$in} 'sk-modes-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 24);
close $in or die "compliance-vault set: exit " . ($? >> 8) . "\n";

my $conf = <<'EOF';
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance on;
    compliance_audit_log %%PREFIX%%/logs/audit.jsonl;
    compliance_audit_chain %%PREFIX%%/chain.key;
    compliance_vault %%PREFIX%%/vault.bin key=%%PREFIX%%/vault.key;
    compliance_api_keys %%PREFIX%%/keys.txt;
    compliance_jwt_keys %%PREFIX%%/jwks.json;
    compliance_jwt_algorithms HS256;
    server {
        listen 127.0.0.1:%%PORT_5%%;
        location / {
            compliance_upstream_credential svc;
            proxy_pass http://127.0.0.1:%%PORT_6%%;
        }
    }
}
EOF

my ($ok, $out) = $t->test_config_text($conf);
ok($ok, 'all key files at tight modes: accepted') or diag($out);
unlike($t->without_posture($out), qr/\[warn\]/, 'without a warning');

# [file, directive, mode, who may read it, the fix]
my @cases = (
    [ 'keys.txt',  'compliance_api_keys',    0644, 'others', 'o-rwx' ],
    [ 'keys.txt',  'compliance_api_keys',    0604, 'others', 'o-rwx' ],
    [ 'jwks.json', 'compliance_jwt_keys',    0644, 'others', 'o-rwx' ],
    [ 'jwks.json', 'compliance_jwt_keys',    0606, 'others', 'o-rwx' ],
    [ 'chain.key', 'compliance_audit_chain', 0640, 'group or others', '600' ],
    [ 'chain.key', 'compliance_audit_chain', 0604, 'group or others', '600' ],
    [ 'vault.key', 'compliance_vault',       0640, 'group or others', '600' ],
    [ 'vault.key', 'compliance_vault',       0660, 'group or others', '600' ],
);

for my $c (@cases) {
    my ($file, $dir, $mode, $who, $fix) = @$c;
    my $m = sprintf '%04o', $mode;

    chmod $mode, $t->path($file) or die "chmod $file: $!";
    ($ok, $out) = $t->test_config_text($conf);
    chmod 0600, $t->path($file);

    ok($ok, "$dir, $file mode $m: accepted") or diag($out);

    my @warn = $t->without_posture($out) =~ /^(.*\[warn\].*)$/mg;
    is(scalar @warn, 1, "$dir, $file mode $m: one warning") or diag($out);
    like($warn[0] // '',
         qr/key\ file\ "[^"]*\Q$file\E"\ in\ "\Q$dir\E"\ is\ accessible\ by
            \ \Q$who\E\ \(mode\ \Q$m\E\):\ chmod\ \Q$fix\E\ it/x,
         "$dir, $file mode $m: names file, directive and mode $m");
}

# group-readable is fine for the files nginx's group is meant to read
for my $file (qw(keys.txt jwks.json)) {
    chmod 0640, $t->path($file);
    ($ok, $out) = $t->test_config_text($conf);
    chmod 0600, $t->path($file);
    ok($ok, "$file mode 0640: accepted");
    unlike($t->without_posture($out), qr/\[warn\]/, "$file mode 0640: no warning");
}

$t->finish;
