package Test::Compliance;

# Integration-test harness for ngx_http_compliance_module: a temporary
# nginx prefix per test object, config templates, start/reload/reopen/stop,
# small HTTP/1.1 and HTTPS clients, and a final check that error.log holds
# no [alert]/[emerg]/[crit] or sanitizer line.  Documentation (POD) is at
# the end of this file.

use strict;
use warnings;

use Cwd qw(abs_path);
use Errno qw(EINTR EAGAIN EWOULDBLOCK);
use File::Basename qw(dirname);
use File::Find ();
use File::Path qw(rmtree);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Scalar::Util qw(weaken refaddr);
use Test::More ();
use Time::HiRes ();

our $VERSION = '1.00';

# <repo>/t/lib/Test/Compliance.pm -> <repo>
our $REPO_ROOT = abs_path(dirname(abs_path(__FILE__)) . '/../../..');

our $START_TIMEOUT  = 10;
our $RELOAD_TIMEOUT = 10;
our $STOP_TIMEOUT   = 10;

# ./build.sh valgrind: nginx runs as one process (master_process off,
# daemon off) under valgrind; every error valgrind reports fails the test
our $VALGRIND = $ENV{COMPLIANCE_VALGRIND} ? 1 : 0;

if ($VALGRIND) {
    $START_TIMEOUT *= 6;
    $STOP_TIMEOUT *= 6;
}

# Lines that make finish() fail.
our $PROBLEM_RE = qr/\[(?:alert|emerg|crit)\]|AddressSanitizer|LeakSanitizer
    |UndefinedBehaviorSanitizer|ThreadSanitizer|MemorySanitizer
    |runtime\ error:/x;

# Every harness object of this process, weakly held, so the END block can
# stop nginx and complain when finish() was never called.
my %LIVE;
my @ORPHANS;
my $SIGNALS_INSTALLED;


###########################################################################
# construction

sub new {
    my ($class, %opt) = @_;

    my $self = {
        opt          => \%opt,
        owner        => $$,
        ports        => {},
        port_locks   => [],
        listen_ports => [],
        ignore       => [],
        log_skip     => {},
        finished     => 0,
        running      => 0,
    };

    $self->{nginx} = $opt{nginx} || $ENV{NGINX_BIN} || '/usr/sbin/nginx';
    die "Test::Compliance: nginx binary '$self->{nginx}' is not "
        . "executable (set NGINX_BIN)\n" unless -x $self->{nginx};

    unless ($opt{no_module}) {
        my $m = $opt{module} || $ENV{COMPLIANCE_MODULE}
            || "$REPO_ROOT/build/ngx_http_compliance_module.so";
        $m = abs_path($m) // $m if -e $m;
        die "Test::Compliance: module '$m' not found (run ./build.sh "
            . "or set COMPLIANCE_MODULE)\n" unless -f $m;
        $self->{module} = $m;
    }

    my $base = $ENV{TMPDIR} || '/tmp';
    File::Path::make_path($base) unless -d $base;
    my $dir = tempdir('compliance-t-XXXXXXXX', DIR => $base, CLEANUP => 0);
    $self->{prefix} = abs_path($dir) // $dir;

    # blessed only now: a half-made object must not reach DESTROY
    bless $self, $class;

    # Workers drop to the unprivileged default user when nginx runs as
    # root; they must be able to traverse the prefix (0700 by default).
    chmod 0755, $self->{prefix};
    mkdir "$self->{prefix}/logs";
    chmod 0755, "$self->{prefix}/logs";

    $LIVE{refaddr $self} = $self;
    weaken $LIVE{refaddr $self};

    _install_signal_handlers();

    return $self;
}

sub prefix { $_[0]{prefix} }

sub module_path { $_[0]{module} }

sub nginx_bin { $_[0]{nginx} }

sub path {
    my ($self, $rel) = @_;

    return $self->{prefix} unless defined $rel && length $rel;
    return $rel if $rel =~ m{^/};
    return "$self->{prefix}/$rel";
}

sub repo_root { $REPO_ROOT }


###########################################################################
# ports

# Ports are picked below the kernel's ephemeral range so that no client
# socket of the test (or a proxied upstream connection) can grab one
# between our check and nginx's bind().  A UDP socket bound to the same
# number is held for the object's lifetime as a cross-process lock:
# another test file running in parallel cannot take the port either.

sub _port_range {
    my ($lo, $hi) = (32768, 60999);

    if (open my $fh, '<', '/proc/sys/net/ipv4/ip_local_port_range') {
        my $l = <$fh> // '';
        ($lo, $hi) = ($1, $2) if $l =~ /(\d+)\s+(\d+)/;
        close $fh;
    }

    return ($lo - 10000, $lo - 1) if $lo >= 11024;
    return ($hi + 1, ($hi + 10000 > 65535 ? 65535 : $hi + 10000))
        if $hi <= 64535;
    return;
}

sub port {
    my ($self, $n) = @_;

    $n //= 0;
    die "Test::Compliance: bad port index '$n'\n" unless $n =~ /^\d+$/;

    return $self->{ports}{$n} if defined $self->{ports}{$n};

    my %used = map { $_ => 1 } values %{ $self->{ports} };
    my @range = _port_range();

    for my $try (1 .. 200) {
        my $p;

        if (@range && $try <= 150) {
            $p = $range[0] + int(rand($range[1] - $range[0] + 1));

        } else {
            my $s = IO::Socket::INET->new(
                Proto     => 'tcp',
                LocalAddr => '127.0.0.1:0',
                Listen    => 1,
            ) or next;
            $p = $s->sockport;
            close $s;
        }

        next if $used{$p};

        my $lock = IO::Socket::INET->new(
            Proto     => 'udp',
            LocalAddr => "127.0.0.1:$p",
        ) or next;

        my $tcp = IO::Socket::INET->new(
            Proto     => 'tcp',
            LocalAddr => "127.0.0.1:$p",
            Listen    => 1,
            ReuseAddr => 1,
        ) or next;
        close $tcp;

        push @{ $self->{port_locks} }, $lock;
        $self->{ports}{$n} = $p;
        return $p;
    }

    die "Test::Compliance: no free TCP port found\n";
}


###########################################################################
# files

sub write_file {
    my ($self, $rel, $content, $mode) = @_;

    my $file = $self->path($rel);
    my $dir = dirname($file);

    File::Path::make_path($dir) unless -d $dir;

    open my $fh, '>:raw', $file
        or die "Test::Compliance: cannot write $file: $!\n";
    print {$fh} $content // '';
    close $fh or die "Test::Compliance: cannot write $file: $!\n";

    if (defined $mode) {
        chmod $mode, $file
            or die "Test::Compliance: chmod $file: $!\n";
    }

    return $file;
}

sub read_file {
    my ($self, $rel, $offset) = @_;

    my $file = $self->path($rel);

    open my $fh, '<:raw', $file or return undef;
    if ($offset) {
        seek $fh, $offset, 0;
    }
    local $/;
    my $content = <$fh>;
    close $fh;

    return $content // '';
}

