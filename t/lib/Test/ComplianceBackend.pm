package Test::ComplianceBackend;

# The leaky application server of the SPEC 12 tests
# (t/helpers/boundary-backend.py): started on 127.0.0.1, waited for,
# stopped when the test ends.

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(python_available start_backend);

my @pids;

sub python_available {
    return system('/usr/bin/python3 -c "import socketserver" 2>/dev/null')
        == 0;
}

# start_backend($t, $port [, $script]) or
# start_backend($t, $port, script => 'name.py', args => [...]): forks the
# backend (a script of t/helpers/, boundary-backend.py unless named, given
# its port and args); dies unless it accepts connections within 5 s
sub start_backend {
    my ($t, $port, @rest) = @_;

    my %opt = @rest == 1 ? (script => $rest[0]) : @rest;

    my $script = $t->repo_root . '/t/helpers/'
        . ($opt{script} // 'boundary-backend.py');
    my @args = @{ $opt{args} || [] };

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>>', $t->path('logs/backend.stderr');
        { exec '/usr/bin/python3', $script, $port, @args; }
        POSIX::_exit(127);
    }

    push @pids, $pid;

    my $deadline = time + 5;

    while (time < $deadline) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                      Proto => 'tcp', Timeout => 1);
        if ($s) {
            close $s;
            return $pid;
        }
        sleep 0.05;
    }

    die "the backend did not listen on 127.0.0.1:$port\n";
}

END {
    local $?;

    for my $pid (@pids) {
        kill 'TERM', $pid;
        waitpid $pid, 0;
    }
}

1;
