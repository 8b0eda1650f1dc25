#!/usr/bin/perl
# ./build.sh deb (SPEC §17, issue 13): the package holds every expected
# path and nothing else, depends on the exact nginx ABI, enables the module
# through dh_nginx's maintainer scripts, and, extracted into a temporary
# directory (never installed), works: nginx loads the module through the
# package's modules-available snippet and enforces, the CLIs run and each
# has a man page naming every option of its --help, and the package's
# logrotate file, run by logrotate against a live trail, renames it and
# signals nginx so that the rotated series verifies with the command the
# docs give.  The package is rebuilt only when a source is newer than it.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Find ();
use File::Temp qw(tempdir);
use Test::More;
use Test::Compliance;

my $top = Test::Compliance::repo_root();

sub have {
    my ($cmd) = @_;
    return system('sh', '-c', "command -v $cmd >/dev/null 2>&1") == 0;
}

plan skip_all => 'dpkg-deb is not installed (the .deb cannot be read)'
    unless have('dpkg-deb');

my $pkg = 'libnginx-mod-http-compliance';
my $so = 'ngx_http_compliance_module.so';

open my $vh, '<', "$top/ngx_compliance_module/core/compliance_version.h"
    or die "compliance_version.h: $!";
my ($version) = join('', <$vh>) =~ /#define COMPLIANCE_VERSION\s+"([^"]+)"/;
close $vh;
die "no COMPLIANCE_VERSION\n" unless $version;

chomp(my $arch = `dpkg --print-architecture`);
my $deb = "$top/build/deb/${pkg}_${version}_${arch}.deb";

my @tools = map { m{/(compliance-[a-z]+)\.c$} ? $1 : () }
    glob("$top/tools/compliance-*.c");
my @docs = map { m{/([^/]+\.md)$} } glob("$top/docs/*.md");
my @examples = map { m{/([^/]+\.conf)$} } glob("$top/examples/*.conf");
push @examples, map { m{/([^/]+\.schema\.json)$} }
    glob("$top/examples/*.schema.json");

# the newest file the package is made from
sub newest_source {
    my $newest = 0;

    File::Find::find({ no_chdir => 1, wanted => sub {
        return unless -f $_;
        my $m = (stat _)[9];
        $newest = $m if $m > $newest;
    } }, grep { -e } map { "$top/$_" }
        qw(config Makefile.core README.md build.sh debian docs examples
           ngx_compliance_module tools));

    return $newest;
}

if (-f $deb && (stat $deb)[9] > newest_source()) {
    pass("build/deb/${pkg}_${version}_${arch}.deb is newer than its "
         . "sources: reused");

} else {
    # niced: other test files may be timing requests meanwhile
    my $out = `cd '$top' && nice -n 10 ./build.sh deb 2>&1`;
    is($? >> 8, 0, './build.sh deb succeeded') or diag($out);
}

ok(-f $deb, "built build/deb/${pkg}_${version}_${arch}.deb")
    or BAIL_OUT('no package');


# --- contents --------------------------------------------------------------

my %entry;
for my $line (split /\n/, `dpkg-deb -c '$deb'`) {
    my ($mode, $owner, $path) =
        $line =~ m{^(\S+)\s+(\S+)\s+\d+\s+\S+\s+\S+\s+\./(\S*)};
    next unless defined $path;
    $path =~ s{/$}{};
    $entry{"/$path"} = { mode => $mode, owner => $owner } if length $path;
}

my $doc = "/usr/share/doc/$pkg";
my %want = (
    "/usr/lib/nginx/modules/$so"                          => '-rw-r--r--',
    '/usr/share/nginx/modules-available/mod-http-compliance.conf'
                                                          => '-rw-r--r--',
    '/etc/logrotate.d/nginx-compliance'                   => '-rw-r--r--',
    "$doc/README.md"                                      => '-rw-r--r--',
    "$doc/copyright"                                      => '-rw-r--r--',
    "$doc/changelog.gz"                                   => '-rw-r--r--',
    (map { ("/usr/bin/$_" => '-rwxr-xr-x',
            "/usr/share/man/man1/$_.1.gz" => '-rw-r--r--') } @tools),
    (map { ("$doc/docs/$_" => '-rw-r--r--') } @docs),
    (map { ("$doc/examples/$_" => '-rw-r--r--') } @examples),
);

