package Test::ComplianceRedis;

# A real redis-server for the fleet-limit tests (SPEC 15): started by the
# test on 127.0.0.1 (a port of Test::Compliance, or a unix socket) with
# no persistence, in its own directory under the test prefix; a small
# RESP client to drive it (DEBUG SLEEP, SCRIPT FLUSH, HGET ...); and a
# delaying TCP proxy (python3) to make it slow.  Installs nothing:
# ./build.sh installs redis-server with the test packages.

use strict;
use warnings;

use Exporter qw(import);
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX ();
use Time::HiRes qw(time sleep);

our @EXPORT_OK = qw(redis_server_bin);

sub redis_server_bin {
    for my $b ('/usr/bin/redis-server', '/usr/sbin/redis-server') {
        return $b if -x $b;
    }

    return undef;
}

# new(t => $t, port => N | unix => path, password => 'x', name => 'r1')
sub new {
    my ($class, %opt) = @_;

    my $bin = redis_server_bin()
        or die "Test::ComplianceRedis: no redis-server (./build.sh "
             . "installs it with the test packages)\n";

    my $t = $opt{t};
    my $name = $opt{name} // 'redis';
    my $dir = $t->path($name);
    mkdir $dir;

    my $self = bless { %opt, bin => $bin, dir => $dir }, $class;

    $self->start;

    return $self;
}

sub start {
    my ($self) = @_;

    my @args = ($self->{bin}, '--bind', '127.0.0.1',
                '--port', $self->{port} // 0,
                '--save', '', '--appendonly', 'no',
                '--dir', $self->{dir},
                '--logfile', "$self->{dir}/redis.log",
                '--daemonize', 'no',
                '--enable-debug-command', 'local');

    push @args, '--unixsocket', $self->{unix}, '--unixsocketperm', '777'
        if $self->{unix};
    push @args, '--requirepass', $self->{password}
        if defined $self->{password};

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        exec(@args) or POSIX::_exit(127);
    }

    $self->{pid} = $pid;

    my $deadline = time + 10;

    while (time < $deadline) {
        my $r = eval { $self->cmd('PING') };
        return $self if defined $r && $r eq 'PONG';
        sleep 0.05;
    }

    die "Test::ComplianceRedis: redis-server did not answer\n";
}

sub pid { $_[0]{pid} }

sub running { defined $_[0]{pid} }

# SIGTERM (or the signal given), and reaped
sub stop {
    my ($self, $sig) = @_;

    return unless $self->{pid};

    kill $sig // 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
    delete $self->{sock};
}

sub kill9 { $_[0]->stop('KILL') }

sub DESTROY {
    my ($self) = @_;

    local $?;
    $self->stop if $self->{pid};
}

sub _sock {
    my ($self) = @_;

    return $self->{sock} if $self->{sock};

    my $s = $self->{unix} && !$self->{port}
        ? IO::Socket::UNIX->new(Peer => $self->{unix})
        : IO::Socket::INET->new(PeerAddr => "127.0.0.1:$self->{port}",
                                Timeout => 5);
    die "connect: $!\n" unless $s;

    $self->{sock} = $s;

    if (defined $self->{password}) {
        my $r = $self->cmd('AUTH', $self->{password});
        die "AUTH: $r\n" unless $r eq 'OK';
    }

    return $s;
}

sub _line {
    my ($s) = @_;

    my $l = <$s>;
    die "redis: connection closed\n" unless defined $l;
    $l =~ s/\r\n\z//;

    return $l;
}

sub _read {
    my ($s) = @_;

    my $l = _line($s);
    my ($type, $rest) = (substr($l, 0, 1), substr($l, 1));

    return $rest if $type eq '+' || $type eq ':';
    return "ERR:$rest" if $type eq '-';

    if ($type eq '$') {
        return undef if $rest < 0;
        my $buf = '';
        while (length $buf < $rest + 2) {
            my $n = read $s, $buf, $rest + 2 - length $buf, length $buf;
            die "redis: short read\n" unless $n;
        }
        return substr $buf, 0, $rest;
    }

    if ($type eq '*') {
        return undef if $rest < 0;
        return [ map { _read($s) } 1 .. $rest ];
    }

    die "redis: bad reply '$l'\n";
}

# one command, one reply: status/integer/bulk as a string, an error as
# "ERR:<message>", an array as an array reference
sub cmd {
    my ($self, @args) = @_;

    my $s = $self->_sock;
    my $out = '*' . @args . "\r\n";
    $out .= '$' . length($_) . "\r\n$_\r\n" for @args;

    print $s $out;
    $s->flush;

    return _read($s);
}

