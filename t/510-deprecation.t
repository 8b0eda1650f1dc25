#!/usr/bin/perl
# compliance_deprecation: Deprecation (RFC 9745), Sunset (RFC 8594) and
# Link rel="deprecation" on every response of the location, errors and
# refusals included; "deprecated": true in the records; with "enforce",
# 410 api_sunset from the sunset on (dates in the past and the future),
# under compliance on and off; config-time checks of dates and links.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use POSIX qw(strftime);
use Time::Local qw(timegm);
use Test::Compliance;

my $t = Test::Compliance->new;

$t->write_config(<<'EOF2');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance_audit_log logs/audit.jsonl;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        compliance on;

        location /v1/ {
            compliance_public "test";
            compliance_deprecation 2020-01-01 sunset=2021-06-30
                link=https://docs.example.com/migrate enforce;
            return 200 "v1\n";

            location /v1/nested/ {
                return 200 "nested\n";
            }
        }

        location /v2/ {
            compliance_public "test";
            compliance_deprecation 2020-01-01 sunset=2099-12-31
                link=https://docs.example.com/v3?from=v2 enforce;
            return 200 "v2\n";
        }

        location /v3/ {
            compliance_public "test";
            compliance_deprecation 2099-01-01;
            return 200 "v3\n";
        }

        location /v4/ {
            compliance_public "test";
            compliance_deprecation 2020-01-01 sunset=2021-06-30;
            proxy_pass http://127.0.0.1:%%PORT_3%%/;
        }

        location /v5/ {
            compliance_deprecation 2020-01-01 sunset=2021-06-30 enforce;
            return 200 "v5\n";
        }

        location /v6/ {
            compliance_public "test";
            compliance_deprecation 2020-01-01
                link=https://docs.example.com/v6;
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location /plain/ {
            compliance_public "test";
            return 200 "plain\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;

        location / {
            add_header Deprecation "@1";
            add_header Sunset "Thu, 01 Jan 1970 00:00:01 GMT";
            add_header Link "</next>; rel=\"next\"";
            return 200 "upstream\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_2%%;

        location /old/ {
            compliance_deprecation 2020-01-01 sunset=2021-06-30 enforce;
            return 200 "old\n";
        }

        location /later/ {
            compliance_deprecation 2020-01-01 sunset=2099-12-31 enforce;
            return 200 "later\n";
        }
    }
}
EOF2

$t->run;

my $dep2020 = '@' . timegm(0, 0, 0, 1, 0, 2020);
my $dep2099 = '@' . timegm(0, 0, 0, 1, 0, 2099);
my $sun2021 = strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime timegm(0, 0, 0, 30, 5, 2021));
my $sun2099 = strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime timegm(0, 0, 0, 31, 11, 2099));

is($dep2020, '@1577836800', 'expected Deprecation value');
is($sun2021, 'Wed, 30 Jun 2021 00:00:00 GMT', 'expected Sunset value');

sub problem {
    my ($r) = @_;
    return eval { JSON::PP->new->decode($r->{body}) } // {};
}

# --- sunset in the past, enforced: 410 api_sunset, with the headers
my $r = $t->http(uri => '/v1/x');
is($r->{status}, 410, 'past sunset, enforce: 410');
is($r->{header}->('content-type'), 'application/problem+json',
   '... problem+json');
is(problem($r)->{reason}, 'api_sunset', '... reason api_sunset');
is(problem($r)->{title}, 'Gone', '... title Gone');
is(problem($r)->{request_id}, $r->{header}->('x-request-id'),
   '... with the request id');
is($r->{header}->('deprecation'), $dep2020, '... Deprecation');
is($r->{header}->('sunset'), $sun2021, '... Sunset');
is($r->{header}->('link'), '<https://docs.example.com/migrate>; '
   . 'rel="deprecation"', '... Link');
my $id410 = $r->{header}->('x-request-id');

$r = $t->http(uri => '/v1/x', method => 'HEAD');
is($r->{status}, 410, 'HEAD: 410 too');
is($r->{header}->('sunset'), $sun2021, '... with Sunset');

$r = $t->http(uri => '/v1/nested/x');
is($r->{status}, 410, 'a nested location inherits the timeline');
is($r->{header}->('deprecation'), $dep2020, '... and the headers');

# --- sunset in the future: served, with the headers
$r = $t->http(uri => '/v2/x');
is($r->{status}, 200, 'future sunset, enforce: served');
is($r->{body}, "v2\n", '... by the location');
is($r->{header}->('deprecation'), $dep2020, '... Deprecation');
is($r->{header}->('sunset'), $sun2099, '... Sunset');
is($r->{header}->('link'), '<https://docs.example.com/v3?from=v2>; '
   . 'rel="deprecation"', '... Link');
my $id200 = $r->{header}->('x-request-id');

# --- deprecation in the future, nothing else
$r = $t->http(uri => '/v3/x');
is($r->{status}, 200, 'deprecation date only');
is($r->{header}->('deprecation'), $dep2099, '... Deprecation (future)');
ok(!$r->{header}->('sunset') && !$r->{header}->('link'),
   '... no Sunset, no Link');

