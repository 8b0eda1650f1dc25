package Test::ComplianceVault;

# Running a CLI of the module with a secret on its stdin, as the vault
# tests do: run_cli($t, $stdin, @argv) returns (exit code, stdout and
# stderr together).

use strict;
use warnings;

use Exporter 'import';

our @EXPORT_OK = qw(run_cli);

sub run_cli {
    my ($t, $stdin, @args) = @_;

    # a command that refuses its arguments exits without reading stdin
    local $SIG{PIPE} = 'IGNORE';

    my $out = $t->path('cli.out');
    my $pid = open(my $fh, '|-');
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>', $out or die;
        open STDERR, '>&', \*STDOUT or die;
        exec @args or die "exec $args[0]: $!";
    }

    print {$fh} $stdin // '';
    close $fh;

    return ($? >> 8, $t->read_file('cli.out') // '');
}

1;