ok(@tools >= 3, 'the CLIs of Makefile.core: ' . join(' ', @tools));

for my $p (sort keys %want) {
    my $e = $entry{$p};
    ok($e && $e->{mode} eq $want{$p} && $e->{owner} eq 'root/root',
       "$p ($want{$p} root/root)")
        or diag($e ? "$e->{mode} $e->{owner}" : 'missing');
}

# every file is one of the above; directories only on their way
my %dirs;
for my $p (keys %want) {
    $dirs{$p} = 1 while $p =~ s{/[^/]+$}{} && length $p;
}
my @stray = grep { !$want{$_} && !$dirs{$_} } sort keys %entry;
is_deeply(\@stray, [], 'nothing else in the package') or diag("@stray");


# --- control fields and maintainer scripts ---------------------------------

sub field {
    my ($f) = @_;
    chomp(my $v = `dpkg-deb -f '$deb' $f`);
    return $v;
}

is(field('Package'), $pkg, "Package: $pkg");
is(field('Version'), $version, "Version: $version (compliance_version.h)");
is(field('Architecture'), $arch, "Architecture: $arch");

my $abi = 'nginx-abi-1.22.1-7';
my $subst = '/usr/share/nginx/src/debian/libnginx-mod.abisubstvars';
if (open my $fh, '<', $subst) {
    for (<$fh>) { $abi = $1 if /^nginx:abi=(\S+)/ }
    close $fh;
}
my @depends = split /\s*,\s*/, field('Depends');
ok((grep { $_ eq $abi } @depends), "Depends: $abi (nginx-dev's ABI)")
    or diag(field('Depends'));
for my $lib (qw(libjansson4 libpcre2-8-0 libssl3)) {
    ok((grep { /^\Q$lib\E\b/ } @depends), "Depends: $lib (shlibs)");
}

my $ctl = tempdir('compliance-deb-ctl-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
system('dpkg-deb', '-e', $deb, $ctl) == 0 or die "dpkg-deb -e failed\n";

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return '';
    local $/;
    return scalar <$fh>;
}

my $link = 'mod-http-compliance.conf:90-mod-http-compliance.conf';
like(slurp("$ctl/postinst"), qr/for confpair in \Q$link\E /,
     'postinst enables the snippet as modules-enabled/90-...');
my $ln = qr{ln -sf /usr/share/nginx/modules-available/\$from \\\n\s*};
like(slurp("$ctl/postinst"), qr{$ln/etc/nginx/modules-enabled/\$to\n},
     'by a symlink from modules-available (dh_nginx)');
like(slurp("$ctl/postinst"), qr/dpkg-trigger --no-await nginx-reload/,
     'and has nginx reloaded');
like(slurp("$ctl/prerm"), qr/\Q$link\E.*\$to\.removed/s,
     'prerm (remove) sets the link aside');
like(slurp("$ctl/postrm"), qr/"purge".*\Q$link\E.*rm /s,
     'postrm (purge) deletes it');
is(slurp("$ctl/conffiles"), "/etc/logrotate.d/nginx-compliance\n",
   'the logrotate file is a conffile');


# --- the extracted package -------------------------------------------------

