#!/usr/bin/perl
# compliance_audit_chain: HMAC chain over the records, compliance-audit
# verify catching every tamper class; rotation (rename + USR1) during
# traffic loses no record; a restart continues the chain.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;

my $t = Test::Compliance->new;
my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';
my $audit = "$bin/compliance-audit";

my $keyfile = $t->path('chain.key');
system("$bin/compliance-vault genkey $keyfile 2>/dev/null") == 0
    or die "genkey failed";

$t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;
events {
    accept_mutex off;
}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_audit_log logs/audit.jsonl buffer=16k flush=200ms;
    compliance_audit_chain $keyfile;

    server {
        listen 127.0.0.1:%%PORT_0%% reuseport;

        location / {
            compliance_public "chain test";
            return 200 "ok\\n";
        }
    }
}
EOF

$t->run;

sub traffic {
    my ($conns, $per) = @_;
    my @kids;
    for my $c (1 .. $conns) {
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my $rs = $t->keepalive(
                requests => [ map { { uri => "/r/$c/$_" } } 1 .. $per ]);
            exit(scalar(grep { ($_->{status} // 0) == 200 } @$rs) == $per
                 ? 0 : 1);
        }
        push @kids, $pid;
    }
    my $fail = 0;
    for (@kids) { waitpid($_, 0); $fail++ if $? }
    return $fail;
}

sub verify {
    my ($file, @opt) = @_;
    my $out = `$audit verify --key $keyfile @opt $file 2>&1`;
    return ($? >> 8, $out);
}

is(traffic(4, 100), 0, '400 requests over 2 workers');

# the flush timer writes the buffer out
my $file = $t->path('logs/audit.jsonl');
$t->wait_for(sub { (() = ($t->read_file('logs/audit.jsonl') // '') =~ /\n/g)
                   >= 400 }, timeout => 5);

my ($rc, $out) = verify($file);
is($rc, 0, 'untouched trail verifies');
is($out, "OK 400 records\n", 'OK <n> records');

my @lines = split /^/m, $t->read_file('logs/audit.jsonl');
like($lines[0], qr/"seq":1,"chain":"[0-9a-f]{64}"\}\n$/,
     'seq and chain close each record');

sub tampered {
    my ($name, @l) = @_;
    my $f = $t->write_file("tamper-$name.jsonl", join('', @l));
    my ($rc, $out) = verify($f);
    isnt($rc, 0, "detected: $name");
    like($out, qr/line \d+/, "names the line: $name");
    return $out;
}

my @l = @lines;
$l[10] =~ s/"status":200/"status":201/;
like(tampered('byte-changed', @l), qr/line 11/, 'the changed line is named');

@l = @lines;
splice(@l, 20, 1);
tampered('line-deleted', @l);

@l = @lines;
splice(@l, 30, 0, $lines[30]);
tampered('line-duplicated', @l);

@l = @lines;
@l[40, 41] = @l[41, 40];
tampered('lines-swapped', @l);

@l = @lines;
my $forged = $lines[50];
$forged =~ s/"path":"[^"]*"/"path":"\/forged"/;
splice(@l, 50, 0, $forged);
tampered('line-inserted', @l);

@l = @lines;
$l[5] =~ s/("chain":")[0-9a-f]/${1}0/;
$l[5] =~ s/("chain":")00/${1}11/ if $l[5] eq $lines[5];
tampered('chain-field-changed', @l) unless $l[5] eq $lines[5];

# a different key is detected at the first line
my $other = $t->path('other.key');
system("$bin/compliance-vault genkey $other 2>/dev/null");
$out = `$audit verify --key $other $file 2>&1`;
isnt($? >> 8, 0, 'wrong key refused');

# --- rotation: rename + USR1 during traffic loses no record
my $stop = $t->path('stop-traffic');
my $count = $t->path('count-');
my @kids;
for my $c (1 .. 4) {
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my $ok = 0;
        until (-e $stop) {
            my $rs = $t->keepalive(
                requests => [ map { { uri => "/rot/$c/$_" } } 1 .. 20 ]);
            $ok += grep { ($_->{status} // 0) == 200 } @$rs;
        }
        $t->write_file("count-$c", $ok);
        exit 0;
    }
    push @kids, $pid;
}

select(undef, undef, undef, 0.5);
rename($file, "$file.1") or die "rename: $!";
$t->reopen;
select(undef, undef, undef, 0.5);
$t->write_file('stop-traffic', '1');
waitpid($_, 0) for @kids;

my $answered = 0;
$answered += $t->read_file("count-$_") for 1 .. 4;
cmp_ok($answered, '>', 100, "traffic during the rotation ($answered)");

$t->stop;

my $old = $t->read_file('logs/audit.jsonl.1');
my $new = $t->read_file('logs/audit.jsonl') // '';
my $n_old = () = $old =~ /\n/g;
my $n_new = () = $new =~ /\n/g;
is($n_old + $n_new, 400 + $answered, 'no record lost across the rotation');
ok($n_new > 0, 'the new file received records');

($rc, $out) = verify("$file.1");
is($rc, 0, 'rotated file verifies') or diag($out);

my ($last_chain) = (split /\n/, $old)[-1] =~ /"chain":"([0-9a-f]{64})"/;
($rc, $out) = verify($file, '--prev', $last_chain);
is($rc, 0, 'the new file continues the chain of the old one') or diag($out);

# --- a restart continues the chain from the file's last record
my ($last_seq) = (split /\n/, $new)[-1] =~ /"seq":(\d+)/;
$t->run;
$t->http(uri => '/after-restart');
$t->stop;

my @after = split /\n/, $t->read_file('logs/audit.jsonl');
my ($seq) = $after[-1] =~ /"seq":(\d+)/;
is($seq, $last_seq + 1, 'seq continues after a restart');
($rc, $out) = verify($file, '--prev', $last_chain);
is($rc, 0, 'chain continues after a restart') or diag($out);

# --- truncating the tail is only visible against the checkpoints
my @ck = $t->error_log =~ /compliance audit checkpoint seq=(\d+)/g;
ok(@ck >= 2, 'checkpoints in error.log');
is($ck[-1], $seq, 'the last checkpoint names the last record');

my @cur = split /^/m, $t->read_file('logs/audit.jsonl');
my $cut = $t->write_file('tail-cut.jsonl', join('', @cur[0 .. $#cur - 1]));
($rc, $out) = verify($cut, '--prev', $last_chain);
is($rc, 0, 'a truncated tail alone still verifies (documented limit)');
($rc, $out) = verify($cut, '--prev', $last_chain, '--checkpoints',
                     $t->path('logs/error.log'));
isnt($rc, 0, 'checkpoints reveal the truncated tail');

# --- a reload that changes buffer= keeps one chain (the zone is reused)
my $conf = $t->read_file('nginx.conf');
$t->run;
$t->http(uri => "/before-resize/$_") for 1 .. 20;
(my $bigger = $conf) =~ s/buffer=16k/buffer=64k/;
$t->write_file('nginx.conf', $bigger);
$t->reload;
$t->http(uri => "/after-resize/$_") for 1 .. 20;
$t->stop;

($rc, $out) = verify($file, '--prev', $last_chain);
is($rc, 0, 'one chain across a reload that resizes the buffer')
    or diag($out);
like($t->read_file('logs/audit.jsonl'), qr/after-resize\/20/,
     'records after the resize are there');

# --- summary
$out = `$audit summary $file.1 2>&1`;
is($? >> 8, 0, 'summary runs');
like($out, qr/request/, 'summary counts events');

$t->finish;
