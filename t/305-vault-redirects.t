#!/usr/bin/perl
# The upstream secret is withdrawn on every internal redirect and jump to
# a named location, before the target location runs anything: error_page
# to a named location after proxy_intercept_errors, error_page to a URI
# (a dead upstream's 502, an intercepted 503), X-Accel-Redirect from the
# upstream, try_files' fallback.  The target reads $http_<header> with
# "return", "set", a server-level "set", add_header, an access log and
# another upstream, under compliance on, public and off: it never sees
# the secret; a target with its own credential gets that one only.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Find ();
use Test::Compliance;

my $t = Test::Compliance->new;

my $bin = $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';
my $VAULT = "$bin/compliance-vault";
my $KEYGEN = "$bin/compliance-keygen";

plan skip_all => "no $VAULT (run ./build.sh)" unless -x $VAULT && -x $KEYGEN;

sub rnd { join '', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. $_[0] }

my %secret = (a => 'sk-redir-A' . rnd(32), b => 'bk-redir-B' . rnd(32));

sub cli {
    my ($stdin, @args) = @_;

    my $out = $t->path('cli.out');
    my $pid = open(my $fh, '|-') // die "fork: $!";

    if ($pid == 0) {
        open STDOUT, '>', $out or die;
        open STDERR, '>&', \*STDOUT or die;
        exec @args or die "exec $args[0]: $!";
    }

    print {$fh} $stdin // '';
    close $fh;
    my $rc = $? >> 8;
    my $text = $t->read_file('cli.out') // '';
    die "@args: $text" if $rc;

    return $text;
}

cli('', $VAULT, 'genkey', $t->path('vault.key'));
for my $id (qw(a b)) {
    cli($secret{$id}, $VAULT, '--vault', $t->path('vault.bin'),
        '--key', $t->path('vault.key'), 'set', "svc-$id");
}
my ($key) = cli('', $KEYGEN, '--file', $t->path('keys.txt'),
                '--principal', 'alice') =~ /^(ck_\S+)$/m;
ok($key, 'an API key');