my $x = tempdir('compliance-deb-x-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
system('dpkg-deb', '-x', $deb, $x) == 0 or die "dpkg-deb -x failed\n";
chmod 0755, $x;

my $snippet = "$x/usr/share/nginx/modules-available/mod-http-compliance.conf";
is(slurp($snippet), "load_module modules/$so;\n",
   'modules-available snippet: load_module modules/' . $so);

for my $tool (@tools) {
    my $out = `'$x/usr/bin/$tool' --version 2>&1`;
    is($? >> 8, 0, "$tool --version exits 0");
    is($out, "$tool (ngx_http_compliance_module) $version\n",
       "$tool --version prints its name and $version");

    my $help = `'$x/usr/bin/$tool' --help 2>&1`;
    my $man = `gzip -dc '$x/usr/share/man/man1/$tool.1.gz'`;
    my %opt = map { $_ => 1 } $help =~ /(--[a-z][a-z-]*)/g;
    my @missing = grep { (my $m = $_) =~ s/-/\\-/g; index($man, $m) < 0 }
        sort keys %opt;
    ok(keys %opt && !@missing,
       "$tool.1 names every option of --help (" . join(' ', sort keys %opt)
       . ')') or diag("missing: @missing");
    (my $th = uc $tool) =~ s/-/\\-/g;
    like($man, qr/^\.TH \Q$th\E 1 .*\Q$version\E/m,
         "$tool.1 is section 1 of version $version");
    # the commands: the lowercase words of the usage lines, outside
    # [optional] and (comment) groups and option arguments
    my %cmd;
    for my $u ($help =~ /^(?:usage:)?\s*\Q$tool\E (.*)$/mg) {
        $u =~ s/\[[^\]]*\]|\([^)]*\)//g;
        $u =~ s/--[a-z-]+(?: [A-Z][A-Z0-9]*)?//g;
        $cmd{$_} = 1 for grep { /^[a-z]+$/ } split ' ', $u;
    }
    (my $mtool = $tool) =~ s/-/\\\\-/g;
    for my $c (sort keys %cmd) {
        like($man, qr/^\.(?:B|BI|SS) (?:$mtool )?\Q$c\E\b/m,
             "$tool.1 documents the command $c");
    }

    SKIP: {
        skip 'groff is not installed', 1 unless have('groff');
        my $w = `gzip -dc '$x/usr/share/man/man1/$tool.1.gz' \\
                 | groff -man -ww -z -Tutf8 2>&1`;
        is($w, '', "$tool.1 formats without a warning");
    }
}

SKIP: {
    skip 'readelf is not installed', scalar @tools unless have('readelf');
    for my $tool (@tools) {
        my $elf = `readelf -d -l '$x/usr/bin/$tool' 2>&1`;
        ok($elf =~ /GNU_RELRO/ && $elf =~ /BIND_NOW|FLAGS.*\bNOW\b/,
           "$tool is linked with relro and now (dpkg-buildflags)");
    }
}


# --- the logrotate file ----------------------------------------------------

my $rot = slurp("$x/etc/logrotate.d/nginx-compliance");
my ($stanza) = $rot =~ m{^(/var/log/nginx/audit\.jsonl \{\n.*?^\})}ms;
ok($stanza, 'logrotate: one stanza for /var/log/nginx/audit.jsonl')
    or diag($rot);
$stanza //= '';
like($stanza, qr/^\s*monthly$/m, 'monthly');
like($stanza, qr/^\s*rotate 13$/m, 'rotate 13 (13 months of trail)');
like($stanza, qr/^\s*nocompress$/m,
     'nocompress (compliance-audit verify reads plain files)');
like($stanza, qr/^\s*nocopytruncate$/m, 'nocopytruncate: renamed');
unlike($stanza, qr/^\s*(?:copytruncate|compress|delaycompress)\b/m,
       'no copytruncate, no compression');
like($stanza, qr/^\s*nodateext$/m, 'nodateext: audit.jsonl.1 .. .13');
my $ssd = qr{start-stop-daemon --stop --signal USR1 --quiet \\\n\s*}
    . qr{--pidfile /run/nginx\.pid --name nginx \|\| true\n};
like($stanza, qr{^\s*postrotate\n\s*$ssd\s*endscript$}m,
     'postrotate sends USR1 to the nginx master');

my $flags = slurp('/usr/share/nginx/src/conf_flags');
SKIP: {
    skip 'no /usr/share/nginx/src/conf_flags', 1 unless $flags;
    like($flags, qr{--pid-path=/run/nginx\.pid\b},
         "/run/nginx.pid is Debian nginx's pid file");
}

SKIP: {
    skip 'logrotate is not installed', 1 unless have('logrotate');
    my $dry = `logrotate -d -s /dev/null \\
               '$x/etc/logrotate.d/nginx-compliance' 2>&1`;
    unlike($dry, qr/^error:/m, 'logrotate -d parses the file')
        or diag($dry);
}


# --- nginx with the extracted module, the CLIs, a rotated trail -------------

my $t = Test::Compliance->new(no_module => 1);
my $p = $t->prefix;

# "modules/" of the snippet is relative to the prefix, as in Debian
# (/usr/share/nginx/modules -> /usr/lib/nginx/modules)
symlink("$x/usr/lib/nginx/modules", "$p/modules") or die "symlink: $!";

