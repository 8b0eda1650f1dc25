package Test::ComplianceExamples;

# The configurations of examples/ as the tests use them: their names, the
# commands of their header comments, and an example turned into a
# Test::Compliance template.  Documentation (POD) is at the end.

use strict;
use warnings;

use Exporter 'import';
use Test::More ();
use Test::Compliance;

our @EXPORT_OK = qw(example_names example_text example_commands
                    example_ports example_template);

my $DIR = Test::Compliance->repo_root . '/examples';

sub example_names {
    opendir my $dh, $DIR or die "$DIR: $!";
    my @n = sort grep { /\.conf$/ && -f "$DIR/$_" } readdir $dh;
    closedir $dh;

    return @n;
}

sub example_text {
    my ($name) = @_;

    open my $fh, '<', "$DIR/$name" or die "$DIR/$name: $!";
    local $/;
    my $c = <$fh>;
    close $fh;

    return $c;
}

# The "$ command" lines of the comment block the file starts with, in
# order: each { text, expect, output, line }, where text holds the
# continuation lines of a command ending in "\", expect the status written
# as a trailing "# NNN" comment, and output the lines printed right below
# the command at its indentation.
sub example_commands {
    my ($name) = @_;

    my @lines = split /\n/, example_text($name);
    my (@cmds, $cur, $done);

    for my $i (0 .. $#lines) {
        my $l = $lines[$i];

        last unless $l =~ /^#/;

        if ($cur) {
            (my $more = $l) =~ s/^#\s*//;
            $cur->{text} .= "\n$more";

        } elsif ($l =~ /^#(\s+)\$ (.*)$/) {
            $cur = { text => $2, line => $i + 1, indent => $1, output => [] };

        } elsif ($done && $l =~ /^#\Q$done->{indent}\E(\S.*)$/) {
            push @{ $done->{output} }, $1;
            next;

        } else {
            $done = undef;
            next;
        }

        next if $cur->{text} =~ /\\$/;

        $cur->{expect} = $1 if $cur->{text} =~ /\s#\s*(\d{3})\s*$/;
        push @cmds, $cur;
        ($done, $cur) = ($cur, undef);
    }

    delete $_->{indent} for @cmds;

    return @cmds;
}

# The 127.0.0.1 ports an example uses, in order of first appearance.
sub example_ports {
    my ($text) = @_;

    my (%seen, @p);
    push @p, grep { !$seen{$_}++ } $text =~ /127\.0\.0\.1:(\d+)/g;

    return @p;
}

# An example as a harness template: the module under test, the harness's
# pid and error_log, each 127.0.0.1 port a %%PORT_n%% (n in order of
# first appearance); the rest (temp paths, logs, keys relative to the
# prefix) is the example's own.  ok()s what it relies on.
sub example_template {
    my ($name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $c = example_text($name);
    my @ports = example_ports($c);
    my %index = map { $ports[$_] => $_ } 0 .. $#ports;

    Test::More::ok(
        $c =~ s/^load_module [^;]+;/%%LOAD_MODULE%%\n%%TEST_GLOBALS%%/m,
        "$name: has load_module");
    Test::More::ok($c =~ s/^pid [^;]+;//m, "$name: has pid");
    Test::More::ok($c =~ s/^error_log [^;]+;//m, "$name: has error_log");
    Test::More::ok($c =~ /^\s*client_body_temp_path\s/m
                   && $c =~ /^\s*proxy_temp_path\s/m,
                   "$name: keeps nginx's temporary files in the prefix");
    Test::More::ok(@ports >= 2, "$name: listens on 127.0.0.1 ports");

    $c =~ s{127\.0\.0\.1:(\d+)}{127.0.0.1:%%PORT_$index{$1}%%}g;

    return $c;
}

1;

__END__

=head1 NAME

Test::ComplianceExamples - the example configurations, for tests

=head1 SYNOPSIS

    use Test::ComplianceExamples qw(example_template example_commands);

    my $t = Test::Compliance->new;
    $t->write_config(example_template('apikey.conf'));
    $t->run;                       # %%PORT_0%% is the example's 8080

    for my $c (example_commands('apikey.conf')) {
        # $c->{text}: "mkdir -p apikey-demo/logs && ...", $c->{expect}
    }

=head1 FUNCTIONS

=over

=item example_names

The F<examples/*.conf> file names, sorted.

=item example_text($name)

The file's text.

=item example_commands($name)

The commands of the file's leading comment block: lines C<#   $ cmd>,
with the continuation lines of a command that ends in C<\>. Each is a
hashref: C<text> (the command, continuation lines joined with newlines
as a shell reads them), C<expect> (the HTTP status of a trailing
C<# 200> comment, or undef), C<output> (arrayref of the lines written
right below the command at the indentation of its C<$>: what it prints),
C<line> (its first line in the file).

=item example_ports($text)

The C<127.0.0.1:N> ports of a text, in order of first appearance.

=item example_template($name)

The example as a C<Test::Compliance> template: C<load_module> becomes
C<%%LOAD_MODULE%%> and C<%%TEST_GLOBALS%%>, its C<pid> and C<error_log>
are dropped, and the I<n>-th distinct C<127.0.0.1> port becomes
C<%%PORT_>I<n>C<%%>. Everything else, relative to the prefix, stays.
Runs five C<ok()>s (load_module, pid, error_log, temporary files in the
prefix, two ports at least).

=back

=cut
