#!/usr/bin/perl
# Every example runs as its header comment says.  The "$ ..." lines of
# each examples/*.conf header are run in order, in one shell, from a
# stand-in for the top of the source tree (build/ there is the build
# under test); the only change is the ports, moved to free ones in the
# example and in the commands alike.  Before the command that starts
# nginx, the same command with -t must pass quietly; after it every port
# must answer; a curl line must get the status of its "# NNN" comment; a
# reload or reopen must take effect, a quit must stop nginx; the error
# log must stay free of warnings and worse, and nothing may be written
# outside the example's prefix.  (quickstart.conf is `./build.sh run`,
# run by t/060.)

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Select;
use IO::Socket::INET;
use IPC::Open3;
use Symbol qw(gensym);
use Time::HiRes ();
use Test::Compliance;
use Test::ComplianceExamples qw(example_names example_text
                                example_commands example_ports);

plan skip_all => 'curl not available'
    unless system('curl --version >/dev/null 2>&1') == 0;
plan skip_all => 'openssl CLI not available'
    unless Test::Compliance::openssl_available();

my $root = Test::Compliance->repo_root;
my $bin = $ENV{COMPLIANCE_BIN} || "$root/build/bin";
my $nginx = $ENV{NGINX_BIN} || '/usr/sbin/nginx';

# masters the shell started, stopped at the end whatever happens
my %started;

END {
    for my $pid (keys %started) {
        next unless kill 0, $pid;
        kill 'QUIT', $pid;
        for (1 .. 50) { last unless kill 0, $pid; Time::HiRes::sleep(0.1) }
        kill 'KILL', $pid if kill 0, $pid;
    }
}

# --- a shell that keeps its variables from one command to the next
sub shell_start {
    my ($dir) = @_;

    my ($in, $out) = (gensym, gensym);
    my $pid = open3($in, $out, undef, 'bash', '--noprofile', '--norc');

    my $sh = { pid => $pid, in => $in, out => $out, buf => '' };

    my $asan = $ENV{COMPLIANCE_ASAN_LIB}
        ? "LD_PRELOAD='$ENV{COMPLIANCE_ASAN_LIB}' "
          . "ASAN_OPTIONS='${\ ($ENV{ASAN_OPTIONS}
                                // 'detect_leaks=0:abort_on_error=0') }' "
        : '';

    shell_run($sh, <<"EOF");
cd '$dir' || exit 1
nginx() { ${asan}'$nginx' "\$@"; }
curl() { command curl -sS -o /dev/null -w '%{http_code}\\n' --max-time 5 "\$@"; }
EOF

    return $sh;
}