my $out = `'$x/usr/bin/compliance-vault' genkey '$p/chain.key' 2>&1`;
is($? >> 8, 0, 'compliance-vault genkey (extracted)') or diag($out);

chomp(my $key = `'$x/usr/bin/compliance-keygen' --file '$p/api-keys.txt' \\
                 --principal deb-test --scopes orders:read`);
is($? >> 8, 0, 'compliance-keygen (extracted) made a key');
like($key, qr/^ck_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/, 'an API key');
$t->forbid_in_logs($key);

my $conf = <<"EOF";
include $snippet;
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance_audit_log %%PREFIX%%/logs/audit.jsonl;
    compliance_audit_chain %%PREFIX%%/chain.key;
    compliance_api_keys %%PREFIX%%/api-keys.txt;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        compliance on;
        location = /health {
            compliance_public "deb test probe";
            return 200 "ok\\n";
        }
        location / {
            compliance_require_scope orders:read;
            return 200 "orders\\n";
        }
    }
}
EOF

$t->config_accepted($conf, 'nginx -t with the extracted module');
$t->write_config($conf);
$t->run;

my $audit = $t->path('logs/audit.jsonl');

sub lines {
    my ($f) = @_;
    my $n = () = slurp($f) =~ /\n/g;
    return $n;
}

is($t->http(uri => '/health')->{status}, 200, 'public location: 200');
is($t->http(uri => '/orders')->{status}, 401, 'deny by default: 401');
is($t->http(uri => '/orders', headers => [ [ 'X-API-Key', $key ] ])
   ->{status}, 200, 'the key made by the packaged keygen: 200');
ok($t->wait_for(sub { lines($audit) == 3 }), 'three audit records');

# the package's rotation, pointed at this nginx: the path and the pid
# file are the only changes (and the owner of "create" when not root)
my $local = $stanza;
$local =~ s{^/var/log/nginx/audit\.jsonl}{$audit}m;
$local =~ s{/run/nginx\.pid}{$p/logs/nginx.pid};
$local =~ s{^(\s*create \d+) \S+ \S+$}{$1}m
    if $> != 0 || !getpwnam('www-data') || !getgrnam('adm');
my $lr = $t->write_file('logrotate.conf', "$local\n");

sub rotate {
    my ($n) = @_;

    my $before = () = $t->error_log =~ /reopening logs/g;
    my $want = $before + 1 + scalar(() = $t->worker_pids);
    my $out = `logrotate -f -s '$p/logrotate.state' '$lr' 2>&1`;
    is($? >> 8, 0, "logrotate run $n") or diag($out);
    ok($t->wait_for(sub {
        (() = $t->error_log =~ /reopening logs/g) >= $want }),
       "rotation $n: nginx got USR1 and reopened (master and workers)");
}

SKIP: {
    skip 'logrotate is not installed', 13 unless have('logrotate');

    rotate(1);
    ok(-f "$audit.1" && lines("$audit.1") == 3, 'audit.jsonl.1: 3 records');
    is($t->http(uri => '/health')->{status}, 200, 'a request after it');
    ok($t->wait_for(sub { lines($audit) == 1 }),
       'its record is in the new audit.jsonl');

    rotate(2);
    is($t->http(uri => '/health')->{status}, 200, 'and after the second');
    ok($t->wait_for(sub { lines($audit) == 1 }), 'one record again');
    ok(lines("$audit.2") == 3 && lines("$audit.1") == 1,
       'audit.jsonl.2 (3), audit.jsonl.1 (1), audit.jsonl (1)');
    is_deeply([ glob("$audit*.gz") ], [], 'nothing compressed');

    # the command of the man page and docs/packaging.md
    my $v = `cd '$p/logs' && '$x/usr/bin/compliance-audit' verify \\
             --key '$p/chain.key' --checkpoints error.log \\
             \$(ls -v audit.jsonl.* | tac) audit.jsonl 2>&1`;
    is($? >> 8, 0, 'verify --key K $(ls -v audit.jsonl.* | tac) '
       . 'audit.jsonl') or diag($v);
    is($v, "OK 5 records in 3 files\n", 'OK 5 records in 3 files');
}

$t->finish;
