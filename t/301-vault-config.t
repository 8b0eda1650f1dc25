#!/usr/bin/perl
# compliance_vault and compliance_upstream_credential at config time:
# "nginx -t" refuses a tampered, truncated, wrongly keyed or unknown
# version vault, an unknown credential, a misplaced directive and a bad
# parameter, with a clear message that holds no secret.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceVault ();

my $t = Test::Compliance->new;

my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';
my $VAULT = "$bin/compliance-vault";

plan skip_all => "no $VAULT (run ./build.sh)" unless -x $VAULT;

sub rnd { join '', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. $_[0] }

my %secret = (
    a    => 'sk-conf-A' . rnd(32),
    b    => 'sk-conf-B' . rnd(32),
    crlf => "crlf-" . rnd(16) . "\r\nX-Evil: " . rnd(8),
);

sub run_cli { Test::ComplianceVault::run_cli($t, @_) }

sub vault {
    my ($file, $stdin, @args) = @_;

    my ($rc, $out) = run_cli($stdin, $VAULT, '--vault', $t->path($file),
                             '--key', $t->path('vault.key'), @args);
    die "compliance-vault @args: $out" if $rc;
}

run_cli('', $VAULT, 'genkey', $t->path('vault.key'));
run_cli('', $VAULT, 'genkey', $t->path('other.key'));

vault('vault.bin', $secret{a}, 'set', 'svc-a');
vault('vault.bin', $secret{b}, 'set', 'svc-b');
vault('crlf.bin', $secret{crlf}, 'set', 'svc-crlf');

my @all_out;

