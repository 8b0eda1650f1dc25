#!/usr/bin/perl
# compliance_vault + compliance_upstream_credential: the upstream gets the
# vault's secret, and only for authenticated, authorized main requests;
# the client's own header of that name never reaches it; rotation by
# "compliance-vault set" + reload; the secret reaches no response and no
# log file.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Find ();
use IO::Socket::INET;
use Time::HiRes ();
use JSON::PP ();
use Test::Compliance;
use Test::ComplianceVault ();

my $t = Test::Compliance->new;

my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';
my $VAULT = "$bin/compliance-vault";
my $KEYGEN = "$bin/compliance-keygen";

plan skip_all => "no $VAULT (run ./build.sh)" unless -x $VAULT && -x $KEYGEN;

sub rnd { join '', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. $_[0] }

# distinctive values, so a grep finds any copy of them
my %secret = (
    a1 => 'sk-live-A1' . rnd(32),
    a2 => 'sk-live-A2' . rnd(32),
    b  => 'bk-B' . rnd(40),
);

sub run_cli { Test::ComplianceVault::run_cli($t, @_) }

sub vault {
    my ($stdin, @args) = @_;

    return run_cli($stdin, $VAULT, '--vault', $t->path('vault.bin'),
                   '--key', $t->path('vault.key'), @args);
}

sub keygen {
    my (@args) = @_;

    my ($rc, $out) = run_cli('', $KEYGEN, '--file', $t->path('keys.txt'),
                             @args);
    die "compliance-keygen failed: $out" if $rc;
    my ($key) = $out =~ /^(ck_\S+)$/m;
    return $key;
}

my ($rc, $out) = run_cli('', $VAULT, 'genkey', $t->path('vault.key'));
is($rc, 0, 'genkey') or diag($out);

($rc, $out) = vault($secret{a1}, 'set', 'svc-a');
is($rc, 0, 'set svc-a') or diag($out);
($rc, $out) = vault("$secret{b}\n", 'set', 'svc-b');
is($rc, 0, 'set svc-b (trailing newline dropped by the CLI)') or diag($out);

my $alice = keygen('--principal', 'alice', '--scopes', 'read');
my $bob = keygen('--principal', 'bob', '--scopes', 'other');
ok($alice && $bob, 'api keys made');

# a listener that accepts connections and never answers
my $silent = IO::Socket::INET->new(
    Proto     => 'tcp',
    LocalAddr => '127.0.0.1:' . $t->port(2),
    Listen    => 8,
    ReuseAddr => 1,
    Timeout   => 10,
) or die "listen: $!";

