#!/usr/bin/perl
# Workers killed with SIGKILL while they write the chained trail: a
# worker that dies inside the audit mutex (half-way through an append or
# a write()) leaves the shared state half-changed; the next holder cuts
# the partial write off the file and undoes the append, so the trail
# still verifies whole.  30 kills under load, both the buffered and the
# unbuffered writer.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use Test::Compliance;

my $t = Test::Compliance->new;
my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';

plan skip_all => 'wrk not installed' if system('wrk -v >/dev/null 2>&1') == -1;

$t->ignore_log_lines(qr/worker process \d+ exited on signal 9/);
$t->ignore_log_lines(qr/shared memory zone "[^"]+" was locked by \d+/);

my $keyfile = $t->path('chain.key');
system("$bin/compliance-vault genkey $keyfile 2>/dev/null") == 0
    or die "genkey failed";

$t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
worker_processes 2;
events {
}
http {
    %%TEST_GLOBALS_HTTP%%
    access_log off;

    compliance on;
    compliance_audit_chain $keyfile;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        compliance_audit_log %%PREFIX%%/logs/buffered.jsonl buffer=4k;

        location / {
            compliance_public "kill test";
            return 200 "ok\\n";
        }
    }
}
EOF

my $repairs = 0;

for my $mode ('buffered', 'unbuffered') {
    if ($mode eq 'unbuffered') {
        my $c = $t->read_file('nginx.conf');
        $c =~ s{logs/buffered.jsonl buffer=4k}{logs/unbuffered.jsonl};
        $t->write_file('nginx.conf', $c);
    }

    my $off = $t->log_offset('logs/error.log');
    $t->run;

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        exec 'wrk', '-t1', '-c16', '-d9s', 'http://127.0.0.1:'
            . $t->port(0) . '/' or exit 127;
    }

    sleep 0.5;

    my $kills = 0;
    for (1 .. 30) {
        my @w = $t->worker_pids;
        if (@w) {
            kill 'KILL', $w[rand @w];
            $kills++;
        }
        sleep 0.25;
    }

    waitpid $pid, 0;
    $t->wait_for(sub { $t->worker_pids >= 2 }, timeout => 10);
    $t->stop;

    is($kills, 30, "$mode: 30 workers killed under load");

    my $file = $t->path("logs/$mode.jsonl");
    my $out = `$bin/compliance-audit verify --key $keyfile $file 2>&1`;
    is($? >> 8, 0, "$mode: the trail verifies after the kills") or diag($out);
    like($out, qr/^OK \d+ records/m, "$mode: $out" =~ s/\n//r);

    my $log = $t->error_log($off);
    my $n = () = $log =~ /compliance audit: process \d+ died (?:writing|appending)/g;
    $repairs += $n;
    note("$mode: $n repairs after a kill inside the audit mutex");
}

note("repairs in all: $repairs");

$t->finish;
