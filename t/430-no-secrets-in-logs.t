#!/usr/bin/perl
# compliance_redact, compliance_redact_pattern, $compliance_safe_uri,
# $compliance_safe_args: no token, key, secret, card number or SSN a
# client sends ever reaches a log nginx writes (audit, access, error),
# whether the request is served, refused or fails upstream.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64 qw(encode_base64url);
use JSON::PP;
use Test::Compliance;

my $t = Test::Compliance->new;
my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';

my $keys = $t->path('keys.txt');
my $apikey = `$bin/compliance-keygen --file $keys --principal alice --scopes read`;
chomp $apikey;

my $secret = 'an-hmac-secret-of-at-least-32-bytes!!';
$t->write_file('jwks.json', encode_json({ keys => [ {
    kty => 'oct', kid => 'k1', alg => 'HS256',
    k => encode_base64url($secret) } ] }));

# a JWT minted by hand (HS256), good for 10 minutes
sub jwt {
    my ($claims) = @_;
    require Digest::SHA;
    my $h = encode_base64url(encode_json({ alg => 'HS256', kid => 'k1',
                                           typ => 'JWT' }));
    my $p = encode_base64url(encode_json($claims));
    my $s = encode_base64url(Digest::SHA::hmac_sha256("$h.$p", $secret));
    return "$h.$p.$s";
}

my $now = time;
my $good = jwt({ sub => 'bob', scope => 'read', exp => $now + 600 });
my $expired = jwt({ sub => 'bob', exp => $now - 600 });
my $forged = $good;
$forged =~ s/.$/$& eq 'A' ? 'B' : 'A'/e;

my $pan = '4111111111111111';
my $pan_dashed = '5500-0000-0000-0004';
my $ssn = '123-45-6789';
my $password = 'hunter2-correct-horse';
my $custom = 'EMP-998877';

# issue 11 item 8: other separators and encodings of the same data
my $pan_dots = '4111.1111.1111.1111';
my $pan_slash = '5500/0000/0000/0004';
my $pan_twice = '4111%252D1111%252D1111%252D1111';
my $ssn_dots = '987.65.4321';
my $ssn_bare = '876543210';
my $pw_array = 'array-form-secret-0042';
my $pw_semi = 'semicolon-secret-0042';

$t->forbid_in_logs($apikey, $good, $expired, $forged, $pan, $pan_dashed,
                   $ssn, $password, $custom, $secret, $pan_dots, $pan_slash,
                   $pan_twice, $ssn_dots, $ssn_bare, $pw_array, $pw_semi,
                   (split /_/, $apikey)[2]);

$t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    log_format safe '\$remote_addr "\$request" \$status '
                    'uri=\$compliance_safe_uri args=\$compliance_safe_args';
    access_log logs/access.log combined;
    access_log logs/safe.log safe;

    compliance on;
    compliance_jwt_keys jwks.json;
    compliance_api_keys $keys;
    compliance_audit_log logs/audit.jsonl;
    compliance_redact pan ssn email jwt api_key bearer secret_params;
    compliance_redact_pattern employee "EMP-[0-9]{6}";

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location / {
            return 200 "ok\\n";
        }

        location /public/ {
            compliance_public "redaction test";
            return 200 "public\\n";
        }

        location /upstream/ {
            compliance_public "upstream failure test";
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /missing/ {
            compliance_public "404 in error.log";
            root %%PREFIX%%/nothing;
        }
    }
}
EOF

$t->run;

my @reqs = (
    [ '/orders', [['Authorization', "Bearer $good"]] ],
    [ '/orders', [['Authorization', "Bearer $expired"]] ],
    [ '/orders', [['Authorization', "Bearer $forged"]] ],
    [ '/orders', [['X-API-Key', $apikey]] ],
    [ '/orders', [['Authorization', "ApiKey $apikey"]] ],
    [ "/orders?access_token=$good" ],
    [ "/orders?apikey=$apikey" ],
    [ "/orders?q=$good" ],
    [ "/public/cards/$pan?ssn=$ssn&password=$password" ],
    [ "/public/x?card=$pan_dashed&note=$custom" ],
    [ "/public/emp/$custom/$ssn" ],
    [ "/upstream/$pan?token=$password" ],
    [ "/missing/$pan/$ssn?password=$password" ],
    [ "/orders/$pan", [['X-API-Key', $apikey]] ],
    [ "/public/x?c=$pan_dots&d=$pan_slash&e=$pan_twice" ],
    [ "/public/x?s=$ssn_dots&ssn=$ssn_bare" ],
    [ "/public/x?user[password]=$pw_array&a=1;token=$pw_semi" ],
);

my %status;
for my $q (@reqs) {
    my ($uri, $h) = @$q;
    my $r = $t->http(uri => $uri, headers => $h || []);
    $status{$uri . ($h ? " $h->[0][0]" : '')} = $r->{status};
}

ok(scalar(grep { $_ } values %status) >= 10, 'requests answered');

# the redacted forms are what the logs do hold
$t->wait_for(sub { ($t->read_file('logs/safe.log') // '') =~ /missing/ },
             timeout => 3);
my $safe = $t->read_file('logs/safe.log');
like($safe, qr/\[REDACTED:pan\]/, 'card numbers redacted in the safe log');
like($safe, qr/\[REDACTED:secret_params\]/, 'password redacted');
like($safe, qr/\[REDACTED:employee\]/, 'operator pattern applied');
like($safe, qr/\[REDACTED:ssn\]/, 'SSN redacted');

my $combined = $t->read_file('logs/access.log');
like($combined, qr/"GET \/public\/cards\/\[REDACTED:pan\]/,
     '$request in the stock combined format is redacted too');

# config refusals
my @bad = (
    [ 'compliance_redact pan cvv;',
      qr/invalid detector "cvv" in "compliance_redact"/ ],
    [ 'compliance_redact_pattern bad-name "x+";',
      qr/invalid pattern "bad-name" "x\+" in "compliance_redact_pattern"/ ],
    [ 'compliance_redact_pattern emp "([a-z";',
      qr/invalid pattern "emp" "\(\[a-z" in "compliance_redact_pattern"/ ],
    [ 'compliance_redact_pattern emp "a"; compliance_redact_pattern emp "b";',
      qr/duplicate pattern name "emp" in "compliance_redact_pattern"/ ],
);

$t->config_refusals(\@bad, at => 'http');

# finish() checks every file under logs/ for every secret sent above
$t->finish;