$t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    log_format leak '\$status "\$http_authorization" "\$http_x_api_key" '
                    '"\$http_x_copy" \$compliance_principal';
    log_format hits '\$uri';
    log_format mirror '\$seen_auth';
    map_hash_bucket_size 128;

    compliance_api_keys keys.txt;
    compliance_vault vault.bin key=vault.key;

    # the upstream answers with labels, never with a secret
    map \$http_authorization \$seen_auth {
        ""                      none;
        "Bearer $secret{a1}"    svc-a-v1;
        "Bearer $secret{a2}"    svc-a-v2;
        "Token $secret{a1}"     svc-a-v1-token;
        default                 "client:\$http_authorization";
    }

    map \$http_x_api_key \$seen_key {
        ""                      none;
        "$secret{b}"            svc-b;
        default                 "client:\$http_x_api_key";
    }

    map \$http_x_copy \$seen_copy {
        ""                      none;
        "Bearer $secret{a1}"    svc-a-v1;
        "Bearer $secret{a2}"    svc-a-v2;
        default                 "client:\$http_x_copy";
    }

    # the upstream
    server {
        listen 127.0.0.1:%%PORT_1%%;
        underscores_in_headers on;
        access_log %%PREFIX%%/logs/upstream.log hits;

        location / {
            return 200 "auth=\$seen_auth key=\$seen_key copy=\$seen_copy\\n";
        }

        location /fail/ {
            return 503;
        }

        location /mirror-seen {
            access_log %%PREFIX%%/logs/mirror.log mirror;
            return 204;
        }
    }

    # the gateway
    server {
        listen 127.0.0.1:%%PORT_0%%;
        underscores_in_headers on;
        access_log %%PREFIX%%/logs/gateway.log leak;

        compliance on;
        compliance_audit_log %%PREFIX%%/logs/audit.jsonl;

        add_header X-Leak-Auth "[\$http_authorization]" always;
        add_header X-Leak-Key "[\$http_x_api_key]" always;

        location /a/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            compliance_require_scope read;

            # caches \$http_authorization while it holds the secret
            proxy_set_header X-Copy \$http_authorization;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /b/ {
            compliance_upstream_credential svc-b header=X-API-Key;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /token/ {
            compliance_upstream_credential svc-a 'prefix=Token ';
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /pub/ {
            compliance_public "no credential for anonymous callers";
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /plain/ {
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /nest/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            proxy_pass http://127.0.0.1:%%PORT_1%%;

            location /nest/pub/ {
                compliance_public "nested public";
                proxy_pass http://127.0.0.1:%%PORT_1%%;
            }
        }

        location /to-b/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            rewrite ^/to-b/(.*)\$ /b/\$1 last;
        }

        location /fail/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            proxy_intercept_errors on;
            error_page 503 = \@fallback;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location \@fallback {
            compliance_upstream_credential svc-b header=X-API-Key;
            rewrite ^ /fallback break;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /m/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            mirror /mirror-sink;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location = /mirror-sink {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%/mirror-seen;
        }

        location /slow/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            proxy_read_timeout 30s;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }
    }
}
EOF

$t->run;

my @responses;

sub req {
    my (%r) = @_;

    my $res = $t->http(%r);
    push @responses, $res->{raw} if $res && defined $res->{raw};
    return $res;
}

sub hits {
    my $l = $t->read_file('logs/upstream.log') // '';
    return scalar(() = $l =~ /\n/g);
}

sub wait_hits {
    my ($n) = @_;
    return $t->wait_for(sub { hits() >= $n }) && hits() == $n;
}

my $apikey = [ 'Authorization', "ApiKey $alice" ];

# where the credential goes in X-API-Key, the client's Authorization (its
# own key for the gateway here) is not forwarded either: a gateway API key
# stops at the gateway
my $b_seen = "auth=none key=svc-b copy=none\n";

# --- the upstream gets the vault's secret, the client's header is gone
my $n = hits();
my $r = req(uri => '/a/x', headers => [ $apikey ]);
is($r->{status}, 200, 'authorized request proxied');
is($r->{body}, "auth=svc-a-v1 key=none copy=svc-a-v1\n",
   'upstream got "Bearer <secret>", not the client\'s Authorization');
is($r->{header}->('x-leak-auth'), '[]',
   'add_header $http_authorization after the proxy: empty');
ok(wait_hits($n + 1), 'upstream called once');

# the client authenticates with X-API-Key, the upstream wants X-API-Key
$r = req(uri => '/b/x', headers => [
    $apikey,
    [ 'x-api-key', 'client-one' ],
    [ 'X-Api-Key', 'client-two' ],
    [ 'X_API_KEY', 'client-underscore' ],
]);
is($r->{status}, 200, 'header=X-API-Key proxied');
is($r->{body}, $b_seen,
   'every client X-API-Key (any case, "_" for "-") removed; secret set');
is($r->{header}->('x-leak-key'), '[]', 'add_header $http_x_api_key: empty');

$r = req(uri => '/b/x', headers => [ [ 'X-API-Key', $alice ] ]);
is($r->{body}, "auth=none key=svc-b copy=none\n",
   'the gateway key itself never reaches the upstream');

$r = req(uri => '/token/x', headers => [ $apikey ]);
is($r->{body}, "auth=svc-a-v1-token key=none copy=none\n",
   'a single-quoted prefix');

# --- never for unauthenticated, refused or public requests
$n = hits();
$r = req(uri => '/a/x');
is($r->{status}, 401, 'no credentials: 401');
$r = req(uri => '/a/x', headers => [ [ 'Authorization', 'ApiKey ck_bad' ] ]);
is($r->{status}, 401, 'bad key: 401');
$r = req(uri => '/a/x', headers => [ [ 'Authorization', "ApiKey $bob" ] ]);
is($r->{status}, 403, 'under-scoped: 403');
like($r->{body}, qr/insufficient_scope/, 'insufficient_scope');
$r = req(uri => '/b/x', headers => [ [ 'X-API-Key', 'ck_nope' ] ]);
is($r->{status}, 401, 'bad key on the X-API-Key location: 401');

# one good request afterwards: the refused ones never hit the upstream
$r = req(uri => '/plain/x', headers => [ $apikey ]);
ok(wait_hits($n + 1), 'refused requests never reached the upstream');
is($r->{body}, "auth=none key=none copy=none\n",
   'no credential where none is configured, and no gateway key either');

$r = req(uri => '/pub/x', headers => [ [ 'Authorization', 'Bearer mine' ] ]);
is($r->{status}, 200, 'public location proxied');
is($r->{body}, "auth=client:Bearer mine key=none copy=none\n",
   'public location: no credential, client header untouched');

$r = req(uri => '/nest/pub/x', headers => [ $apikey ]);
is($r->{body}, "auth=client:ApiKey $alice key=none copy=none\n",
   'nested public location does not inherit the credential');

$r = req(uri => '/nest/in/x', headers => [ $apikey ]);
is($r->{body}, "auth=svc-a-v1 key=none copy=none\n",
   'nested protected location inherits the credential');

# --- internal redirects: the final location's credential only
$r = req(uri => '/to-b/x', headers => [ $apikey ]);
is($r->{body}, $b_seen,
   'rewrite ... last: the new location\'s credential');

$n = hits();
$r = req(uri => '/fail/x', headers => [ $apikey ]);
is($r->{status}, 200, 'error_page to a named location');
is($r->{body}, "auth=none key=svc-b copy=none\n",
   'after the redirect the first credential is withdrawn, the second set');
ok(wait_hits($n + 2), 'both upstream requests were made');

# keep-alive: each request gets its own injection
my $rs = $t->keepalive(requests => [
    { uri => '/a/1', headers => [ $apikey ] },
    { uri => '/b/2', headers => [ $apikey ] },
    { uri => '/a/3' },
]);
push @responses, map { $_->{raw} } grep { $_ } @$rs;
is($rs->[0]{body}, "auth=svc-a-v1 key=none copy=svc-a-v1\n", 'keepalive 1');
is($rs->[1]{body}, $b_seen, 'keepalive 2');
is($rs->[2]{status}, 401, 'keepalive 3: unauthenticated, refused');

# --- mirror subrequests copy the client's headers, not the secret
$r = req(uri => '/m/x', headers => [ $apikey ]);
is($r->{body}, "auth=svc-a-v1 key=none copy=none\n", 'mirrored location');
ok($t->wait_for(sub { ($t->read_file('logs/mirror.log') // '') =~ /\n/ }),
   'mirror subrequest made');
is($t->read_file('logs/mirror.log'), "none\n",
   'mirror subrequest got neither the credential nor the gateway key');

# --- a request that ends without a response header (client gone: 499)
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port(0))
        or die "connect: $!";
    print {$s} "GET /slow/x HTTP/1.1\r\nHost: localhost\r\n"
        . "Authorization: ApiKey $alice\r\n\r\n";
    my $up = $silent->accept;    # nginx has sent the upstream request
    Time::HiRes::sleep(0.2);
    close $s;

    ok($t->wait_for(sub {
           ($t->read_file('logs/gateway.log') // '') =~ /^499 /m }),
       'client closed: 499 logged');
    like($t->read_file('logs/gateway.log'), qr/^499 "-" "-" "-" alice$/m,
         '499 log line: $http_authorization empty');
    close $up if $up;
}

# --- rotation: set + reload
($rc, $out) = vault($secret{a2}, 'set', 'svc-a');
is($rc, 0, 'rotate svc-a') or diag($out);

$t->reload;

$r = req(uri => '/a/x', headers => [ $apikey ]);
is($r->{body}, "auth=svc-a-v2 key=none copy=svc-a-v2\n",
   'after reload the new secret is sent');

# a vault that no longer holds a referenced credential is refused; the
# running configuration stays
($rc, $out) = vault('', 'remove', 'svc-b');
is($rc, 0, 'remove svc-b') or diag($out);
my $off = $t->log_offset;
ok(!$t->reload(may_fail => 1), 'reload refused');
like($t->error_log($off),
     qr/no credential "svc-b" in the vault .*vault\.bin/,
     'refusal names the credential and the vault');

$r = req(uri => '/b/x', headers => [ $apikey ]);
is($r->{body}, $b_seen,
   'old configuration still serves');

# --- the secret is in no response and no log file
$t->stop;

# the audit record names the credential, only where one was sent
my @audit = map { eval { JSON::PP::decode_json($_) } || () }
    split /\n/, $t->read_file('logs/audit.jsonl') // '';
ok(scalar @audit > 20, 'audit records written: ' . scalar @audit);

my %cred;
for my $a (@audit) {
    my $k = ($a->{path} // '') . ' ' . ($a->{status} // '');
    $cred{$k} //= $a->{credential_id} // '';
}
is($cred{'/a/x 200'}, 'svc-a', 'audit: credential_id for /a/');
is($cred{'/b/x 200'}, 'svc-b', 'audit: credential_id for /b/');
is($cred{'/a/x 401'}, '', 'audit: none for a refused request');
is($cred{'/a/x 403'}, '', 'audit: none for an under-scoped request');
is($cred{'/pub/x 200'}, '', 'audit: none for a public request');
is($cred{'/plain/x 200'}, '', 'audit: none where none is configured');
ok(!grep({ exists $_->{credential_id} && !$_->{credential_id} } @audit),
   'audit: no empty credential_id');

my @files;
File::Find::find(sub { push @files, $File::Find::name if -f }, $t->path('logs'));
ok(scalar @files >= 4, 'log files: ' . join ' ', map { s{.*/}{}r } @files);

for my $f (@files) {
    my $c = $t->read_file($f) // '';
    for my $k (sort keys %secret) {
        ok(index($c, $secret{$k}) < 0, "secret $k not in " . ($f =~ s{.*/}{}r));
    }
}

my $all = join '', @responses;
ok(length $all > 1000, 'responses collected: ' . scalar @responses);
for my $k (sort keys %secret) {
    ok(index($all, $secret{$k}) < 0, "secret $k in no response");
}

$t->finish;
