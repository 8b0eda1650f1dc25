#!/usr/bin/perl
# compliance-keygen --rotate ID [--grace 7d] (SPEC 14): a new key for the
# same principal, org, scopes and allow-list, the old record given
# expires= the first midnight (UTC) at least the grace period away (or
# kept, when it expires sooner), what stdout and stderr say, the file as
# written (comment, order, mode, a trailing comment on the record), both
# keys accepted by nginx with the same identity, and the refusals.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX qw(strftime);
use Test::Compliance;
use Test::ComplianceAuth qw(keygen keygen_run apikey_record requests);

my $t = Test::Compliance->new;

my $bin = ($ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin')
          . '/compliance-keygen';
my $file = $t->path('keys.txt');

# (exit status, stdout, stderr) of one run
sub rotate {
    my (@args) = @_;

    my ($out, $err) = ($t->path('rot.out'), $t->path('rot.err'));
    my $cmd = join ' ', map { quotemeta } $bin, '--file', $file, @args;
    my $rc = system("$cmd >$out 2>$err") >> 8;

    return ($rc, $t->read_file('rot.out') // '', $t->read_file('rot.err')
            // '');
}

# the date --grace N days gives when run now (either side of a midnight)
sub dates_for {
    my ($days) = @_;
    my @d;

    for my $now (time, time + 5) {
        my $until = int(($now + $days * 86400 + 86399) / 86400) * 86400;
        push @d, strftime('%Y-%m-%d', gmtime $until);
    }

    return @d;
}

sub record {
    my ($id) = @_;
    my ($line) = grep { /^\Q$id\E / } split /\n/, $t->read_file('keys.txt');
    return $line // '';
}

my $old = keygen($file, '--principal', 'alice', '--org', 'acme',
                 '--scopes', 'read,write', '--allow', '127.0.0.1/32,::1');
my ($old_id) = $old =~ /^ck_([a-z2-7]{12})_/;
my $bob = keygen($file, '--principal', 'bob');

my @before = dates_for(7);
my ($rc, $out, $err) = rotate('--rotate', $old_id);
is($rc, 0, 'rotate: exit 0') or diag($err);
like($out, qr/^ck_[a-z2-7]{12}_[A-Za-z0-9_-]{43}\n\z/,
     'stdout: the new key alone');
chomp(my $new = $out);
my ($new_id) = $new =~ /^ck_([a-z2-7]{12})_/;
isnt($new_id, $old_id, 'a new key id');

my @err = split /\n/, $err;
is(scalar @err, 2, 'stderr: two lines');
is($err[0], "compliance-keygen: new key $new_id for principal \"alice\", "
   . "with the org, scopes and allow-list of $old_id",
   'line 1: the new key, the same identity');
ok(grep({ $err[1] eq "compliance-keygen: old key $old_id expires $_ "
                     . "(grace 7d); reload nginx to apply" } @before),
   'line 2: the old key expires after 7 days') or diag($err[1]);
unlike($err, qr/\Q$new\E/, 'the key text is not on stderr');

my ($date) = record($old_id) =~ / expires=(\S+)/;
ok(grep({ $_ eq ($date // '') } @before),
   'old record: expires= the first midnight 7 days away');
my $fields = 'principal=alice org=acme scopes=read,write '
             . 'allow=127.0.0.1/32,::1';
like(record($old_id), qr/^\Q$old_id\E sha256:\S+ \Q$fields\E expires=\S+$/,
     'old record: fields kept, expires= added');
like(record($new_id), qr/^\Q$new_id\E sha256:\S+ \Q$fields\E$/,
     'new record: the same principal, org, scopes, allow-list');

my @lines = split /\n/, $t->read_file('keys.txt');
is(scalar @lines, 4, 'four lines: old, comment, new, bob');
like($lines[0], qr/^\Q$old_id\E /, 'the old record stays in place');
like($lines[1], qr/^# \Q$new_id\E replaces \Q$old_id\E: rotated (?#
     )\d{4}-\d\d-\d\d, \Q$old_id\E expires \Q$date\E$/,
     'a comment says what replaced what');
like($lines[2], qr/^\Q$new_id\E /, 'the new record right after it');
like($lines[3], qr/principal=bob$/, 'other records untouched');
is((stat $file)[2] & 07777, 0640, 'mode 0640 kept');

# --- the default is 7 days; another grace, in weeks
my @two = dates_for(14);
my $r2 = keygen($file, '--principal', 'carol');
my ($r2_id) = $r2 =~ /^ck_([a-z2-7]{12})_/;
($rc, $out, $err) = rotate('--rotate', $r2_id, '--grace', '2w');
is($rc, 0, '--grace 2w') or diag($err);
my ($d2) = record($r2_id) =~ / expires=(\S+)/;
ok(grep({ $_ eq ($d2 // '') } @two), '--grace 2w: 14 days');
like($err, qr/\(grace 2w\)/, '... said');

# --- an expiry sooner than the grace is kept, never extended
my $soon = strftime('%Y-%m-%d', gmtime(time + 3 * 86400));
my $r3 = keygen($file, '--principal', 'dave', '--expires', $soon);
my ($r3_id) = $r3 =~ /^ck_([a-z2-7]{12})_/;
($rc, $out, $err) = rotate('--rotate', $r3_id, '--grace', '30d');
is($rc, 0, 'rotate a key that expires in 3 days') or diag($err);
like(record($r3_id), qr/ expires=\Q$soon\E$/, '... its date is kept');
is(() = record($r3_id) =~ /expires=/g, 1, '... one expires= field');
like($err, qr/old key \Q$r3_id\E expires \Q$soon\E \(its own date, (?#
     )sooner than the grace period 30d\)/, '... and said so');
chomp(my $r3new = $out);
my ($r3new_id) = $r3new =~ /^ck_([a-z2-7]{12})_/;
unlike(record($r3new_id), qr/expires=/,
       'the new key does not inherit the old expiry');

# --- --expires for the new key
my $later = strftime('%Y-%m-%d', gmtime(time + 90 * 86400));
($rc, $out, $err) = rotate('--rotate', $r3new_id, '--expires', $later);
is($rc, 0, '--rotate with --expires') or diag($err);
chomp(my $r4 = $out);
my ($r4_id) = $r4 =~ /^ck_([a-z2-7]{12})_/;
like(record($r4_id), qr/principal=dave expires=\Q$later\E$/,
     'the new key expires as asked');
like($err, qr/expires \Q$later\E$/m, '... said on line 1');

# --- a record with a trailing comment and CRLF, written by hand
my ($hand, $hline) = apikey_record(principal => 'erin', scopes => 'a');
my ($hand_id) = $hand =~ /^ck_([a-z2-7]{12})_/;
chomp $hline;
$t->write_file('keys.txt', $t->read_file('keys.txt')
               . "$hline expires=2099-01-01 # issued by ticket 42\r\n");
($rc, $out, $err) = rotate('--rotate', $hand_id, '--grace', '1d');
is($rc, 0, 'rotate a hand-written record') or diag($err);
my @one = dates_for(1);
like(record($hand_id), qr/ principal=erin scopes=a (?#
     )expires=(\Q$one[0]\E|\Q$one[1]\E) # issued by ticket 42$/,
     'expires= replaced before the trailing comment');
chomp(my $hnew = $out);

# --- nginx accepts both keys with one identity
$t->write_config(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_0%%;
        compliance on;
        compliance_api_keys %%PREFIX%%/keys.txt;

        location / {
            return 200 "$compliance_principal $compliance_org [$compliance_scopes]\n";
        }
    }
}
EOF

$t->run;

my @res = requests($t, [
    map { { uri => '/', headers => [ [ 'X-API-Key', $_ ] ] } }
        $old, $new, $hand, $hnew, $bob
]);

is($res[0]{body}, "alice acme [read write]\n", 'old key: accepted');
is($res[1]{body}, "alice acme [read write]\n",
   'new key: accepted, same identity');
is($res[2]{status}, 200, 'hand-written old key: accepted in its grace');
is($res[3]{body}, "erin  [a]\n", 'its new key: accepted');
is($res[4]{status}, 200, 'an untouched key: accepted');

# --- refusals, and the file is left alone
my $before = $t->read_file('keys.txt');
my @bad = (
    [ [ '--rotate', 'nosuchkey234' ], qr/no key with id "nosuchkey234"/,
      'unknown id' ],
    [ [ '--rotate', $old ], qr/--rotate needs a key id/,
      'a key text, not an id (not echoed)' ],
    [ [ '--rotate', $old_id, '--grace', '0d' ], qr/invalid --grace "0d"/,
      'grace 0d' ],
    [ [ '--rotate', $old_id, '--grace', '7' ], qr/invalid --grace "7"/,
      'grace without a unit' ],
    [ [ '--rotate', $old_id, '--grace', '7h' ], qr/invalid --grace "7h"/,
      'grace in hours (expiry is a date)' ],
    [ [ '--rotate', $old_id, '--grace', '3651d' ],
      qr/invalid --grace "3651d"/, 'grace over 10 years' ],
    [ [ '--list', '--grace', '7d' ], qr/--grace needs --rotate/,
      '--grace without --rotate' ],
    [ [ '--rotate', $old_id, '--scopes', 'admin' ],
      qr/--rotate keeps the principal, org, scopes and allow-list/,
      '--rotate with --scopes' ],
    [ [ '--rotate', $old_id, '--principal', 'x' ],
      qr/give exactly one of --principal, --list, --revoke, --rotate/,
      '--rotate with --principal' ],
    [ [ '--rotate', $old_id, '--expires', '2000-01-01' ],
      qr/--expires 2000-01-01 is not in the future/, 'past --expires' ],
);

for my $b (@bad) {
    my ($args, $re, $name) = @$b;
    ($rc, $out, $err) = rotate(@$args);
    isnt($rc, 0, "refused: $name");
    like($err, $re, "message: $name");
    is($out, '', "no key printed: $name");
    unlike($err, qr/\Q$old\E/, "no key text echoed: $name");
}

is($t->read_file('keys.txt'), $before, 'the refusals left the file alone');

# an expired key: make a new one instead
my ($dead, $dline) = apikey_record(principal => 'gone',
                                   expires => '2001-01-01');
my ($dead_id) = $dead =~ /^ck_([a-z2-7]{12})_/;
$t->write_file('keys.txt', $before . $dline);
($rc, $out, $err) = rotate('--rotate', $dead_id);
isnt($rc, 0, 'refused: an expired key');
like($err, qr/key \Q$dead_id\E has expired already/, 'message: expired');

my ($rc2, $help) = keygen_run($file, '--help');
like($help, qr/--rotate ID \[--grace 7d\]/, '--help shows --rotate');

$t->finish;