# --- past sunset without enforce: served; errors carry the headers
$r = $t->http(uri => '/v4/x');
is($r->{status}, 502, 'no enforce: the request goes on (dead upstream)');
is($r->{header}->('deprecation'), $dep2020, '... the 502 has Deprecation');
is($r->{header}->('sunset'), $sun2021, '... and Sunset');

# --- authentication comes before the sunset (SPEC 3)
$r = $t->http(uri => '/v5/x');
is($r->{status}, 401, 'no credentials: 401 before the sunset');
is(problem($r)->{reason}, 'missing_credentials', '... missing_credentials');
is($r->{header}->('deprecation'), $dep2020, '... with Deprecation');

# --- an upstream's own timeline is replaced; other links stay
$r = $t->http(uri => '/v6/x');
is($r->{status}, 200, 'upstream response');
is_deeply($r->{headers}{deprecation}, [$dep2020],
          'one Deprecation, the gateway\'s');
is_deeply($r->{headers}{sunset}, ['Thu, 01 Jan 1970 00:00:01 GMT'],
          'an upstream Sunset stays when the gateway sets none');
is_deeply([ sort @{ $r->{headers}{link} } ],
          [ '</next>; rel="next"',
            '<https://docs.example.com/v6>; rel="deprecation"' ],
          'Link: the upstream\'s and ours');

$r = $t->http(uri => '/plain/x');
ok(!$r->{header}->('deprecation'), 'other locations: no Deprecation');
my $idplain = $r->{header}->('x-request-id');

# --- under compliance off
$r = $t->http(uri => '/old/x', port => $t->port(2));
is($r->{status}, 410, 'compliance off: past sunset enforced');
is(problem($r)->{reason}, 'api_sunset', '... api_sunset');
is($r->{header}->('deprecation'), $dep2020, '... Deprecation');
$r = $t->http(uri => '/later/x', port => $t->port(2));
is($r->{status}, 200, 'compliance off: future sunset served');
is($r->{header}->('sunset'), $sun2099, '... Sunset');

# --- the records
sub record {
    my ($id) = @_;
    return $t->wait_for(sub {
        for my $l (split /\n/, $t->read_file('logs/audit.jsonl') // '') {
            my $j = eval { JSON::PP->new->decode($l) } or next;
            return $j if ($j->{request_id} // '') eq $id;
        }
        return undef;
    });
}

my $rec = record($id410);
ok($rec, 'record of the 410');
is($rec->{deprecated}, JSON::PP::true, '... deprecated: true');
is($rec->{reason}, 'api_sunset', '... reason api_sunset');
is($rec->{status}, 410, '... status 410');
$rec = record($id200);
is($rec->{deprecated}, JSON::PP::true, 'record of a served request: true');
$rec = record($idplain);
ok($rec && !exists $rec->{deprecated},
   'other locations: no "deprecated" member');

# --- nginx -t
$t->config_refusals([
    [ 'compliance_deprecation 2026-02-30;',
      qr/invalid date "2026-02-30" in "compliance_deprecation", it must be a calendar date YYYY-MM-DD/ ],
    [ 'compliance_deprecation 26-06-30;', qr/invalid date "26-06-30"/ ],
    [ 'compliance_deprecation 2026-06-30 sunset=2026-13-01;',
      qr/invalid date "sunset=2026-13-01"/ ],
    [ 'compliance_deprecation 2026-06-30 sunset=2026-06-30;',
      qr/sunset "2026-06-30" in "compliance_deprecation" is not after the deprecation date "2026-06-30"/ ],
    [ 'compliance_deprecation 2026-06-30 sunset=2026-01-01;',
      qr/is not after the deprecation date/ ],
    [ 'compliance_deprecation 2026-06-30 link=/migrate;',
      qr/invalid link "\/migrate" in "compliance_deprecation", it must be an absolute URL without spaces or quotes/ ],
    [ 'compliance_deprecation 2026-06-30 "link=https://docs/a b";',
      qr/invalid link "https:\/\/docs\/a b"/ ],
    [ q{compliance_deprecation 2026-06-30 'link=https://docs/"x';},
      qr/invalid link/ ],
    [ 'compliance_deprecation 2026-06-30 link=https://;',
      qr/invalid link "https:\/\/"/ ],
    [ 'compliance_deprecation 2026-06-30 link=docs.example.com;',
      qr/invalid link/ ],
    [ 'compliance_deprecation 2026-06-30 enforce;',
      qr/"enforce" in "compliance_deprecation" needs a "sunset=" date/ ],
    [ 'compliance_deprecation 2026-06-30 soon;',
      qr/invalid parameter "soon" in "compliance_deprecation"/ ],
    [ 'compliance_deprecation 2026-06-30 sunset=2027-01-01 sunset=2028-01-01;',
      qr/duplicate parameter "sunset=2028-01-01"/ ],
    [ 'compliance_deprecation 2026-06-30; compliance_deprecation 2026-07-01;',
      qr/"compliance_deprecation" directive is duplicate/ ],
], at => 'location');

$t->config_refusals([
    [ 'compliance_deprecation 2026-06-30;', qr/is not allowed here/ ],
], at => 'server');

$t->config_accepted(<<'EOF2', 'every parameter');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    server {
        location / {
            compliance_deprecation 2026-06-30 sunset=2027-01-01
                link=https://docs.example.com/migrate#v2 enforce;
        }
    }
}
EOF2

$t->finish;