sub check {
    my ($http, $loc, %o) = @_;

    $loc //= 'compliance_upstream_credential svc-a;';
    $o{$_} //= '' for qw(main events server public off after);

    my ($ok, $out) = $t->test_config_text(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
$o{main}
events { $o{events} }
http {
    %%TEST_GLOBALS_HTTP%%
    $http
    server {
        listen 127.0.0.1:%%PORT_5%%;
        compliance on;
        $o{server}
        location / {
            $loc
            proxy_pass http://127.0.0.1:%%PORT_6%%;
        }
        location /pub/ {
            compliance_public "public";
            $o{public}
        }
        location /off/ {
            compliance off;
            $o{off}
        }
    }
    $o{after}
}
EOF
    push @all_out, $out;
    note($out) if $ENV{TEST_VERBOSE_NGINX};
    return ($ok, $out);
}

sub refused {
    my ($name, $re, @args) = @_;

    my ($ok, $out) = check(@args);
    ok(!$ok, "refused: $name");
    like($out, $re, "message: $name") or diag($out);
}

my $V = 'compliance_vault vault.bin key=vault.key;';

# --- accepted
my ($ok, $out) = check($V);
ok($ok, 'vault and credential accepted') or diag($out);
unlike($t->without_posture($out), qr/\[warn\]/, 'no warning for a 0600 key file');

($ok, $out) = check('', 'compliance_upstream_credential svc-b '
                    . 'header=X-Upstream-Key "prefix=Token ";',
                    after => "compliance_vault " . $t->path('vault.bin')
                    . ' key=' . $t->path('vault.key') . ';');
ok($ok, 'vault after the server block, absolute paths, all parameters')
    or diag($out);

($ok, $out) = check($V, 'compliance_upstream_credential svc-a;',
                    server => 'location /n/ { compliance_public "n"; }');
ok($ok, 'a nested public location next to a credential');

chmod 0644, $t->path('vault.key');
($ok, $out) = check($V);
ok($ok, 'group/other-readable key file: accepted');
like($out, qr/\[warn\].*key\ file\ ".*vault\.key"\ in\ "compliance_vault"\ is (?x)
              accessible\ by\ group\ or\ others\ \(mode\ 0644\)/,
     'with a warning');
chmod 0600, $t->path('vault.key');

# debug logs print upstream request headers: a warning wherever one is
# in effect for a location that sends a credential
my $dbg = '"compliance_upstream_credential svc-a": the error_log of location '
    . '"/" logs at debug level, which writes the headers of upstream '
    . 'requests, the credential included, in clear';
$dbg = qr/\[warn\].*\Q$dbg\E/;
my $DL = 'error_log %%PREFIX%%/logs/debug.log debug;';

for my $c ([ 'main', $V, undef, main => $DL ],
           [ 'http', $V . $DL ],
           [ 'server', $V, undef, server => $DL ],
           [ 'location', $V, "compliance_upstream_credential svc-a; $DL" ])
{
    my ($level, @args) = @$c;

    ($ok, $out) = check(@args);
    ok($ok, "debug error_log at $level level: accepted") or diag($out);
    like($out, $dbg, "debug error_log at $level level: warning");
}

($ok, $out) = check($V, "compliance_upstream_credential svc-a;\n"
                    . "location /in/ { proxy_pass http://127.0.0.1:1; $DL }");
like($out, qr/the error_log of location "\/in\/" logs at debug/,
     'a nested location that inherits the credential: warning');

($ok, $out) = check($V, undef, public => $DL, off => $DL);
ok($ok, 'debug error_log where no credential is sent: accepted');
unlike($t->without_posture($out), qr/\[warn\]/, 'without a warning');

($ok, $out) = check($V, undef,
                    main => 'error_log %%PREFIX%%/logs/err.log info;');
unlike($t->without_posture($out), qr/\[warn\]/, 'error_log at info: no warning');

($ok, $out) = check($V, undef, events => 'debug_connection 127.0.0.1;');
ok($ok, 'debug_connection: accepted');
like($out, qr/\[warn\].*"debug_connection" writes the headers of upstream/,
     'debug_connection: warning');

($ok, $out) = check('', '', events => 'debug_connection 127.0.0.1;');
unlike($t->without_posture($out), qr/\[warn\]/, 'debug_connection without a vault: no warning');

# --- compliance_upstream_credential
refused('no compliance_vault',
        qr/"compliance_upstream_credential svc-a" needs "compliance_vault" (?x)
           in\ the\ http\ block\ in\ \S+:\d+/, '');
refused('unknown credential',
        qr/"compliance_upstream_credential": no credential "nope" in the (?x)
           vault\ ".*vault\.bin"/,
        $V, 'compliance_upstream_credential nope;');
refused('bad name',
        qr/invalid credential name "bad\/name" in (?x)
           "compliance_upstream_credential"/,
        $V, 'compliance_upstream_credential bad/name;');
refused('header=Host',
        qr/invalid header "Host" in "compliance_upstream_credential": this (?x)
           header\ frames\ the\ message/,
        $V, 'compliance_upstream_credential svc-a header=Host;');
refused('header=Transfer-Encoding',
        qr/invalid header "transfer-encoding"/,
        $V, 'compliance_upstream_credential svc-a header=transfer-encoding;');
refused('header with "_"',
        qr/invalid header "X_Key" in "compliance_upstream_credential": only/,
        $V, 'compliance_upstream_credential svc-a header=X_Key;');
refused('empty header',
        qr/invalid header "" in "compliance_upstream_credential"/,
        $V, 'compliance_upstream_credential svc-a header=;');
refused('unknown parameter',
        qr/invalid parameter "scheme=Bearer" in (?x)
           "compliance_upstream_credential"/,
        $V, 'compliance_upstream_credential svc-a scheme=Bearer;');
refused('header= twice',
        qr/invalid parameter "header=B" in "compliance_upstream_credential"/,
        $V, 'compliance_upstream_credential svc-a header=A header=B;');
refused('control character in prefix',
        qr/invalid prefix in "compliance_upstream_credential": control/,
        $V, "compliance_upstream_credential svc-a \"prefix=a\x01b\";");
refused('duplicate',
        qr/"compliance_upstream_credential" directive is duplicate/,
        $V, 'compliance_upstream_credential svc-a; '
            . 'compliance_upstream_credential svc-b;');
refused('server level',
        qr/"compliance_upstream_credential" directive is not allowed here/,
        $V, '', server => 'compliance_upstream_credential svc-a;');
refused('public location',
        qr/"compliance_upstream_credential svc-a" is not allowed in a (?x)
           public\ location/,
        $V, '', public => 'compliance_upstream_credential svc-a;');
refused('compliance off',
        qr/"compliance_upstream_credential svc-a" needs "compliance on"/,
        $V, '', off => 'compliance_upstream_credential svc-a;');
refused('secret with CR LF',
        qr/credential "svc-crlf" in the vault ".*crlf\.bin" holds control (?x)
           characters\ and\ cannot\ be\ sent\ in\ a\ header/,
        'compliance_vault crlf.bin key=vault.key;',
        'compliance_upstream_credential svc-crlf;');

# --- compliance_vault
refused('no key=',
        qr/invalid parameter "vault\.key" in "compliance_vault", it must be (?x)
           "key=file"/,
        'compliance_vault vault.bin vault.key;');
refused('duplicate vault',
        qr/"compliance_vault" directive is duplicate/, "$V $V");
refused('vault in server',
        qr/"compliance_vault" directive is not allowed here/,
        '', '', server => $V);
refused('missing key file',
        qr/"compliance_vault": cannot open key file ".*nokey"/,
        'compliance_vault vault.bin key=nokey;');

$t->write_file('short.key', "abcdef\n", 0600);
refused('malformed key file',
        qr/"compliance_vault": .*short\.key|"compliance_vault": .*key/,
        'compliance_vault vault.bin key=short.key;');

refused('missing vault file',
        qr/"compliance_vault": cannot open vault file ".*novault\.bin"/,
        'compliance_vault novault.bin key=vault.key;');
refused('wrong key',
        qr/"compliance_vault": .*authentication failed: wrong key or (?x)
           tampered\ file/,
        'compliance_vault vault.bin key=other.key;');

# --- tampered, truncated, unknown version
my $img = $t->read_file('vault.bin');
my $len = length $img;
ok($len > 24 + 16 + 40, "vault image: $len bytes");

my %flip = (
    'magic'            => [ 0, qr/bad magic/ ],
    'version'          => [ 4, qr/unknown version/ ],
    'reserved'         => [ 6, qr/reserved|authentication failed/ ],
    'nonce'            => [ 10, qr/authentication failed/ ],
    'length field'     => [ 23, qr/truncated|trailing bytes|malformed/ ],
    'first ciphertext' => [ 24, qr/authentication failed/ ],
    'mid ciphertext'   => [ 24 + int(($len - 40) / 2),
                            qr/authentication failed/ ],
    'first tag byte'   => [ $len - 16, qr/authentication failed/ ],
    'last tag byte'    => [ $len - 1, qr/authentication failed/ ],
);

my $TV = 'compliance_vault bad.bin key=vault.key;';

for my $what (sort keys %flip) {
    my ($off, $re) = @{ $flip{$what} };
    my $bad = $img;
    substr($bad, $off, 1) = chr(ord(substr($bad, $off, 1)) ^ 0x01);
    $t->write_file('bad.bin', $bad);
    refused("byte flipped: $what (offset $off)",
            qr/\[emerg\].*"compliance_vault": .*$re/, $TV);
}

my $v3 = $img;
substr($v3, 4, 1) = chr(3);
$t->write_file('bad.bin', $v3);
refused('version 3', qr/"compliance_vault": .*unknown version 3/, $TV);

for my $cut (0, 3, 23, 24, 39, $len - 1) {
    $t->write_file('bad.bin', substr($img, 0, $cut));
    refused("truncated to $cut bytes",
            qr/\[emerg\].*"compliance_vault": .*(?:truncated|bad magic)/, $TV);
}

$t->write_file('bad.bin', $img . "x");
refused('a trailing byte', qr/"compliance_vault": .*trailing|authentic/, $TV);

# --- no secret in any message
my $all = join '', @all_out;
for my $k (sort keys %secret) {
    my $s = $secret{$k};
    ok(index($all, $s) < 0, "secret $k in no nginx -t output");
}
ok(index($all, 'X-Evil') < 0, 'no part of the CR LF secret in any output');

$t->finish;