sub log_offset {
    my ($self, $rel) = @_;

    return -s $self->path($rel // 'logs/error.log') // 0;
}

sub error_log {
    my ($self, $offset) = @_;

    return $self->read_file('logs/error.log', $offset) // '';
}

sub wait_for {
    my ($self, $cond, %opt) = @_;

    my $deadline = Time::HiRes::time()
        + ($opt{timeout} // 5) * ($VALGRIND ? 6 : 1);

    while (1) {
        my $v = $cond->();
        return $v if $v;
        return undef if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep($opt{interval} // 0.05);
    }
}

sub openssl_available {
    local $?;

    return system('openssl version >/dev/null 2>&1') == 0;
}

sub make_cert {
    my ($self, $name, %opt) = @_;

    $name //= 'localhost';

    my $crt = $self->path("$name.crt");
    my $key = $self->path("$name.key");

    my @cmd = ('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
        '-subj', $opt{subj} // '/CN=localhost',
        # beyond 30 days: no certificate_expiry gap, no daily alert record
        '-days', $opt{days} // 400,
        '-keyout', $key, '-out', $crt);
    push @cmd, '-addext', $opt{addext} if defined $opt{addext};

    my ($rc, $out) = _run_capture({}, @cmd);
    die "Test::Compliance: openssl req failed ($rc):\n$out\n" if $rc != 0;

    chmod 0600, $key;

    return ($crt, $key);
}


###########################################################################
# configuration

sub test_globals {
    my ($self) = @_;

    my $s = '';

    $s .= "pid $self->{prefix}/logs/nginx.pid;\n";
    $s .= "error_log $self->{prefix}/logs/error.log info;\n";
    $s .= "master_process off;\ndaemon off;\n" if $VALGRIND;
    $s .= "user $self->{opt}{user};\n" if defined $self->{opt}{user};

    return $s;
}

sub test_globals_http {
    my ($self) = @_;

    my $p = $self->{prefix};
    my $s = '';

    $s .= "access_log $p/logs/access.log;\n";
    $s .= "client_body_temp_path $p/client_body_temp;\n";
    $s .= "proxy_temp_path $p/proxy_temp;\n";
    $s .= "fastcgi_temp_path $p/fastcgi_temp;\n";
    $s .= "uwsgi_temp_path $p/uwsgi_temp;\n";
    $s .= "scgi_temp_path $p/scgi_temp;\n";

    return $s;
}

sub expand {
    my ($self, $c) = @_;

    my $load = $self->{module} ? "load_module $self->{module};" : '';
    my $mod = $self->{module} // '';

    $c =~ s/%%LOAD_MODULE%%/$load/g;
    $c =~ s/%%MODULE_PATH%%/$mod/g;
    $c =~ s/%%TEST_GLOBALS_HTTP%%/$self->test_globals_http/ge;
    $c =~ s/%%TEST_GLOBALS%%/$self->test_globals/ge;
    $c =~ s/%%PREFIX%%/$self->{prefix}/g;
    $c =~ s/%%PORT_(\d+)%%/$self->port($1)/ge;

    if ($c =~ /(%%[A-Z][A-Z0-9_]*%%)/) {
        die "Test::Compliance: unknown placeholder $1 in config\n";
    }

    return $c;
}

sub write_config {
    my ($self, $template, $name) = @_;

    $name //= 'nginx.conf';

    if ($name eq 'nginx.conf' && $template !~ /%%TEST_GLOBALS%%/) {
        die "Test::Compliance: nginx.conf template must contain "
            . "%%TEST_GLOBALS%% (pid and error_log inside the prefix)\n";
    }

    # run() waits for the ports nginx listens on over IPv4, not for
    # ports that only name an upstream.
    my %listen;
    while ($template =~ /^\s*listen\s+([^;]*)/mg) {
        my $args = $1;
        next if $args =~ /^\s*(?:unix:|\[)/;
        $listen{$1} = 1 if $args =~ /%%PORT_(\d+)%%/;
    }

    my $conf = $self->expand($template);
    my $file = $self->write_file($name, $conf);

    if ($name eq 'nginx.conf') {
        $self->{listen_ports} = [ map { $self->port($_) } sort keys %listen ];
    }

    return $file;
}

sub test_config {
    my ($self, $name) = @_;

    $name //= 'nginx.conf';

    my $off = $self->log_offset('logs/error.log');

    # "-e stderr": messages of the config parse land in our output.
    my ($rc, $out) = _run_capture({ nginx_env => 1 }, $self->{nginx},
        '-t', '-p', "$self->{prefix}/", '-c', $name, '-e', 'stderr');

    # Messages logged after the new cycle's logs are opened (module
    # init) go to error.log: return them too, and exclude them from the
    # finish() check, since a refused config is what the caller tests.
    my $end = $self->log_offset('logs/error.log');
    if ($end > $off) {
        $out .= $self->error_log($off);
        $self->_skip_log('error.log', $off, $end);
    }

    return ($rc == 0 ? 1 : 0, $out);
}

# Writes what "nginx -T" prints of the config (stdout only) to $file, with
# the sanitizer runtime when the suite runs under ASan; returns true if
# nginx accepted the config.
sub dump_config {
    my ($self, $file, $name) = @_;

    $name //= 'nginx.conf';

    local $?;

    my $pid = fork;
    die "Test::Compliance: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>', $file or POSIX::_exit(127);
        open STDERR, '>', '/dev/null';
        open STDIN, '<', '/dev/null';
        _sanitizer_env();
        exec($self->{nginx}, '-T', '-p', "$self->{prefix}/", '-c', $name)
            or POSIX::_exit(127);
    }

    waitpid $pid, 0;

    return $? == 0;
}

# Checks a whole config given as a template without touching nginx.conf
# (so it works while nginx runs); returns ($ok, $output).
sub test_config_text {
    my ($self, $template) = @_;

    my $name = 'test-config-' . ++$self->{text_confs} . '.conf';

    $self->write_config($template, $name);

    return $self->test_config($name);
}



###########################################################################
# process control

sub _pid_file { $_[0]{prefix} . '/logs/nginx.pid' }

sub master_pid {
    my ($self) = @_;

    open my $fh, '<', $self->_pid_file or return undef;
    my $pid = <$fh>;
    close $fh;

    return undef unless defined $pid && $pid =~ /^\s*(\d+)/;
    return $1 + 0;
}

# (state, ppid) of a process from /proc, or () when it is gone.
sub _proc_stat {
    my ($pid) = @_;

    open my $fh, '<', "/proc/$pid/stat" or return;
    my $s = <$fh> // '';
    close $fh;

    # comm may hold spaces and parentheses: split after the last ')'
    my $i = rindex($s, ')');
    return if $i < 0;
    my @f = split ' ', substr($s, $i + 1);

    return ($f[0], $f[1]);
}

sub _alive {
    my ($pid) = @_;

    return 0 unless $pid;
    my ($state) = _proc_stat($pid);
    return 0 unless defined $state;
    return $state ne 'Z' && $state ne 'X';
}

sub _children {
    my ($ppid) = @_;

    my @kids;

    opendir my $dh, '/proc' or return;
    while (defined(my $e = readdir $dh)) {
        next unless $e =~ /^\d+$/;
        my ($state, $pp) = _proc_stat($e);
        next unless defined $pp && $pp == $ppid;
        next if $state eq 'Z' || $state eq 'X';
        push @kids, $e + 0;
    }
    closedir $dh;

    return sort { $a <=> $b } @kids;
}

sub _cmdline {
    my ($pid) = @_;

    open my $fh, '<:raw', "/proc/$pid/cmdline" or return '';
    local $/;
    my $c = <$fh> // '';
    close $fh;
    $c =~ tr/\0/ /;

    return $c;
}

sub worker_pids {
    my ($self) = @_;

    my $m = $self->master_pid or return;

    return grep { _cmdline($_) =~ /worker process/ } _children($m);
}

# How many workers nginx.conf asks for (0 without a master process).
sub _expected_workers {
    my ($self) = @_;

    my $c = $self->read_file('nginx.conf') // '';
    $c =~ s/#[^\n]*//g;

    return 0 if $c =~ /^\s*master_process\s+off\s*;/m;
    return 1 unless $c =~ /^\s*worker_processes\s+(\w+)\s*;/m;

    my $n = $1;
    return $n + 0 if $n =~ /^\d+$/;

    # "auto" is the number of online CPUs, as nginx counts them
    my ($rc, $out) = _run_capture({}, 'getconf', '_NPROCESSORS_ONLN');
    return ($rc == 0 && $out =~ /(\d+)/) ? $1 : 1;
}

sub _sanitizer_env {
    my $lib = $ENV{COMPLIANCE_ASAN_LIB};

    return unless defined $lib && length $lib;

    $ENV{LD_PRELOAD} = $lib;
    $ENV{ASAN_OPTIONS} //= 'detect_leaks=0:abort_on_error=0';
}

# Runs a command, returns (exit status, combined stdout+stderr).
sub _run_capture {
    my ($o, @cmd) = @_;

    local $?;

    my $pid = open(my $fh, '-|');
    die "Test::Compliance: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        open STDIN, '<', '/dev/null';
        _sanitizer_env() if $o->{nginx_env};
        exec { $cmd[0] } @cmd
            or print "exec $cmd[0]: $!\n";
        POSIX::_exit(127);
    }

    local $/;
    my $out = <$fh> // '';
    close $fh;

    return ($? >> 8 || ($? & 127 ? 128 + ($? & 127) : 0), $out);
}

sub run {
    my ($self, %opt) = @_;

    local $?;

    die "Test::Compliance: nginx already running\n" if $self->{running};
    die "Test::Compliance: write_config() first\n"
        unless -f $self->path('nginx.conf');

    # A pid file left by a killed master would look like a started one.
    my $stale = $self->master_pid;
    unlink $self->_pid_file if !$stale || !_alive($stale);

    my $errlog = $self->path('logs/error.log');
    my $stderr = $self->path('logs/nginx.stderr');
    my $off_log = $self->log_offset('logs/error.log');
    my $off_err = $self->log_offset('logs/nginx.stderr');

    my $pid = fork();
    die "Test::Compliance: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $stderr;
        open STDERR, '>&', \*STDOUT;
        _sanitizer_env();
        my @vg = $VALGRIND
            ? ('valgrind', '--quiet', '--num-callers=30',
               '--log-file=' . $self->path('logs/valgrind-%p.log'))
            : ();
        exec { $VALGRIND ? 'valgrind' : $self->{nginx} }
            (@vg ? @vg : ()), $self->{nginx},
            '-p', "$self->{prefix}/", '-c', 'nginx.conf', '-e', $errlog
            or print "exec $self->{nginx}: $!\n";
        POSIX::_exit(127);
    }

    $self->{launcher} = $pid;

    my $deadline = Time::HiRes::time() + ($opt{timeout} // $START_TIMEOUT);
    my ($master, $err);

    # In daemon mode the launcher exits at once with 0 and the daemon
    # writes the pid file; with "daemon off" the launcher is the master.
    while (1) {
        if ($self->{launcher}) {
            my $w = waitpid($pid, POSIX::WNOHANG());
            if ($w == $pid) {
                my $st = $?;
                delete $self->{launcher};
                if ($st != 0) {
                    $err = 'nginx exited with status ' . ($st >> 8)
                        . ($st & 127 ? ' (signal ' . ($st & 127) . ')' : '');
                    last;
                }
            }
        }

        $master = $self->master_pid;
        last if $master && _alive($master);

        if (Time::HiRes::time() > $deadline) {
            $err = 'no nginx master (pid file) after start';
            last;
        }
        Time::HiRes::sleep(0.02);
    }

    unless ($err) {
        $self->{running} = 1;
        $self->{master} = $master;
        $self->{master_is_child} = $self->{launcher}
            && $self->{launcher} == $master;

      PORT:
        for my $p (@{ $self->{listen_ports} }) {
            while (1) {
                my $s = IO::Socket::INET->new(
                    Proto    => 'tcp',
                    PeerAddr => "127.0.0.1:$p",
                    Timeout  => 1,
                );
                if ($s) {
                    close $s;
                    next PORT;
                }
                if (!_alive($master)) {
                    $err = "nginx master $master died during start";
                    last PORT;
                }
                if (Time::HiRes::time() > $deadline) {
                    $err = "port $p does not accept connections";
                    last PORT;
                }
                Time::HiRes::sleep(0.02);
            }
        }
    }

    # Listening sockets accept before the workers exist: wait for them
    # so that worker_pids() and the first requests see a settled nginx.
    unless ($err) {
        my $want = $self->_expected_workers;
        my $ok = $self->wait_for(sub {
            return 0 unless _alive($master);
            my @w = $self->worker_pids;
            return @w >= $want;
        }, timeout => $deadline - Time::HiRes::time());
        $err = "$want worker process(es) did not start" unless $ok;
    }

    return 1 unless $err;

    my $report = "Test::Compliance: nginx start failed: $err\n"
        . "--- error.log ---\n" . $self->error_log
        . "--- nginx stderr ---\n" . ($self->read_file('logs/nginx.stderr')
            // '');

    $self->stop;

    if ($opt{may_fail}) {
        $self->{run_error} = $report;
        $self->_skip_log('error.log', $off_log,
            $self->log_offset('logs/error.log'));
        $self->_skip_log('nginx.stderr', $off_err,
            $self->log_offset('logs/nginx.stderr'));
        return 0;
    }

    die $report;
}

sub run_error { $_[0]{run_error} }

sub _signal_master {
    my ($self, $sig) = @_;

    my $m = $self->master_pid;
    die "Test::Compliance: nginx is not running\n"
        unless $self->{running} && $m && _alive($m);
    kill $sig, $m or die "Test::Compliance: kill $sig $m: $!\n";

    return $m;
}

sub reload {
    my ($self, %opt) = @_;

    my @old = $self->worker_pids;
    my $off = $self->log_offset('logs/error.log');
    my $want = $self->_expected_workers || 1;

    my $deadline = Time::HiRes::time() + ($opt{timeout} // $RELOAD_TIMEOUT);
    my $why;

    # one process (master_process off, ./build.sh valgrind): nginx does
    # not re-add its listening sockets after reconfiguring in place, so a
    # reload is a restart there (shared memory starts afresh)
    if ($self->_expected_workers == 0) {
        $self->stop;
        return $self->run(%opt);
    }

    $self->_signal_master('HUP');

    while (!$why) {
        my %old = map { $_ => 1 } @old;
        my @cur = $self->worker_pids;

        return 1 if @cur >= $want
            && !grep({ $old{$_} } @cur)
            && !grep({ _alive($_) } @old);

        my $new = $self->error_log($off);
        if ($new =~ /\[emerg\]/) {
            $why = "reload refused:\n$new";
            last;
        }
        if (Time::HiRes::time() > $deadline) {
            $why = "workers did not change within the timeout "
                . "(old: @old, now: @cur)\n" . $new;
            last;
        }
        Time::HiRes::sleep(0.02);
    }

    if ($opt{may_fail}) {
        $self->_skip_log('error.log', $off,
            $self->log_offset('logs/error.log'));
        return 0;
    }

    die "Test::Compliance: $why\n";
}

sub reopen {
    my ($self, %opt) = @_;

    my $log = $self->path('logs/error.log');
    my @st = stat $log;
    my $off = @st ? $st[7] : 0;
    my $ino = @st ? $st[1] : -1;
    my $need = () = $self->worker_pids;

    $self->_signal_master('USR1');

    # The master logs "reopening logs" before it reopens, each worker
    # after: count the workers' lines in the (possibly new) error.log.
    $self->wait_for(sub {
        my @now = stat $log;
        my $same = @now && $now[1] == $ino;
        my $n = () = $self->error_log($same ? $off : 0) =~ /reopening logs/g;
        return $n >= $need + ($same ? 1 : 0);
    }, timeout => $opt{timeout} // 5);

    return 1;
}

sub stop {
    my ($self) = @_;

    local $?;

    my $m = $self->master_pid // $self->{master};

    if ($m && _alive($m)) {
        my @kids = _children($m);

        kill 'QUIT', $m;

        my $gone = sub {
            waitpid($m, POSIX::WNOHANG()) if $self->{master_is_child};
            return !-e $self->_pid_file && !_alive($m);
        };

        unless ($self->wait_for($gone, timeout => $STOP_TIMEOUT)) {
            Test::More::diag("Test::Compliance: nginx $m ignored QUIT, "
                . "sending TERM");
            kill 'TERM', $m;

            unless ($self->wait_for($gone, timeout => 5)) {
                Test::More::diag("Test::Compliance: sending KILL to $m");
                kill 'KILL', $m, @kids;
                $self->wait_for(sub { !_alive($m) }, timeout => 5);
                unlink $self->_pid_file;
            }
        }
    }

    if ($self->{launcher}) {
        waitpid($self->{launcher}, 0);
        delete $self->{launcher};
    }

    $self->{running} = 0;
    delete $self->{master};
    delete $self->{master_is_child};

    return 1;
}


###########################################################################
# HTTP client

sub _connect {
    my ($self, $r) = @_;

    my $port = $r->{port} // $self->port(0);
    my $timeout = ($r->{timeout} // 5) * ($VALGRIND ? 10 : 1);
    my $addr = $r->{addr} // '127.0.0.1';
    my $sock;

    if ($r->{tls}) {
        require IO::Socket::SSL;

        my $sni = exists $r->{sni} ? $r->{sni} : ($r->{host} // 'localhost');
        my %ssl = (
            SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_NONE(),
            SSL_hostname    => $sni // '',
        );
        $ssl{SSL_version} = $r->{ssl_version} if defined $r->{ssl_version};
        %ssl = (%ssl, %{ $r->{ssl} || {} });

        $sock = IO::Socket::SSL->new(
            PeerAddr => $addr,
            PeerPort => $port,
            Proto    => 'tcp',
            Timeout  => $timeout,
            %ssl,
        );

        unless ($sock) {
            no warnings 'once';
            $@ = "TLS connection to $addr:$port failed: "
                . ($IO::Socket::SSL::SSL_ERROR || $! || 'unknown error');
            return undef;
        }

    } else {
        $sock = IO::Socket::INET->new(
            Proto    => 'tcp',
            PeerAddr => $addr,
            PeerPort => $port,
            Timeout  => $timeout,
        );

        unless ($sock) {
            $@ = "connect to $addr:$port failed: $!";
            return undef;
        }
    }

    binmode $sock;
    $sock->autoflush(1);

    my $c = { sock => $sock, buf => '', timeout => $timeout,
              tls => $r->{tls} ? 1 : 0 };

    if ($r->{tls}) {
        $c->{tls_version} = $sock->get_sslversion;
        $c->{tls_cipher} = $sock->get_cipher;
    }

    return $c;
}

sub _send {
    my ($c, $data) = @_;

    local $SIG{PIPE} = 'IGNORE';

    my $off = 0;
    my $len = length $data;

    while ($off < $len) {
        my $n = syswrite($c->{sock}, $data, $len - $off, $off);
        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
            $c->{error} = "write failed: $!";
            return 0;
        }
        $off += $n;
    }

    return 1;
}

# Appends to $c->{buf}; returns bytes read, 0 on EOF, undef on error.
sub _read_more {
    my ($c) = @_;

    my $s = $c->{sock};

    while (1) {
        unless ($c->{tls} && $s->pending) {
            my $rin = '';
            vec($rin, fileno($s), 1) = 1;
            my $n = select(my $rout = $rin, undef, undef, $c->{timeout});
            if ($n < 0) {
                next if $! == EINTR;
                $c->{error} = "select failed: $!";
                return undef;
            }
            if ($n == 0) {
                $c->{error} = 'timeout';
                return undef;
            }
        }

        my $n = sysread($s, $c->{buf}, 65536, length $c->{buf});

        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
            $c->{error} = "read failed: $!";
            return undef;
        }

        $c->{eof} = 1 if $n == 0;
        return $n;
    }
}

# Takes $n bytes from the connection buffer, reading as needed.
sub _take {
    my ($c, $n) = @_;

    while (length $c->{buf} < $n) {
        my $r = _read_more($c);
        return undef unless $r;
    }

    return substr($c->{buf}, 0, $n, '');
}

# Takes one CRLF-terminated line (CRLF included).
sub _take_line {
    my ($c) = @_;

    my $i;
    my $from = 0;

    while (($i = index($c->{buf}, "\r\n", $from)) < 0) {
        $from = length($c->{buf}) ? length($c->{buf}) - 1 : 0;
        my $r = _read_more($c);
        return undef unless $r;
    }

    return substr($c->{buf}, 0, $i + 2, '');
}

sub _fail {
    my ($c, $res, $what) = @_;

    $res->{error} = $c->{error} // $what;
    $res->{raw} .= $c->{buf};
    $c->{buf} = '';
    $c->{dead} = 1;

    return $res;
}

sub _new_response {
    my ($c) = @_;

    my %h;
    my $res = {
        status  => undef,
        headers => \%h,
        header  => sub { my $v = $h{ lc $_[0] }; $v ? $v->[0] : undef },
        header_list => [],
        body    => '',
        raw     => '',
    };

    if ($c->{tls}) {
        $res->{tls_version} = $c->{tls_version};
        $res->{tls_cipher} = $c->{tls_cipher};
    }

    return $res;
}

sub _read_response {
    my ($c, $method) = @_;

    my $res = _new_response($c);

    while (1) {
        my $end;
        my $from = 0;

        while (($end = index($c->{buf}, "\r\n\r\n", $from)) < 0) {
            $from = length($c->{buf}) > 3 ? length($c->{buf}) - 3 : 0;
            my $r = _read_more($c);
            unless ($r) {
                return _fail($c, $res, length $c->{buf}
                    ? 'connection closed inside the response header'
                    : 'connection closed before a response');
            }
        }

        my $head = substr($c->{buf}, 0, $end + 4, '');
        $res->{raw} .= $head;

        my ($line, @lines) = split /\r\n/, substr($head, 0, $end);

        unless ($line =~ m{^(HTTP/\d\.\d)\s+(\d{3})(?:\s(.*))?$}) {
            return _fail($c, $res, "bad status line: $line");
        }
        $res->{version} = $1;
        $res->{status} = $2 + 0;
        $res->{reason} = $3 // '';
        %{ $res->{headers} } = ();
        @{ $res->{header_list} } = ();

        for my $l (@lines) {
            next unless $l =~ /^([^:\s]+)\s*:\s*(.*?)\s*$/;
            push @{ $res->{headers}{ lc $1 } }, $2;
            push @{ $res->{header_list} }, [ $1, $2 ];
        }

        # Interim responses (100 Continue) precede the real one.
        last unless $res->{status} >= 100 && $res->{status} < 200
            && $res->{status} != 101;
        push @{ $res->{interim} }, $res->{status};
    }

    my $st = $res->{status};
    my $h = $res->{headers};
    my $te = join ',', @{ $h->{'transfer-encoding'} || [] };
    my $cl = $h->{'content-length'} ? $h->{'content-length'}[0] : undef;

    if ($method eq 'HEAD' || $st < 200 || $st == 204 || $st == 304) {
        # no body

    } elsif ($te =~ /chunked/i) {
        my $body = '';

        while (1) {
            my $l = _take_line($c);
            return _fail($c, $res, 'connection closed inside chunked body')
                unless defined $l;
            $res->{raw} .= $l;

            return _fail($c, $res, "bad chunk size line: $l")
                unless $l =~ /^([0-9a-fA-F]+)/;
            my $size = hex $1;

            if ($size == 0) {
                while (1) {
                    my $t = _take_line($c);
                    return _fail($c, $res, 'connection closed in trailer')
                        unless defined $t;
                    $res->{raw} .= $t;
                    last if $t eq "\r\n";
                    if ($t =~ /^([^:\s]+)\s*:\s*(.*?)\s*$/) {
                        push @{ $res->{trailers}{ lc $1 } }, $2;
                    }
                }
                last;
            }

            my $chunk = _take($c, $size + 2);
            return _fail($c, $res, 'connection closed inside a chunk')
                unless defined $chunk;
            $res->{raw} .= $chunk;
            $body .= substr($chunk, 0, $size);
        }

        $res->{body} = $body;
        $res->{chunked} = 1;

    } elsif (defined $cl) {
        return _fail($c, $res, "bad Content-Length: $cl")
            unless $cl =~ /^\d+$/;
        my $body = _take($c, $cl);
        unless (defined $body) {
            $res->{body} = $c->{buf};
            return _fail($c, $res, 'connection closed inside the body');
        }
        $res->{raw} .= $body;
        $res->{body} = $body;

    } else {
        # no framing: the body runs to the end of the connection
        while (!$c->{eof}) {
            my $r = _read_more($c);
            last if !defined $r;
        }
        $res->{body} = $c->{buf};
        $res->{raw} .= $c->{buf};
        $c->{buf} = '';
        $c->{dead} = 1;
    }

    my $conn = lc join ',', @{ $h->{connection} || [] };
    if ($conn =~ /\bclose\b/
        || ($res->{version} eq 'HTTP/1.0' && $conn !~ /keep-alive/))
    {
        $c->{dead} = 1;
    }

    return $res;
}

sub _build_request {
    my ($r, $keepalive) = @_;

    if (defined $r->{raw}) {
        my $raw = $r->{raw};
        utf8::encode($raw) if utf8::is_utf8($raw);
        return $raw;
    }

    my $method = $r->{method} // 'GET';
    my $uri = $r->{uri} // '/';
    my $version = $r->{version} // 'HTTP/1.1';

    my @h;
    my $hdrs = $r->{headers} || [];
    if (ref $hdrs eq 'HASH') {
        @h = map { [ $_, $hdrs->{$_} ] } sort keys %$hdrs;
    } else {
        @h = map { [ @$_ ] } @$hdrs;
    }

    my %have = map { lc $_->[0] => 1 } @h;

    # host => undef sends no Host header at all
    my $host = exists $r->{host} ? $r->{host} : 'localhost';
    unshift @h, [ 'Host', $host ] if defined $host && !$have{host};

    my $body = $r->{body};
    if (defined $body) {
        utf8::encode($body) if utf8::is_utf8($body);
        push @h, [ 'Content-Length', length $body ]
            unless $have{'content-length'} || $have{'transfer-encoding'};
    }

    push @h, [ 'Connection', 'close' ] unless $keepalive || $have{connection};

    my $s = "$method $uri $version\r\n";
    $s .= "$_->[0]: $_->[1]\r\n" for @h;
    $s .= "\r\n";
    $s .= $body if defined $body;

    return $s;
}

sub _method_of {
    my ($r) = @_;

    if (defined $r->{raw}) {
        return $r->{raw} =~ /^\s*(\S+)/ ? uc $1 : 'GET';
    }
    return uc($r->{method} // 'GET');
}

sub _one_request {
    my ($self, %r) = @_;

    my $c = $self->_connect(\%r) or return undef;

    my $res;
    if (_send($c, _build_request(\%r, $r{keepalive}))) {
        $res = _read_response($c, _method_of(\%r));
    } else {
        $res = _fail($c, _new_response($c), 'write failed');
    }

    close $c->{sock};

    return $res;
}

sub http {
    my ($self, %r) = @_;

    delete $r{tls};
    return $self->_one_request(%r);
}

sub https {
    my ($self, %r) = @_;

    return $self->_one_request(%r, tls => 1);
}

sub keepalive {
    my ($self, %opt) = @_;

    my $reqs = $opt{requests} || [];
    my %conn = %opt;
    delete $conn{requests};

    my $c = $self->_connect(\%conn) or return undef;
    my @res;

    for my $q (@$reqs) {
        my %r = (%conn, %$q);
        delete $r{raw} unless defined $q->{raw};

        unless (_send($c, _build_request(\%r, 1))) {
            last;
        }

        my $res = _read_response($c, _method_of(\%r));
        push @res, $res;

        last if $res->{error} || $c->{dead};
    }

    close $c->{sock};

    return \@res;
}


###########################################################################
# checks and teardown

sub ignore_log_lines {
    my ($self, @re) = @_;

    push @{ $self->{ignore} }, @re;

    return $self;
}

# Lines of $text that make a test fail.
sub log_problems_in {
    my ($text, @ignore) = @_;

    my @bad;

  LINE:
    for my $l (split /\n/, $text // '') {
        next unless $l =~ $PROBLEM_RE;
        for my $re (@ignore) {
            next LINE if $l =~ $re;
        }
        push @bad, $l;
    }

    return @bad;
}

# Marks a byte range of a file in logs/ as expected (not checked).
sub _skip_log {
    my ($self, $file, $from, $to) = @_;

    push @{ $self->{log_skip}{$file} }, [ $from, $to ] if $to > $from;
}

sub log_problems {
    my ($self) = @_;

    my @bad;
    my $dir = $self->path('logs');

    opendir my $dh, $dir or return;
    my @all = readdir $dh;
    my @files = sort grep { /^error\.log/ || $_ eq 'nginx.stderr' } @all;
    closedir $dh;

    # valgrind --quiet writes nothing but errors
    for my $f (sort grep { /^valgrind-\d+\.log$/ } @all) {
        my $text = $self->read_file("logs/$f") // '';
        push @bad, "$f: " . (split /\n/, $text)[0] . ' ...' if length $text;
    }

    for my $f (@files) {
        my $text = $self->read_file("logs/$f") // '';

        # cut byte ranges of expected refusals, last first
        for my $r (sort { $b->[0] <=> $a->[0] }
            @{ $self->{log_skip}{$f} || [] })
        {
            my ($from, $to) = @$r;
            next if $from >= length $text;
            $to = length $text if $to > length $text;
            substr($text, $from, $to - $from, '');
        }

        push @bad, map { "$f: $_" }
            log_problems_in($text, @{ $self->{ignore} });
    }

    return @bad;
}

sub _other_unfinished {
    my ($self) = @_;

    return grep {
        defined $_ && $_ != $self && !$_->{finished} && $_->{owner} == $$
    } values %LIVE;
}

sub _cleanup_dir {
    my ($self) = @_;

    return if $self->{owner} != $$;

    if ($ENV{TEST_KEEP}) {
        Test::More::diag("Test::Compliance: kept $self->{prefix}");
        return;
    }

    rmtree($self->{prefix}) if $self->{prefix} && -d $self->{prefix};
}

sub finish {
    my ($self, %opt) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    $self->stop;

    my @bad = $self->log_problems;

    Test::More::ok(!@bad,
        'no alert, emerg, crit or sanitizer lines in the logs')
        or Test::More::diag(join "\n", @bad);

    if (@{ $self->{forbidden} || [] }) {
        my @leaks = $self->secrets_in_logs;

        Test::More::ok(!@leaks,
            'no credential, secret or PII sent by the test is in any log')
            or Test::More::diag(join "\n", @leaks);
    }

    $self->{finished} = 1;
    $self->{port_locks} = [];
    $self->_cleanup_dir;

    my $done = $opt{done_testing} // !$self->_other_unfinished;
    Test::More::done_testing() if $done;

    return !@bad;
}

# config_refused($conf, qr/message/, $name): nginx -t refuses $conf and
# says so; config_accepted($conf, $name): nginx -t accepts it.  Both
# return the output for further checks.
sub config_refused {
    my ($self, $conf, $re, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my ($ok, $out) = $self->test_config_text($conf);
    Test::More::ok(!$ok, "refused: $name");
    Test::More::like($out, $re, "message: $name") or Test::More::diag($out);

    return $out;
}

sub config_accepted {
    my ($self, $conf, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my ($ok, $out) = $self->test_config_text($conf);
    Test::More::ok($ok, "accepted: $name") or Test::More::diag($out);

    return $out;
}

# config_refusals(\@cases, at => 'server', http => '...', server => '...'):
# each case [ $line, qr/message/, $where ] is written into a minimal
# configuration at $where ('http', 'server' or 'location'; default: at)
# and must be refused by nginx -t with the message.  http/server are
# lines every case needs in that block (a zone, "compliance on").
sub config_refusals {
    my ($self, $cases, %opt) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $at = $opt{at} // 'server';
    my $http = $opt{http} // '';
    my $server = $opt{server} // '';

    for my $c (@$cases) {
        my ($line, $re, $where) = @$c;
        my %in = (http => '', server => '', location => '');

        $where //= $at;
        die "config_refusals: bad place '$where'\n" unless exists $in{$where};
        $in{$where} = $where eq 'location' ? "location / { $line }" : $line;

        $self->config_refused(<<"EOF", $re, $line);
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    $http
    $in{http}
    server {
        listen 127.0.0.1:%%PORT_5%%;
        $server
        $in{server}
        $in{location}
    }
}
EOF
    }

    return;
}

# The text without the lines of the posture check ("compliance posture:"),
# for tests that look for the other warnings of a configuration.
sub without_posture {
    my ($self, $text) = @_;

    return join '', grep { !/compliance posture: / }
                    split /^/m, $text // '';
}

# Secrets a test sent: finish() fails if any appears in a file under logs/.
sub forbid_in_logs {
    my ($self, @secrets) = @_;

    push @{ $self->{forbidden} }, grep { defined && length >= 6 } @secrets;

    return $self;
}

# "file: secret" for each forbidden string found under logs/ (the secret
# itself is shown shortened so the report does not repeat it whole).
sub secrets_in_logs {
    my ($self) = @_;

    my @found;
    my $dir = "$self->{prefix}/logs";

    opendir(my $dh, $dir) or return ();
    my @files = grep { -f "$dir/$_" } readdir $dh;
    closedir $dh;

    for my $f (sort @files) {
        open(my $fh, '<:raw', "$dir/$f") or next;
        local $/;
        my $text = <$fh>;
        close $fh;

        for my $s (@{ $self->{forbidden} || [] }) {
            push @found, "logs/$f: " . substr($s, 0, 6) . '...'
                if index($text, $s) >= 0;
        }
    }

    return @found;
}

sub _skipped {
    my $plan = eval { Test2::API::test2_stack()->top->plan } // '';

    return $plan eq 'SKIP';
}

# Stops nginx of an object that was never finish()ed and says so.
sub _abandon {
    my ($self) = @_;

    return if $self->{reported};
    $self->{reported} = 1;

    my $log = $self->error_log;

    eval { $self->stop };

    unless (_skipped()) {
        my @tail = grep { defined } (split /\n/, $log)[-20 .. -1];
        Test::More::diag("Test::Compliance: finish() was never called for "
            . "$self->{prefix}; nginx stopped; last error.log lines:\n"
            . join("\n", @tail));
    }

    push @ORPHANS, $self->{prefix};
    $self->_cleanup_dir;
}

sub DESTROY {
    my ($self) = @_;

    local ($?, $@, $!);

    return if !$self->{prefix} || $self->{owner} != $$ || $self->{finished};

    $self->_abandon;
}

sub _install_signal_handlers {
    return if $SIGNALS_INSTALLED++;

    # Turn SIGINT/SIGTERM (Ctrl-C, prove timeouts) into exit() so the END
    # block stops nginx instead of leaving a daemon behind.
    for my $sig ([ INT => 2 ], [ TERM => 15 ]) {
        my $cur = $SIG{ $sig->[0] };
        next if defined $cur && $cur ne '' && $cur ne 'DEFAULT';
        my $code = 128 + $sig->[1];
        $SIG{ $sig->[0] } = sub { exit $code };
    }
}

END {
    my $status = $?;

    for my $t (values %LIVE) {
        next unless defined $t && $t->{owner} == $$ && !$t->{finished};
        $t->_abandon;
    }

    if (@ORPHANS && !_skipped()) {
        Test::More::ok(0, 'Test::Compliance finish() was called');
        $status ||= 1;
    }

    $? = $status;
}


###########################################################################
# style check of C sources (used by t/001-style.t)

sub c_sources {
    my ($root) = @_;

    local $?;

    $root //= $REPO_ROOT;

    my @files;

    if (-e "$root/.git"
        && (_run_capture({}, 'git', '-C', $root, 'rev-parse'))[0] == 0)
    {
        # tracked files plus new, not ignored ones: a file is checked
        # before it is first committed
        open my $fh, '-|', 'git', '-C', $root, 'ls-files', '--cached',
            '--others', '--exclude-standard', '--', '*.c', '*.h'
            or die "git ls-files: $!";
        chomp(@files = <$fh>);
        close $fh;

    } else {
        for my $d (qw(ngx_compliance_module tools t/unit)) {
            next unless -d "$root/$d";
            File::Find::find({ no_chdir => 1, wanted => sub {
                push @files, substr($_, length($root) + 1)
                    if -f $_ && /\.[ch]$/;
            } }, "$root/$d");
        }
    }

    my %seen;
    return sort grep { !$seen{$_}++ && -f "$root/$_" } @files;
}

# Returns ($in_comment, $found): whether a "//" comment starts on the line
# outside string and character literals and /* */ comments.
sub _cpp_comment_on_line {
    my ($line, $in_comment) = @_;

    my $n = length $line;
    my $i = 0;

    while ($i < $n) {
        if ($in_comment) {
            my $e = index($line, '*/', $i);
            return (1, 0) if $e < 0;
            $i = $e + 2;
            $in_comment = 0;
            next;
        }

        my $ch = substr($line, $i, 1);

        if ($ch eq '"' || $ch eq "'") {
            my $j = $i + 1;
            while ($j < $n) {
                my $d = substr($line, $j, 1);
                if ($d eq '\\') {
                    $j += 2;
                    next;
                }
                last if $d eq $ch;
                $j++;
            }
            $i = $j + 1;
            next;
        }

        my $two = substr($line, $i, 2);

        if ($two eq '/*') {
            $in_comment = 1;
            $i += 2;
            next;
        }

        return (0, 1) if $two eq '//';

        $i++;
    }

    return ($in_comment, 0);
}

sub style_problems {
    my ($file, $name) = @_;

    $name //= $file;

    open my $fh, '<:raw', $file or return ("$name: cannot open: $!");
    local $/;
    my $text = <$fh> // '';
    close $fh;

    return () if $text eq '';

    my @p;

    push @p, "$name: no newline at end of file"
        if substr($text, -1) ne "\n";

    my @lines = split /\n/, $text, -1;
    pop @lines if @lines && $lines[-1] eq '';

    my $in_comment = 0;

    for my $i (0 .. $#lines) {
        my $line = $lines[$i];
        my $at = "$name:" . ($i + 1);

        push @p, "$at: tab character" if $line =~ /\t/;
        push @p, "$at: carriage return (CRLF line end)" if $line =~ /\r/;
        push @p, "$at: trailing whitespace" if $line =~ /[ \t]\r?$/;

        my $chars = $line;
        $chars =~ s/\r$//;
        utf8::decode($chars);
        my $cols = length $chars;
        push @p, "$at: $cols columns (over 80)" if $cols > 80;

        my $found;
        ($in_comment, $found) = _cpp_comment_on_line($line, $in_comment);
        push @p, "$at: // comment (use /* */)" if $found;
    }

    return @p;
}


1;

__END__

=head1 NAME

Test::Compliance - integration-test harness for ngx_http_compliance_module

=head1 SYNOPSIS

    use FindBin;
    use lib "$FindBin::Bin/lib";

    use Test::More;
    use Test::Compliance;

    my $t = Test::Compliance->new;          # no_module => 1 for plain nginx
    my ($crt, $key) = $t->make_cert('localhost');

    $t->write_config(<<'EOF');
    %%LOAD_MODULE%%
    %%TEST_GLOBALS%%
    events { }
    http {
        %%TEST_GLOBALS_HTTP%%
        server {
            listen 127.0.0.1:%%PORT_0%%;
            location / { compliance on; return 200 "ok"; }
        }
    }
    EOF

    $t->run;

    my $r = $t->http(uri => '/', headers => [ [ 'X-API-Key', $key ] ]);
    is($r->{status}, 401, 'no credential');
    like($r->{header}->('Content-Type'), qr/problem\+json/, 'problem');

    $t->finish;                             # ok(no alerts) + done_testing

=head1 DESCRIPTION

Each object owns a temporary prefix directory (C<compliance-t-XXXXXXXX>
under C<$ENV{TMPDIR}> or F</tmp>, mode 0755, with F<logs/>), removed by
C<finish> unless C<TEST_KEEP> is set.  nginx is started as a daemon with
C<-p E<lt>prefixE<gt>/ -c nginx.conf -e E<lt>prefixE<gt>/logs/error.log>.

Tests start with C<use FindBin; use lib "$FindBin::Bin/lib";> so they run
both under C<prove -r t/> from the repository root and with
C<PERL5LIB=t/lib>.

=head2 Environment

=over

=item NGINX_BIN

nginx binary (default F</usr/sbin/nginx>).

=item COMPLIANCE_MODULE

The module to load, made absolute (default
F<E<lt>repoE<gt>/build/ngx_http_compliance_module.so>).  C<new> dies
when it does not exist, unless C<no_module>.

=item COMPLIANCE_ASAN_LIB

When set, every nginx started by the harness (C<run>, C<test_config>) gets
C<LD_PRELOAD> set to it and C<ASAN_OPTIONS> from the environment, default
C<detect_leaks=0:abort_on_error=0>.  nginx points the workers' stderr at
error.log, so sanitizer reports end up there (early ones in
F<logs/nginx.stderr>); C<finish> fails on them.

=item TEST_KEEP

Keep the prefix directory (its path is printed with C<diag>).

=item TMPDIR

Where prefix directories are made.

=back

=head2 Running as root

No C<user> directive is added: when the tests run as root, workers drop to
nginx's default unprivileged user, as in production.  This works because
the prefix and F<logs/> are mode 0755 (workers can reach files in them),
logs are opened by the master, and nginx itself creates the temp
directories of C<%%TEST_GLOBALS_HTTP%%> owned by the worker user.  Files a
worker must read at request time need to be world-readable (the default
for C<write_file> under umask 022).  C<new(user =E<gt> 'root')> adds
C<user root;> to C<%%TEST_GLOBALS%%> when a test really needs it.

=head2 forbid_in_logs(@secrets) / secrets_in_logs

Registers strings (tokens, keys, card numbers...) the test sends;
C<finish> then fails if any of them appears in any file under C<logs/>.

=head1 METHODS

=over

=item new(%opt)

Options: C<no_module> (plain nginx, C<%%LOAD_MODULE%%> expands to
nothing), C<module> (path, overrides the environment), C<nginx> (binary),
C<user> (adds a C<user> directive).  Dies if nginx or the module is
missing.

=item prefix, path($rel), module_path, nginx_bin, repo_root

Absolute paths.  C<path> leaves absolute arguments alone.

=item port($n)

The C<$n>-th (default 0) TCP port for 127.0.0.1, chosen once per object:
a random port below the kernel's ephemeral range that binds, locked
against parallel test files by a UDP socket on the same number held for
the object's life.  Falls back to binding port 0.

=item write_file($rel, $content [, $mode])

Writes (raw bytes) inside the prefix, creating directories; returns the
absolute path.

=item read_file($rel [, $offset])

Contents from C<$offset>, or undef if the file does not exist.

=item log_offset([$rel])

Current size of a file (default F<logs/error.log>), for reading only what
was logged since: C<< $t->error_log($t->log_offset) >>.

=item error_log([$offset])

Contents of F<logs/error.log> ('' when missing).

=item make_cert($name [, subj =E<gt> ..., days =E<gt> ..., addext =E<gt> ...])

Self-signed RSA-2048 certificate with
C<openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 400>
(more than 30 days: no posture gap, no run-time alert record);
writes F<$name.crt> and F<$name.key> (0600) in the prefix and returns
their paths.  C<Test::Compliance::openssl_available()> tells whether the
openssl CLI runs.

=item write_config($template [, $name])

Expands the template and writes it (default F<nginx.conf>; F<nginx.conf>
templates must contain C<%%TEST_GLOBALS%%>).  Placeholders:

    %%LOAD_MODULE%%        load_module <abs .so>;  (empty with no_module)
    %%MODULE_PATH%%        the .so path
    %%TEST_GLOBALS%%       pid <prefix>/logs/nginx.pid;
                           error_log <prefix>/logs/error.log info;
    %%TEST_GLOBALS_HTTP%%  access_log <prefix>/logs/access.log; and
                           client_body/proxy/fastcgi/uwsgi/scgi temp paths
                           inside the prefix
    %%PREFIX%%             the prefix, no trailing slash
    %%PORT_<n>%%           $t->port(n)

An unknown C<%%NAME%%> dies.  The ports named in C<listen> directives
(IPv4) are the ones C<run> waits for.

=item test_config([$name])

Runs C<nginx -t -p prefix/ -c $name -e stderr> and returns
C<($ok, $output)>; the output also holds any lines the check logged to
error.log (those are excluded from the C<finish> check).

=item test_config_text($template)

Expands C<$template> into a new file (F<test-config-N.conf>), leaving
F<nginx.conf> and a running nginx alone, and returns C<test_config> of it:
the way to check config-time refusals.

=item dump_config($file [, $name])

Writes what C<nginx -T -p prefix/ -c $name> prints on stdout to C<$file>
(with the ASan runtime preloaded under C<./build.sh asan>); true if nginx
accepted the config.

=item run(%opt)

Starts nginx and waits (10 s) for the master and for every listening
C<%%PORT_n%%> to accept connections; dies with error.log and nginx's
stderr otherwise.  With C<may_fail =E<gt> 1> returns 0 instead of dying
(text in C<< $t->run_error >>, its log lines excluded from C<finish>).

=item reload(%opt)

C<kill -HUP> the master, then waits (10 s) until every old worker is gone
and new ones run.  Dies when the reload is refused (an C<[emerg]> appears)
or times out; with C<may_fail =E<gt> 1> returns 0 instead and excludes the
refusal from the C<finish> check.

=item reopen

C<kill -USR1> the master and waits until each worker logged
"reopening logs" (5 s).

=item stop

C<kill -QUIT>, waits for the pid file to vanish and the master to exit
(10 s), then TERM (5 s), then KILL.  Safe to call when not running.

=item master_pid, worker_pids

From the pid file, and the master's children (F</proc/*/stat>) whose title
says "worker process".

=item http(%req), https(%req)

One request on a new connection to 127.0.0.1.  Request fields:
C<method> (GET), C<uri> (/), C<port> (C<port(0)>), C<headers> (arrayref of
C<[name, value]> pairs, sent in order, duplicates allowed; a hashref also
works), C<body> (adds Content-Length unless given), C<host> ('localhost';
C<host =E<gt> undef> sends no Host), C<version> (HTTP/1.1), C<raw> (send
exactly this text instead), C<timeout> (5 s), C<keepalive> (do not add
C<Connection: close>), C<addr> (127.0.0.1).  C<https> also takes
C<ssl_version> (IO::Socket::SSL C<SSL_version>, e.g. C<'TLSv1_2'>,
C<'!TLSv1_3'>), C<sni> (default the host; '' or undef for none) and
C<ssl> (hashref of extra IO::Socket::SSL options); verification is off.

Returns undef with C<$@> set when the connection or TLS handshake fails.
Otherwise a hashref: C<status> (int; undef if no response),
C<reason>, C<version>, C<headers> (C<{lc name =E<gt> [values]}>),
C<header_list> (C<[[name, value], ...]> as received),
C<< header->($name) >> (first value or undef), C<body> (de-chunked; no
body for HEAD, 1xx, 204, 304), C<chunked>, C<trailers>, C<interim>
(skipped 1xx statuses), C<raw> (the response bytes), C<error> (timeout,
early close, ...), and for TLS C<tls_version> (e.g. C<TLSv1_3>) and
C<tls_cipher>.

=item keepalive(port =E<gt> $p, requests =E<gt> [ {...}, ... ], tls =E<gt> 0|1)

Sends the requests one after another on one HTTP/1.1 keep-alive
connection (no C<Connection: close>) and returns an arrayref of responses.
Other options (host, timeout, ssl_version, sni, ...) are defaults for
every request.  Stops early when the server closes the connection
(C<Connection: close>, e.g. at C<keepalive_requests>) or on an error, so
compare the count.  Buffered reads and Content-Length framing make 5,000
requests take about a second.  Returns undef (C<$@>) if the connection
cannot be made.

=item ignore_log_lines(qr/.../, ...)

Lines matching are not counted by C<finish>.

=item log_problems; Test::Compliance::log_problems_in($text, @ignore)

The offending lines (C<[alert]>, C<[emerg]>, C<[crit]>,
AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer, other
sanitizers, C<runtime error:>) of F<logs/error.log*> and
F<logs/nginx.stderr>, or of a text.

=item wait_for(sub { ... }, timeout =E<gt> 5, interval =E<gt> 0.05)

Polls until the sub returns true; returns its value or undef.

=item finish(%opt)

Stops nginx, C<ok()>s that C<log_problems> is empty (printing the lines
with C<diag>), removes the prefix, and calls C<done_testing> unless
another harness object of this test is still unfinished (or
C<done_testing =E<gt> 0>).  Count it in an explicit plan.  Do not call
C<done_testing> yourself.

=back

An C<END> block stops every nginx still running, prints the end of its
error.log and fails the test when an object was never C<finish>ed;
SIGINT and SIGTERM exit through it, so no nginx is left behind.

=head2 Style check

C<Test::Compliance::c_sources($root)> lists the C sources
(C<git ls-files --cached --others --exclude-standard '*.c' '*.h'>, or a
walk of F<ngx_compliance_module>, F<tools>, F<t/unit> outside git) and
C<Test::Compliance::style_problems($file [, $name])> returns
C<"name:line: problem"> strings: tab, CR, trailing whitespace, more than
80 columns, C<//> comments (outside string/char literals and C</* */>),
missing final newline.

=cut