# commandstats calls of one command ("evalsha"), 0 when never called
sub calls {
    my ($self, $name) = @_;

    my $info = $self->cmd('INFO', 'commandstats') // '';

    return $info =~ /^cmdstat_\Q$name\E:calls=(\d+)/m ? $1 : 0;
}

# the zone's keys (binary names), by SCAN
sub keys_of {
    my ($self, $zone) = @_;

    my ($cursor, @keys) = (0);

    do {
        my $r = $self->cmd('SCAN', $cursor, 'MATCH', "compliance:$zone:*",
                           'COUNT', 1000);
        $cursor = $r->[0];
        push @keys, @{ $r->[1] };
    } while ($cursor ne '0');

    return @keys;
}

###########################################################################
# a TCP proxy to Redis, python3, 127.0.0.1 only.  While the file
# "redis-proxy.slow" exists it delays every chunk from Redis by "delay"
# seconds.  The file "redis-proxy.gate" steers its connections:
#   (absent) or "open"  every connection passes
#   "drop"              the connections are cut, new ones are accepted
#                       and closed at once (a failed handshake)
#   "one"               the first new connection passes, later ones are
#                       closed at once (each write of the file starts a
#                       new "one")
# "redis-proxy.stats" holds "passed refused": the connections passed
# through and closed at once so far.

my $PROXY = <<'PY';
import os, socket, sys, threading, time
listen_port, target_port, flag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
delay, gate, stats = float(sys.argv[4]), sys.argv[5], sys.argv[6]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', listen_port))
srv.listen(64)
lock = threading.Lock()
live = set()
count = {'passed': 0, 'refused': 0}
one = {'stamp': None, 'used': False}
def cut(s):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
def mode():
    try:
        st = os.stat(gate)
        with open(gate) as f:
            return f.read().strip(), st.st_mtime_ns
    except OSError:
        return 'open', None
def pipe(a, b, slow):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            if slow and os.path.exists(flag):
                time.sleep(delay)
            b.sendall(d)
    except OSError:
        pass
    with lock:
        live.discard(a)
        live.discard(b)
    for s in (a, b):
        cut(s)
def serve(c):
    u = socket.create_connection(('127.0.0.1', target_port))
    with lock:
        live.update((c, u))
    threading.Thread(target=pipe, args=(c, u, False), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c, True), daemon=True).start()
def note():
    tmp = stats + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d %d\n' % (count['passed'], count['refused']))
    os.rename(tmp, stats)
def watch():
    while True:
        if mode()[0] == 'drop':
            with lock:
                for s in list(live):
                    cut(s)
        time.sleep(0.02)
threading.Thread(target=watch, daemon=True).start()
note()
deadline = time.time() + 300
srv.settimeout(1)
while time.time() < deadline:
    try:
        c, _ = srv.accept()
    except socket.timeout:
        continue
    m, stamp = mode()
    if m == 'one' and stamp != one['stamp']:
        one['stamp'], one['used'] = stamp, False
    if m == 'drop' or (m == 'one' and one['used']):
        c.close()
        count['refused'] += 1
    else:
        one['used'] = one['used'] or m == 'one'
        serve(c)
        count['passed'] += 1
    note()
PY

# proxy($t, listen_port, redis_port, delay): { pid, flag, gate, stats }
sub proxy {
    my ($class, $t, $listen, $target, $delay) = @_;

    my $script = $t->path('redis-proxy.py');
    $t->write_file('redis-proxy.py', $PROXY);
    my %p = map { $_ => $t->path("redis-proxy.$_") } qw(slow gate stats);

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        exec('/usr/bin/python3', $script, $listen, $target, $p{slow},
             $delay, $p{gate}, $p{stats})
            or POSIX::_exit(127);
    }

    my $deadline = time + 10;

    while (time < $deadline) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$listen");
        if ($s) {
            close $s;
            return { pid => $pid, flag => $p{slow}, gate => $p{gate},
                     stats => $p{stats} };
        }
        sleep 0.05;
    }

    die "redis proxy did not start\n";
}

# proxy_stats($proxy): (passed, refused)
sub proxy_stats {
    my ($class, $proxy) = @_;

    open my $fh, '<', $proxy->{stats} or return (0, 0);
    my $line = <$fh> // '';
    close $fh;

    return $line =~ /^(\d+) (\d+)$/ ? ($1, $2) : (0, 0);
}

1;
