#!/usr/bin/perl
# Posture at config load (issue 16, SPEC 13): every check with a
# configuration that has the gap and one that does not, waivers, the
# summary line, strict and off, refused waivers.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Compliance;
use Test::ComplianceAudit qw(genkey audit_bin);

my $t = Test::Compliance->new;
my $bin = audit_bin($t);
my $p = $t->prefix;

my $chain = genkey($t, 'chain.key');
system("$bin/compliance-keygen --file $p/keys --principal a >/dev/null") == 0
    or die "keygen failed";
chmod 0640, "$p/keys";

# an HS256 key of 32 bytes for the JWT checks
$t->write_file('jwks.json', '{"kty":"oct","alg":"HS256","kid":"k1",'
               . '"k":"' . ('A' x 43) . '"}');
chmod 0600, $t->path('jwks.json');

for my $c ([ 'soon', 10 ], [ 'later', 400 ]) {
    my ($name, $days) = @$c;
    system("openssl req -x509 -newkey rsa:2048 -nodes -keyout $p/$name.key "
           . "-out $p/$name.crt -days $days -subj /CN=$name.example "
           . ">/dev/null 2>&1") == 0 or die "openssl req failed";
}

# a configuration with every control; %o turns one off or adds lines
sub conf {
    my (%o) = @_;

    my $audit = $o{no_audit} ? ''
        : "compliance_audit_log $p/logs/audit.jsonl;";
    my $chained = ($o{no_chain} || $o{no_audit}) ? ''
        : "compliance_audit_chain $chain;";
    my $limit = $o{no_limit} ? ''
        : 'compliance_limit zone=z rate=10r/s key=ip;';
    my $fail = $o{no_failure} ? ''
        : 'compliance_auth_failure_limit zone=z rate=5r/m;';
    my $redirect = $o{no_redirect} ? '' : 'compliance_https_redirect on;';
    my $hsts = $o{weak_hsts} ? 'compliance_hsts max-age=300;'
                             : 'compliance_hsts max-age=31536000;';
    my $floor = $o{no_floor} ? '' : 'compliance_tls_min TLSv1.2;';
    my $errors = $o{no_error_pages} ? '' : 'compliance_error_pages on;';
    my $cert = $o{cert} // 'later';
    my $auth = $o{jwt}
        ? "compliance_jwt_keys $p/jwks.json; $o{jwt}"
        : "compliance_api_keys $p/keys;";
    my $posture = $o{posture} ? "compliance_posture $o{posture};" : '';
    my $extra = $o{http} // '';
    my $loc = $o{location} // '';

    return <<"EOF";
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    $posture
    $extra
    compliance_limit_zone z 1m;
    $audit
    $chained
    server {
        listen 127.0.0.1:%%PORT_5%%;
        listen 127.0.0.1:%%PORT_6%% ssl;
        ssl_certificate $p/$cert.crt;
        ssl_certificate_key $p/$cert.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        compliance on;
        $auth
        $redirect
        $hsts
        $floor
        $errors
        location /api {
            $limit
            $fail
            $loc
        }
    }
}
EOF
}

sub posture {
    my ($conf) = @_;
    my ($ok, $out) = $t->test_config_text($conf);
    return ($ok, join("\n", grep { /compliance posture: / }
                            split /\n/, $out));
}

# the clean configuration: no gap at all
my ($ok, $out) = posture(conf(jwt => 'compliance_jwt_issuer https://idp; '
                                   . 'compliance_jwt_audience api; '
                                   . 'compliance_jwt_max_lifetime 1h;'));
ok($ok, 'a configuration with every control loads');
like($out, qr/compliance posture: \d+ checks, 0 gaps, 0 waived/,
     'every control: no gap, and the summary line');
unlike($out, qr/\[warn\]/, 'every control: no gap line');

my $clean = (posture(conf()))[1];
like($clean, qr/ 0 gaps, 0 waived/, 'the same with API keys: no gap');

