#!/usr/bin/perl
# How many keys a compliance_limit_zone holds.  The location limits each
# client address (key=ip, the address taken from X-Forwarded-For by the
# realip module) to one request an hour, so a remembered address is
# refused (429) and a forgotten one is served (200).
#
#   zone-capacity.pl PORT PATH N
#
# Pass 1 sends one request from each of N distinct addresses (all must be
# 200).  Pass 2 sends them again newest first: the addresses the zone
# still holds are exactly the run of 429s before the first 200.  Prints
# "sent=N pass1_200=.. retained=K".  Requests are pipelined on keepalive
# connections, 64 at a time.

use strict;
use warnings;

use IO::Socket::INET;

my ($port, $path, $n) = @ARGV;
die "usage: zone-capacity.pl PORT PATH N\n" unless $n && $n > 0;

my $BATCH = 64;

sub addr {
    my ($i) = @_;

    return join '.', 10, ($i >> 16) & 255, ($i >> 8) & 255, $i & 255;
}

my $sock;

sub connect_once {
    $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $port, Proto => 'tcp')
        or die "zone-capacity.pl: connect 127.0.0.1:$port: $!\n";
    binmode $sock;
}

# one response's status, or undef when the connection ended first
my $buf = '';

sub read_response {
    while (1) {
        if ($buf =~ /\A(HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n(.*?)\r\n\r\n)/s) {
            my ($head, $status, $fields) = ($1, $2, $3);
            my $len = $fields =~ /^content-length:\s*(\d+)/mi ? $1 : 0;

            if (length($buf) >= length($head) + $len) {
                substr($buf, 0, length($head) + $len, '');
                return $status;
            }
        }

        my $got = sysread($sock, $buf, 65536, length $buf);
        return undef unless $got;
    }
}

# statuses of the requests from these addresses, in order
sub send_all {
    my (@ips) = @_;

    my @st;

    while (@st < @ips) {
        my @batch = @ips[ scalar @st
                          .. ($#ips < @st + $BATCH - 1
                              ? $#ips : @st + $BATCH - 1) ];

        connect_once() unless $sock && $sock->connected;

        my $req = join '', map {
            "GET $path HTTP/1.1\r\nHost: bench\r\nX-Forwarded-For: $_\r\n\r\n"
        } @batch;

        defined syswrite($sock, $req) or do { undef $sock; next };

        for (@batch) {
            my $s = read_response();

            if (!defined $s) {
                # the connection ended: resend what is unanswered
                undef $sock;
                $buf = '';
                last;
            }

            push @st, $s;
        }
    }

    return @st;
}

my @ips = map { addr($_) } 1 .. $n;

my @p1 = send_all(@ips);
my $ok = grep { $_ == 200 } @p1;

my $kept = 0;

# newest first, in batches, stopping at the first forgotten address
my @rev = reverse @ips;

OUTER: while (@rev) {
    my @b = splice @rev, 0, 1024;

    for my $s (send_all(@b)) {
        last OUTER if $s != 429;
        $kept++;
    }
}

print "sent=$n pass1_200=$ok retained=$kept\n";
