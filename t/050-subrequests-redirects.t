#!/usr/bin/perl
# Subrequests (SSI, auth_request) are not re-checked; internal redirects
# (error_page, index, named locations) keep the decision and still apply
# the new location's own requirements.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Test::Compliance;

my $t = Test::Compliance->new;

$t->write_file('html/page.shtml',
               "before <!--# include virtual=\"/internal/fragment\" --> after\n");
$t->write_file('html/dir/index.html', "index page\n");
my $html = $t->path('html');

$t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    default_type text/html;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        root $html;

        location = /page.shtml {
            compliance_public "ssi page";
            ssi on;
        }

        location /internal/ {
            return 200 "fragment";
        }

        location = /guarded {
            compliance_public "auth_request test";
            auth_request /internal/auth;
            return 200 "guarded ok\\n";
        }

        location /dir/ {
            compliance_public "index test";
        }

        location = /gone {
            compliance_public "error_page test";
            error_page 404 = /fallback;
            return 404;
        }

        location = /gone-private {
            compliance_public "error_page into protected";
            error_page 404 = /internal/x;
            return 404;
        }

        location = /fallback {
            compliance_public "fallback";
            return 200 "fallback \$compliance_auth_method\\n";
        }

        location = /named {
            compliance_public "named test";
            error_page 418 = \@named;
            return 418;
        }

        location \@named {
            return 200 "named \$compliance_auth_method\\n";
        }
    }
}
EOF

$t->run;

my $r = $t->http(uri => '/page.shtml');
is($r->{status}, 200, 'SSI page served');
is($r->{body}, "before fragment after\n",
   'SSI include of a protected location is not re-checked');

$r = $t->http(uri => '/internal/fragment');
is($r->{status}, 401, 'the fragment itself is protected');

$r = $t->http(uri => '/guarded');
is($r->{status}, 200, 'auth_request subrequest not re-checked');
is($r->{body}, "guarded ok\n", 'auth_request body');

$r = $t->http(uri => '/dir/');
is($r->{status}, 200, 'index internal redirect keeps the public decision');
is($r->{body}, "index page\n", 'index body');

$r = $t->http(uri => '/gone');
is($r->{status}, 200, 'error_page into a public location');
is($r->{body}, "fallback public\n", 'public after the error_page hop');

$r = $t->http(uri => '/gone-private');
is($r->{status}, 401,
   'error_page from public into protected: the new location applies');
my $p = decode_json($r->{body});
is($p->{request_id}, $r->{header}->('x-request-id'), 'one request id');

$r = $t->http(uri => '/named');
is($r->{status}, 401, 'named location is protected unless public');

$t->finish;
