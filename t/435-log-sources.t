#!/usr/bin/perl
# Where redaction in the access log comes from, variable by variable: the
# stock "combined" format's $request, $http_referer and $http_user_agent
# are redacted at the source under "compliance on" (the upstream still
# gets the headers as sent); a log_format that names a credential header
# ($http_authorization, the API-key header, a vault header, cookies) or a
# raw URI variable ($request_uri, $args, $arg_*) draws a warning at
# nginx -t naming the format, the variable and the safe replacement.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;

my $t = Test::Compliance->new;
my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';

my $keys = $t->path('keys.txt');
my $apikey = `$bin/compliance-keygen --file $keys --principal alice`;
chomp $apikey;
ok($apikey =~ /^ck_/, 'an API key');

my $pan = '4111111111111111';
my $jwtish = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.'
    . 'c2lnbmF0dXJlLW9mLXRoZS10b2tlbi14eXo';

$t->forbid_in_logs($apikey, $pan, $jwtish);

$t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    log_format seen '\$http_referer|\$http_user_agent';

    server {
        listen 127.0.0.1:%%PORT_1%%;
        # outside logs/: this stand-in upstream logs what it got, as sent
        access_log %%PREFIX%%/upstream-seen.log seen;
        location / {
            return 200 "ok\\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_0%%;
        access_log %%PREFIX%%/logs/combined.log;

        compliance on;
        compliance_api_keys $keys;

        location / {
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }
}
EOF

$t->run;

my $r = $t->http(uri => '/orders', headers => [
    [ 'X-API-Key', $apikey ],
    [ 'Referer', "https://shop.example/pay?card=$pan&t=$jwtish" ],
    [ 'User-Agent', "agent/1.0 (token $jwtish; card $pan)" ],
]);
is($r->{status}, 200, 'proxied');

$t->stop;

my $combined = $t->read_file('logs/combined.log') // '';
like($combined, qr/"GET \/orders HTTP\/1\.1" 200/, 'combined line written');
like($combined, qr/"https:\/\/shop\.example\/pay\?card=\[REDACTED:pan\]/,
     '$http_referer in "combined": the card number redacted');
like($combined, qr/"agent\/1\.0 \(token \[REDACTED:jwt\]; card \[REDACTED:pan\]\)"/,
     '$http_user_agent in "combined": token and card number redacted');
unlike($combined, qr/\Q$pan\E|\Q$jwtish\E/, 'neither in clear');

# the gateway does not rewrite what it forwards: the log of the upstream
# (compliance is not on there) shows the headers as sent
my $seen = $t->read_file('upstream-seen.log') // '';
ok(index($seen, "card=$pan") >= 0,
   'the upstream got the Referer as the client sent it');

# --- nginx -t names every risky variable in a log_format
my $conf = <<'EOF';
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    compliance_vault VAULT;
    FORMATS
    server {
        listen 127.0.0.1:%%PORT_5%%;
        compliance on;
        compliance_api_key_header X-Key;
        location / {
            compliance_public "a test";
        }
    }
}
EOF

(my $c = $conf) =~ s/^\s*compliance_vault VAULT;\n//m;

my @risky = (
    [ 'http_authorization', 'in clear, a credential' ],
    [ 'http_x_key',         'in clear, a credential' ],
    [ 'http_x_api_key',     'in clear, a credential' ],
    [ 'http_cookie',        'in clear, a credential' ],
    [ 'cookie_session',     'in clear, a credential' ],
    [ 'http_proxy_authorization', 'in clear, a credential' ],
    [ 'request_uri',        'unredacted' ],
    [ 'args',               'unredacted' ],
    [ 'query_string',       'unredacted' ],
    [ 'arg_token',          'unredacted' ],
);

my $formats = join "\n", map { "log_format f_$_->[0] '\$$_->[0]';" } @risky;
$formats .= "\nlog_format safe '\$request \$compliance_safe_uri "
    . "\$compliance_safe_args \$http_referer \$http_user_agent "
    . "\$compliance_principal \$status';";

(my $cf = $c) =~ s/FORMATS/$formats/;
# X-API-Key is the default header of any location without its own
$cf =~ s/(location \/ \{)/location \/default\/ { compliance_api_key_header X-API-Key; }\n        $1/;

my ($ok, $out) = $t->test_config_text($cf);
ok($ok, 'risky log formats: accepted (a warning, not a refusal)') or diag($out);

for my $v (@risky) {
    my ($name, $risk) = @$v;
    my $want = qq{log_format "f_$name" writes "\$$name" $risk};
    like($out, qr/\[warn\].*\Q$want\E/,
         "log_format with \$$name: warning ($risk)");
}

unlike($out, qr/log_format "safe"/, 'the safe format: no warning');
unlike($out, qr/log_format "combined"/, 'combined: no warning');

# a vault header is a credential too
my $vault = "$bin/compliance-vault";
system("'$vault' genkey '" . $t->path('v.key') . "' >/dev/null 2>&1") == 0
    or die 'genkey';
open my $in, '|-', "'$vault' --vault '" . $t->path('v.bin') . "' --key '"
    . $t->path('v.key') . "' set svc >/dev/null 2>&1" or die;
print {$in} 'sk-' . ('x' x 30);
close $in or die 'vault set';

($cf = $conf) =~ s{VAULT}{$t->path('v.bin') . ' key=' . $t->path('v.key')}e;
$cf =~ s/FORMATS/log_format up '\$http_x_upstream_token';/;
$cf =~ s/compliance_public "a test";/compliance_upstream_credential svc header=X-Upstream-Token; proxy_pass http:\/\/127.0.0.1:1;/;
($ok, $out) = $t->test_config_text($cf);
ok($ok, 'a vault header in a log_format: accepted') or diag($out);
like($out, qr/\[warn\].*log_format "up" writes "\$http_x_upstream_token" in clear/,
     'a vault header in a log_format: warning');

$t->finish;