# ($status, $output) of one command; commands never read the test's pipe
sub shell_run {
    my ($sh, $cmd, $timeout) = @_;

    my $mark = '@@' . int(rand(1e9)) . '@@';
    print { $sh->{in} } "{\n$cmd\n} </dev/null 2>&1\necho \"$mark \$?\"\n";
    $sh->{in}->flush;

    my $sel = IO::Select->new($sh->{out});
    my $deadline = Time::HiRes::time() + ($timeout // 30);

    while ($sh->{buf} !~ /\Q$mark\E (\d+)\n/) {
        my $left = $deadline - Time::HiRes::time();
        return (-1, $sh->{buf} . "\n[timed out]") if $left <= 0;
        next unless $sel->can_read($left);
        my $n = sysread($sh->{out}, my $chunk, 65536);
        return (-1, $sh->{buf} . "\n[shell exited]") unless $n;
        $sh->{buf} .= $chunk;
    }

    $sh->{buf} =~ s/^(.*?)\Q$mark\E (\d+)\n//s;

    return ($2, $1);
}

sub shell_stop {
    my ($sh) = @_;

    close $sh->{in};
    waitpid $sh->{pid}, 0;
}

# --- the nginx of a prefix
sub master_of {
    my ($prefix) = @_;

    open my $fh, '<', "$prefix/logs/nginx.pid" or return;
    my ($pid) = (<$fh> // '') =~ /(\d+)/;
    close $fh;

    return $pid && kill(0, $pid) ? $pid : undef;
}

sub workers_of {
    my ($master) = @_;

    my @w;

    opendir my $dh, '/proc' or return;
    for my $p (grep { /^\d+$/ } readdir $dh) {
        open my $fh, '<', "/proc/$p/stat" or next;
        my $s = <$fh> // '';
        close $fh;
        $s =~ s/^.*\) //s;
        my ($state, $ppid) = split ' ', $s;
        push @w, $p if $ppid == $master && $state ne 'Z';
    }
    closedir $dh;

    return sort @w;
}

sub wait_until {
    my ($cond, $secs) = @_;

    my $deadline = Time::HiRes::time() + ($secs // 10);
    while (Time::HiRes::time() < $deadline) {
        return 1 if $cond->();
        Time::HiRes::sleep(0.05);
    }

    return $cond->() ? 1 : 0;
}

sub answers {
    my ($port) = @_;

    return IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                 Timeout => 1) ? 1 : 0;
}

sub count_reopens {
    my ($prefix) = @_;

    open my $fh, '<', "$prefix/logs/error.log" or return 0;
    my $n = () = do { local $/; <$fh> } =~ /reopening logs/g;
    close $fh;

    return $n;
}

# --- one example
sub run_example {
    my ($name) = @_;

    my $t = Test::Compliance->new;
    my $top = $t->prefix;
    my $text = example_text($name);

    my @ports = example_ports($text);
    my %map = map { $ports[$_] => $t->port($_) } 0 .. $#ports;
    my $move = sub {
        (my $s = shift) =~ s{127\.0\.0\.1:(\d+)}
                            {"127.0.0.1:" . ($map{$1} // $1)}ge;
        return $s;
    };

    # the stand-in tree: examples/ with the ports moved, build/ the build
    # under test
    mkdir "$top/examples";
    opendir my $dh, "$root/examples" or die;
    for my $f (grep { !/^\./ } readdir $dh) {
        if ($f =~ /\.conf$/) {
            $t->write_file("examples/$f", $move->(example_text($f)));
        } else {
            symlink "$root/examples/$f", "$top/examples/$f" or die;
        }
    }
    closedir $dh;
    mkdir "$top/build";
    symlink $t->module_path, "$top/build/ngx_http_compliance_module.so"
        or die;
    symlink $bin, "$top/build/bin" or die;

    my @cmds = example_commands($name);
    ok(scalar(grep { $_->{text} =~ /^nginx .*-s quit/ } @cmds) == 1,
       "$name: the header starts, and stops, nginx")
        or return $t->finish(done_testing => 0);

    my ($start) = grep { $_->{text} =~ /^nginx (?!.*-s )/ } @cmds;
    my ($prefix) = $start->{text} =~ /-p (\S+?)\/? /;
    (my $demo = $prefix) =~ s{^.*/}{};
    like($demo, qr/^\Q${\ ($name =~ s|\.conf$||r)}\E-demo$/,
         "$name: its prefix is named after it");
    $prefix = "$top/$prefix";

    # worker_processes as the example says (nginx's "auto": online CPUs)
    my ($wp) = $text =~ /^worker_processes\s+(\w+);/m;
    my $want = !defined $wp ? 1
             : $wp eq 'auto' ? ((`getconf _NPROCESSORS_ONLN` // '') =~ /(\d+)/
                                ? $1 : 1)
             : $wp;

    my $sh = shell_start($top);
    my ($master, @workers, $reopens);

    for my $c (@cmds) {
        my $cmd = $move->($c->{text});
        my $short = (split /\n/, $c->{text})[0];
        my ($rc, $out);

        if ($c == $start) {
            (my $check = $cmd) =~ s/^nginx /nginx -t /;
            ($rc, $out) = shell_run($sh, $check);
            ok($rc == 0 && $out =~ /test is successful/,
               "$name: nginx -t of line $c->{line}") or diag($out);
            # (the posture report's gaps are the posture checks' own
            # business, t/480; an example is not a hardened deployment)
            unlike($t->without_posture($out),
                   qr/\[(?:warn|emerg|alert|crit)\]/,
                   "$name: ... quietly") or diag($out);
        }

        # the workers a reload must replace
        @workers = workers_of($master) if $master;

        ($rc, $out) = shell_run($sh, $cmd);
        is($rc, 0, "$name:$c->{line}: $short") or diag($out);

        for my $want (@{ $c->{output} }) {
            like($out, qr/^\Q$want\E$/m, "$name:$c->{line}: prints $want")
                or diag($out);
        }

        if (defined $c->{expect}) {
            my ($status) = $out =~ /^(\d{3})$/m;
            is($status, $c->{expect}, "$name:$c->{line}: $c->{expect}")
                or diag($out);

        } elsif ($c == $start) {
            ok(wait_until(sub { $master = master_of($prefix) }),
               "$name: nginx runs");
            $started{$master} = 1 if $master;
            ok(wait_until(sub { !grep { !answers($_) } values %map }),
               "$name: every port answers");
            ok(wait_until(sub { my @w = workers_of($master // 0);
                                @w >= $want }),
               "$name: its $want worker(s) run");
            $reopens = count_reopens($prefix);

        } elsif ($cmd =~ /^nginx .*-s reload/) {
            my %old = map { $_ => 1 } @workers;
            ok(wait_until(sub {
                my @now = workers_of($master);
                return @now >= $want && !grep({ $old{$_} } @now)
                    && !grep({ kill 0, $_ } keys %old);
            }), "$name: the reload replaced the workers");

        } elsif ($cmd =~ /^nginx .*-s reopen/) {
            my $want = $reopens + @workers + 1;
            ok(wait_until(sub { count_reopens($prefix) >= $want }),
               "$name: the master and every worker reopened their files");

        } elsif ($cmd =~ /^nginx .*-s quit/) {
            ok(wait_until(sub { !kill 0, $master }), "$name: nginx stopped");
        }
    }

    shell_stop($sh);

    if ($master && kill 0, $master) {
        kill 'TERM', $master;
        wait_until(sub { !kill 0, $master }, 5);
    }

    my $log = $t->without_posture(
        $t->read_file("$prefix/logs/error.log") // '');
    my @bad = grep { /\[(?:warn|emerg|alert|crit)\]/ }
        Test::Compliance::log_problems_in($log), split /\n/, $log;
    ok(!@bad, "$name: no warning or worse in its error log")
        or diag(join "\n", @bad);

    opendir $dh, $top or die;
    my @outside = grep { !/^(?:\.\.?|examples|build|logs|\Q$demo\E)$/ }
        readdir $dh;
    closedir $dh;
    is_deeply(\@outside, [], "$name: wrote only into $demo/");
    ok(-d "$prefix/proxy_temp", "$name: nginx's temporary files too");

    $t->finish(done_testing => 0);
}

# --- every nginx -p and -c pair in the docs is an example's own
# (the packaged nginx takes neither), so the commands shown work as
# written where the examples run
{
    my %pair = (
        'run/' => 'nginx.conf',
        map { (s/\.conf$//r . '-demo/' => $_) }
            grep { $_ ne 'quickstart.conf' } example_names(),
    );
    my $n = 0;

    for my $f ('README.md', glob("$root/docs/*.md"),
               glob("$root/examples/*")) {
        my $file = $f =~ m{^/} ? $f : "$root/$f";
        open my $fh, '<', $file or die "$file: $!";
        my $text = do { local $/; <$fh> };
        close $fh;

        # one line per sentence or command: wrapped lines, comment marks
        $text =~ s/\n#?\s*/ /g;

        while ($text =~ /nginx -p (\S+) -c ([^\s`;)]+)/g) {
            my ($p, $c) = ($1, $2);
            $n++;
            is($pair{$p} // "no example's prefix", $c,
               "${\ ($file =~ s{^\Q$root\E/}{}r)}: nginx -p $p -c $c");
        }
    }

    cmp_ok($n, '>=', 10, "the docs show nginx commands with -p and -c ($n)");
}

for my $name (example_names()) {
    if ($name eq 'quickstart.conf') {
        my @c = example_commands($name);
        is_deeply([ map { $_->{text} } @c ], [ './build.sh run' ],
                  'quickstart.conf: runs as ./build.sh run (t/060)');
        next;
    }

    run_example($name);
}

done_testing;