$t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
events {}
http {
    %%TEST_GLOBALS_HTTP%%

    log_format leak '\$uri "\$http_authorization" "\$http_x_api_key"';
    map_hash_bucket_size 128;

    compliance_api_keys keys.txt;
    compliance_vault vault.bin key=vault.key;

    map \$http_authorization \$seen_auth {
        ""                      none;
        "Bearer $secret{a}"     LEAK-svc-a;
        default                 other;
    }

    map \$http_x_api_key \$seen_key {
        ""                      none;
        "$secret{b}"            svc-b;
        "Bearer $secret{a}"     LEAK-svc-a;
        default                 other;
    }

    # the upstream: a label for what it got, never a secret
    server {
        listen 127.0.0.1:%%PORT_1%%;
        access_log off;

        location / {
            return 200 "up auth=\$seen_auth key=\$seen_key\\n";
        }

        location /fail/ {
            return 503;
        }

        location /accel/ {
            add_header X-Accel-Redirect /shown/accel;
            return 200 "not this";
        }
    }

    # the gateway
    server {
        listen 127.0.0.1:%%PORT_0%%;
        access_log %%PREFIX%%/logs/gateway.log leak;

        compliance on;
        compliance_audit_log %%PREFIX%%/logs/audit.jsonl;

        # SERVER_REWRITE runs again after every redirect to a URI
        set \$srv_auth "\$http_authorization";

        add_header X-Leak "[\$http_authorization]" always;

        location /named/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            proxy_intercept_errors on;
            error_page 503 = \@show;
            proxy_pass http://127.0.0.1:%%PORT_1%%/fail/;
        }

        location /named-set/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            proxy_intercept_errors on;
            error_page 503 = \@set;
            proxy_pass http://127.0.0.1:%%PORT_1%%/fail/;
        }

        location /named-off/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            proxy_intercept_errors on;
            error_page 503 = \@off;
            proxy_pass http://127.0.0.1:%%PORT_1%%/fail/;
        }

        location /named-pub/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            proxy_intercept_errors on;
            error_page 503 = \@pub;
            proxy_pass http://127.0.0.1:%%PORT_1%%/fail/;
        }

        location /named-other/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            proxy_intercept_errors on;
            error_page 503 = \@other;
            proxy_pass http://127.0.0.1:%%PORT_1%%/fail/;
        }

        location /named-proxy/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            proxy_intercept_errors on;
            error_page 503 = \@proxy;
            proxy_pass http://127.0.0.1:%%PORT_1%%/fail/;
        }

        location /uri-503/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            proxy_intercept_errors on;
            error_page 503 /shown/503;
            proxy_pass http://127.0.0.1:%%PORT_1%%/fail/;
        }

        location /dead/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            error_page 502 /shown/502;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }

        location /try/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            try_files /nothing-here \@show;
        }

        location /accel/ {
            compliance_upstream_credential svc-a "prefix=Bearer ";
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location /shown/ {
            return 200 "shown auth=[\$http_authorization] srv=[\$srv_auth]\\n";
        }

        location \@show {
            return 200 "show auth=[\$http_authorization]\\n";
        }

        location \@set {
            set \$copy "\$http_authorization";
            return 200 "set copy=[\$copy]\\n";
        }

        location \@off {
            compliance off;
            return 200 "off auth=[\$http_authorization]\\n";
        }

        location \@pub {
            compliance_public "the fallback page";
            return 200 "pub auth=[\$http_authorization]\\n";
        }

        location \@other {
            compliance_upstream_credential svc-b header=X-API-Key;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location \@proxy {
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }
}
EOF

$t->run;

my @raw;

sub get {
    my ($uri) = @_;

    my $r = $t->http(uri => $uri,
                     headers => [ [ 'Authorization', "ApiKey $key" ] ]);
    push @raw, $r->{raw} if $r && defined $r->{raw};

    return $r;
}

# [uri, status, body, name]; error_page to a URI keeps the status
my @cases = (
    [ '/named/x',       200, 'show auth=[]',
      'error_page = @named: return' ],
    [ '/named-set/x',   200, 'set copy=[]',
      'error_page = @named: set' ],
    [ '/named-off/x',   200, 'off auth=[]',
      'error_page = @named under compliance off' ],
    [ '/named-pub/x',   200, 'pub auth=[]',
      'error_page = @named, public' ],
    [ '/named-other/x', 200, 'up auth=none key=svc-b',
      'error_page = @named with its own credential: that one only' ],
    [ '/named-proxy/x', 200, 'up auth=none key=none',
      'error_page = @named, another upstream without a credential' ],
    [ '/uri-503/x',     503, 'shown auth=[] srv=[]',
      'error_page 503 /uri after proxy_intercept_errors' ],
    [ '/dead/x',        502, 'shown auth=[] srv=[]',
      'error_page 502 /uri, dead upstream' ],
    [ '/try/x',         200, 'show auth=[]',
      'try_files falling back to a named location' ],
    [ '/accel/x',       200, 'shown auth=[] srv=[]',
      'X-Accel-Redirect from the upstream' ],
);

for my $c (@cases) {
    my ($uri, $status, $want, $name) = @$c;

    my $r = get($uri);
    is($r->{status}, $status, "$name: $status");
    is($r->{body}, "$want\n", "$name: the target sees no secret");
    is($r->{header}->('x-leak') // '[]', '[]', "$name: add_header sees none");
}

$t->stop;

my $all = join '', @raw;
ok(length $all > 500, 'responses collected');
unlike($all, qr/\Q$secret{a}\E|\Q$secret{b}\E/, 'no secret in any response');

my @files;
File::Find::find(sub { push @files, $File::Find::name if -f },
                 $t->path('logs'));
for my $f (@files) {
    open my $fh, '<', $f or die "$f: $!";
    my $text = do { local $/; <$fh> };
    unlike($text, qr/\Q$secret{a}\E|\Q$secret{b}\E/,
           "no secret in logs/" . ($f =~ s{.*/}{}r));
}

like($t->read_file('logs/gateway.log'), qr{^/shown/accel "-" "-"$}m,
     'the access log of a redirect target: empty headers');

$t->finish;