# each check: [ name, options that open the gap, what the line says ]
my @checks = (
    [ 'unprotected_location', { location => 'compliance off;',
                                no_limit => 1, no_failure => 1 },
      qr/neither "compliance on" nor "compliance_public", in server "" location "\/api" in \S+:\d+/ ],
    [ 'rate_limit', { no_limit => 1 },
      qr/protected without "compliance_limit", in server "" location "\/api"/ ],
    [ 'auth_failure_limit', { no_failure => 1 },
      qr/protected without "compliance_auth_failure_limit"/ ],
    [ 'error_pages', { no_error_pages => 1 },
      qr/protected without "compliance_error_pages", in server "" location "\/api"/ ],
    [ 'validation', { location => 'proxy_pass http://127.0.0.1:%%PORT_7%%;' },
      qr/protected and proxied without "compliance_validate_body" or "compliance_graphql", in server "" location "\/api"/ ],
    [ 'audit_log', { no_audit => 1 }, qr/no audit trail/ ],
    [ 'audit_chain', { no_chain => 1 }, qr/is not chained/ ],
    [ 'https_redirect', { no_redirect => 1 },
      qr/plain HTTP serves 1 non-public location\(s\) without "compliance_https_redirect", in server ""/ ],
    [ 'hsts', { weak_hsts => 1 }, qr/TLS server with \d+ location\(s\) without "compliance_hsts" of max-age >= 31536000/ ],
    [ 'certificate_expiry', { cert => 'soon' },
      qr/certificate "\/CN=soon.example" expires in (9|10) day\(s\)/ ],
    [ 'jwt_issuer_audience', { jwt => 'compliance_jwt_max_lifetime 1h;' },
      qr/JWT accepted without an issuer and an audience check/ ],
    [ 'jwt_lifetime', { jwt => 'compliance_jwt_issuer https://idp; '
                               . 'compliance_jwt_audience api;' },
      qr/JWT accepted without "compliance_jwt_max_lifetime" of at most 1h/ ],
    [ 'mfa', { location => 'compliance_audit_sensitive "PHI";' },
      qr/mfa: sensitive \("PHI"\) without "compliance_require_mfa", in server "" location "\/api"/ ],
);

for my $c (@checks) {
    my ($check, $o, $re) = @$c;

    unlike($clean, qr/posture: \Q$check\E:/, "$check: no gap with the control");

    my ($ok, $out) = posture(conf(%$o));
    ok($ok, "$check: a gap is a warning, nginx -t passes");
    like($out, qr/\[warn\] .*compliance posture: \Q$check\E: /,
         "$check: the gap is named") or diag($out);
    like($out, $re, "$check: what and where") if $re;
    like($out, qr/ [1-9]\d* gaps?, 0 waived/, "$check: counted");
}

# validation: a proxied location with a body schema has no gap; a
# location without a content handler ("return") is not proxied
{
    $t->write_file('body.json', '{"type":"object"}');
    my ($ok, $out) = posture(conf(location => 'proxy_pass '
                                  . 'http://127.0.0.1:%%PORT_7%%; '
                                  . "compliance_validate_body $p/body.json;"));
    unlike($out, qr/posture: validation:/, 'validation: none with the schema');
    like($out, qr/ 0 gaps, 0 waived/, 'validation: no gap at all');
    ($ok, $out) = posture(conf(location => 'return 200;'));
    unlike($out, qr/posture: validation:/, 'validation: not proxied, no gap');
    ($ok, $out) = posture(conf(location => 'proxy_pass '
                                  . 'http://127.0.0.1:%%PORT_7%%; '
                                  . 'compliance_posture_waive validation '
                                  . '"read-only API, no bodies";'));
    like($out, qr/validation: waived \("read-only API, no bodies"\)/,
         'validation: waivable');
    ($ok, $out) = posture(conf(location => 'proxy_pass '
                                  . 'http://127.0.0.1:%%PORT_7%%; '
                                  . 'compliance_graphql;'));
    unlike($out, qr/posture: validation:/,
           'validation: a GraphQL endpoint under compliance_graphql, no gap');
}

# mfa: a sensitive location that requires MFA has no gap, and is counted
{
    my ($n0) = $clean =~ /(\d+) checks/;
    my ($ok, $out) = posture(conf(location => 'compliance_audit_sensitive '
                                  . '"PHI"; compliance_require_mfa;'));
    unlike($out, qr/posture: mfa:/, 'mfa: no gap with compliance_require_mfa');
    like($out, qr/ 0 gaps, 0 waived/, 'mfa: nothing else either');
    my ($n1) = $out =~ /(\d+) checks/;
    is($n1, $n0 + 1, 'mfa: evaluated only for sensitive locations');
}

# tls_protocols: the server's ssl_protocols allow TLSv1.1, no floor
unlike($clean, qr/posture: tls_protocols:/, 'tls_protocols: no gap with the control');
{
    my $conf = conf(no_floor => 1);
    $conf =~ s/ssl_protocols TLSv1.2 TLSv1.3;/ssl_protocols TLSv1.1 TLSv1.2;/;
    my ($ok, $out) = posture($conf);
    like($out, qr/tls_protocols: "ssl_protocols" allows TLSv1.1 and 1 location\(s\) have no "compliance_tls_min"/,
         'tls_protocols: old protocols without a floor');
}

