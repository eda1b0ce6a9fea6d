#!/usr/bin/perl
# A learner's 3g in Perl whose child has no exit after its work: it falls back into the accept loop.
use strict;
use warnings;
use IO::Socket::INET;
use POSIX ":sys_wait_h";

$SIG{CHLD} = sub { while (waitpid(-1, WNOHANG) > 0) {} };
my $listener = IO::Socket::INET->new(LocalPort => 8888, Listen => 1024, ReuseAddr => 1, Proto => 'tcp')
    or die "listen: $!\n";
$| = 1;
print "Serving HTTP on port 8888 ...\n";
while (1) {
    my $conn = $listener->accept() or next;    # undef on EINTR: go round again
    my $pid = fork();
    if (defined $pid && $pid == 0) {
        my $request;
        sysread($conn, $request, 1024);
        print $conn "HTTP/1.1 200 OK\r\n\r\nHello, World!\n";
        close($conn);
        next;    # the learner forgot exit(0): back to accept()
    }
    close($conn);
}