# key_file_mode: the directive's own line
{
    chmod 0644, "$p/keys";
    my ($ok, $out) = posture(conf());
    like($out, qr/key_file_mode: key file "\Q$p\E\/keys" of "compliance_api_keys" has mode 0644, in \S+\.conf:\d+/,
         'key_file_mode: the file, its directive and its mode');
    chmod 0640, "$p/keys";
}

# audit_checkpoints: the chain's checkpoints need a main-level error log
# that keeps them
unlike($clean, qr/posture: audit_checkpoints:/,
       'audit_checkpoints: no gap with a file error log');
{
    my $globals = "pid $p/logs/nginx.pid;\nerror_log /dev/null;";
    my $conf = conf();
    $conf =~ s/%%TEST_GLOBALS%%/$globals/;
    my ($ok, $out) = posture($conf);
    ok($ok, 'audit_checkpoints: a gap is a warning, nginx -t passes');
    like($out, qr/\[warn\] .*audit_checkpoints: the chain's checkpoints reach no lasting error log \(every main-level "error_log" is \/dev\/null or memory\), so a cut tail of "[^"]*audit.jsonl" goes unseen, in \S+\.conf:\d+/,
         'audit_checkpoints: only /dev/null') or diag($out);

    $conf = conf();
    $conf =~ s/%%TEST_GLOBALS%%/$globals\nerror_log syslog:server=127.0.0.1:%%PORT_9%%;/;
    ($ok, $out) = posture($conf);
    unlike($out, qr/audit_checkpoints:/,
           'audit_checkpoints: syslog next to /dev/null keeps them');

    $conf = conf(no_chain => 1);
    $conf =~ s/%%TEST_GLOBALS%%/$globals/;
    ($ok, $out) = posture($conf);
    unlike($out, qr/audit_checkpoints:/,
           'audit_checkpoints: not evaluated without a chain');

    $conf = conf(no_limit => 1,
        http => 'compliance_posture_waive audit_checkpoints "journald";');
    $conf =~ s/%%TEST_GLOBALS%%/$globals/;
    ($ok, $out) = posture($conf);
    like($out, qr/audit_checkpoints: waived \("journald"\)/,
         'audit_checkpoints: waivable in the http block');
}

# a waiver turns the gap into "waived", with its reason
($ok, $out) = posture(conf(no_limit => 1,
    location => 'compliance_posture_waive rate_limit "the gateway in front limits";'));
like($out, qr/\[notice\] .*rate_limit: waived \("the gateway in front limits"\): protected without "compliance_limit"/,
     'waiver: listed with its reason');
like($out, qr/ 0 gaps, 1 waived/, 'waiver: counted as waived');

# inherited from the http block
($ok, $out) = posture(conf(no_limit => 1,
    http => 'compliance_posture_waive rate_limit "limits upstream";'));
like($out, qr/ 0 gaps, 1 waived/, 'waiver in the http block applies below');

# strict: a gap fails nginx -t
($ok, $out) = posture(conf(no_limit => 1, posture => 'strict'));
ok(!$ok, 'strict: a gap fails nginx -t');
like($out, qr/\[emerg\] .*compliance posture: rate_limit: /,
     'strict: the gap is an [emerg]');
($ok) = posture(conf(posture => 'strict'));
ok($ok, 'strict without gaps: loads');

# off: nothing is evaluated
($ok, $out) = posture(conf(no_limit => 1, posture => 'off'));
ok($ok, 'off: loads');
is($out, '', 'off: no posture line at all');

# a module loaded but unused says nothing
($ok, $out) = posture(<<'EOF');
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%
    server { listen 127.0.0.1:%%PORT_5%%; location / { return 204; } }
}
EOF
is($out, '', 'no compliance directive: no posture lines');

# refusals
$t->config_refusals([
    [ 'compliance_posture_waive no_such_check "x";',
      qr/unknown check "no_such_check" in "compliance_posture_waive"/ ],
    [ 'compliance_posture_waive hsts " ";',
      qr/"compliance_posture_waive hsts" needs a reason/ ],
    [ 'compliance_posture loud;',
      qr/invalid value "loud" in "compliance_posture", it must be "warn", "strict" or "off"/, 'http' ],
    [ 'compliance_posture warn;',
      qr/"compliance_posture" directive is not allowed here/ ],
]);

$t->finish;
