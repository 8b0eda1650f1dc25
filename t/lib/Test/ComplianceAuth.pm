package Test::ComplianceAuth;

# Credentials for the authentication tests: keys made with the openssl
# CLI, JWTs minted by implementations that share no code with the module
# (PyJWT from Debian's python3-jwt, run by /usr/bin/python3, and libjwt
# through t/helpers/jwt-mint-libjwt), API keys made by compliance-keygen
# or written by hand in the key file format.  Documentation (POD) is at
# the end of this file.

use strict;
use warnings;

use Digest::SHA qw(sha256);
use Exporter qw(import);
use JSON::PP;
use MIME::Base64 ();
use POSIX ();

use Test::Compliance;

our @EXPORT_OK = qw(b64url b64url_decode make_keys make_secret pyjwt
    libjwt_mint libjwt_bin keygen keygen_run apikey_record run_cmd oct_jwk jwks reason_of
    python_ok bearer requests);

our $PYTHON = '/usr/bin/python3';

my $JSON = JSON::PP->new->canonical->allow_nonref;


sub b64url {
    my ($s) = @_;

    return MIME::Base64::encode_base64url($s);
}

sub b64url_decode {
    my ($s) = @_;

    return MIME::Base64::decode_base64url($s);
}

sub bearer {
    my ($tok) = @_;

    return [ [ 'Authorization', "Bearer $tok" ] ];
}

# The "reason" of a problem+json body, or '' when it is not one.
sub reason_of {
    my ($r) = @_;

    return '' unless $r && defined $r->{body};
    my $p = eval { decode_json($r->{body}) };

    return ref $p eq 'HASH' ? ($p->{reason} // '') : '';
}

# Every request on as few keep-alive connections as possible: when nginx
# closes one (a 400, say), the rest go on a new one.  One response (or
# undef) per request, in order.
sub requests {
    my ($t, $reqs, %opt) = @_;

    my @out;

    while (@out < @$reqs) {
        my @left = @{$reqs}[ scalar @out .. $#$reqs ];
        my $rs = $t->keepalive(%opt, requests => \@left);

        if (!$rs || !@$rs) {
            push @out, undef;
            next;
        }

        push @out, @$rs;
    }

    return @out;
}

sub _run {
    my (@cmd) = @_;

    local $?;

    my $pid = open(my $fh, '-|');
    die "Test::ComplianceAuth: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        open STDIN, '<', '/dev/null';
        exec { $cmd[0] } @cmd or print "exec $cmd[0]: $!\n";
        POSIX::_exit(127);
    }

    local $/;
    my $out = <$fh> // '';
    close $fh;

    return ($? >> 8, $out);
}

# run_cmd(@cmd): (exit status, stdout and stderr together), quietly.
sub run_cmd {
    return _run(@_);
}

# Whether Debian's PyJWT and cryptography can be imported.
sub python_ok {
    return 0 unless -x $PYTHON;

    my ($rc) = _run($PYTHON, '-c', 'import jwt, cryptography');

    return $rc == 0;
}


###########################################################################
# keys

my %KEYGEN = (
    rsa     => [ '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048' ],
    rsa1024 => [ '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024' ],
    ec256   => [ '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256' ],
    ec384   => [ '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384' ],
);

# make_keys($t, name => type, ...): <name>.key (PKCS#8 private PEM) and
# <name>.pub (SubjectPublicKeyInfo PEM) in the prefix; returns
# { name => { key => path, pub => path, pem => public PEM text } }.
sub make_keys {
    my ($t, @pairs) = @_;

    my %out;

    while (my ($name, $type) = splice @pairs, 0, 2) {
        my $gen = $KEYGEN{$type}
            or die "Test::ComplianceAuth: unknown key type $type\n";

        my $key = $t->path("$name.key");
        my $pub = $t->path("$name.pub");

        my ($rc, $out) = _run('openssl', 'genpkey', @$gen, '-out', $key);
        die "openssl genpkey $type: $out\n" if $rc;

        ($rc, $out) = _run('openssl', 'pkey', '-in', $key, '-pubout',
            '-out', $pub);
        die "openssl pkey -pubout: $out\n" if $rc;

        chmod 0600, $key;

        $out{$name} = { key => $key, pub => $pub,
                        pem => $t->read_file($pub) };
    }

    return \%out;
}

# Random HMAC secret of $len bytes written raw to <name>.secret.
sub make_secret {
    my ($t, $name, $len) = @_;

    my $s = _random($len // 32);
    my $file = $t->write_file("$name.secret", $s, 0600);

    return { key => $file, bytes => $s };
}

sub _random {
    my ($n) = @_;

    open my $fh, '<:raw', '/dev/urandom' or die "/dev/urandom: $!\n";
    read($fh, my $b, $n) == $n or die "/dev/urandom: short read\n";
    close $fh;

    return $b;
}

sub oct_jwk {
    my ($bytes, %o) = @_;

    my %k = (kty => 'oct', k => b64url($bytes));
    $k{kid} = $o{kid} if defined $o{kid};
    $k{alg} = $o{alg} if defined $o{alg};

    return \%k;
}

# JWKS text from JWK hashes or JSON texts.
sub jwks {
    my (@keys) = @_;

    return $JSON->encode({ keys => [
        map { ref $_ ? $_ : decode_json($_) } @keys ] });
}


###########################################################################
# PyJWT

my $PY = <<'PY';
import base64, hashlib, hmac, json, sys, time

import jwt
from jwt.algorithms import get_default_algorithms, RSAAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ALGS = get_default_algorithms()


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def key_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def sign(alg, path, msg):
    data = key_bytes(path)
    if alg.startswith("HS"):
        # any bytes, a PEM public key included: PyJWT refuses those
        h = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
             "HS512": hashlib.sha512}[alg]
        return hmac.new(data, msg, h).digest()
    a = ALGS[alg]
    return a.sign(msg, a.prepare_key(data))


def claims_of(op):
    c = dict(op.get("claims") or {})
    now = int(time.time())
    for k, v in (op.get("rel") or {}).items():
        c[k] = now + v
    return c


def mint(op):
    headers = dict(op.get("headers") or {})
    if op.get("kid") is not None:
        headers["kid"] = op["kid"]
    data = key_bytes(op["key"])
    return jwt.encode(claims_of(op), data, algorithm=op["alg"],
                      headers=headers or None)


def raw(op):
    h = op["header"]
    p = op["payload"]
    if not isinstance(h, str):
        h = json.dumps(h, separators=(",", ":"))
    if not isinstance(p, str):
        p = json.dumps(p, separators=(",", ":"))
    si = b64(h.encode()) + "." + b64(p.encode())
    sig = sign(op["alg"], op["key"], si.encode()) if op.get("key") else b""
    return si + "." + b64(sig)


def sized(op):
    # a good token of exactly op["length"] characters
    for extra in range(0, 4):
        for n in range(0, op["length"]):
            o = dict(op)
            o["claims"] = dict(claims_of(op), pad="x" * n)
            o["rel"] = None
            o["headers"] = dict(op.get("headers") or {})
            if extra:
                o["headers"]["x"] = "y" * extra
            tok = mint(o)
            if len(tok) == op["length"]:
                return tok
            if len(tok) > op["length"]:
                break
    raise SystemExit("cannot size a token to %d" % op["length"])


def jwk(op):
    pub = load_pem_public_key(key_bytes(op["pub"]))
    if isinstance(pub, rsa.RSAPublicKey):
        k = json.loads(RSAAlgorithm.to_jwk(pub))
    else:
        # RFC 7518 6.2.1.2: coordinates are the full field size; PyJWT 2.6
        # drops leading zero bytes, which a strict verifier refuses
        size = (pub.curve.key_size + 7) // 8
        crv = {256: "P-256", 384: "P-384", 521: "P-521"}[pub.curve.key_size]
        n = pub.public_numbers()
        k = {"kty": "EC", "crv": crv,
             "x": b64(n.x.to_bytes(size, "big")),
             "y": b64(n.y.to_bytes(size, "big"))}
    for f in ("kid", "alg", "use"):
        if op.get(f) is not None:
            k[f] = op[f]
    return json.dumps(k, sort_keys=True)


OPS = {"jwt": mint, "raw": raw, "sized": sized, "jwk": jwk}

with open(sys.argv[1]) as f:
    ops = json.load(f)

print(json.dumps([OPS[o["op"]](o) for o in ops]))
PY

# pyjwt($t, { op => 'jwt', alg => ..., key => file, kid => ..., headers =>
# {...}, claims => {...}, rel => { exp => 3 } }, ...): every result of one
# python run, in order.  Other ops: raw (header/payload as text or hash,
# signed with alg/key over exactly those bytes), sized (a jwt of exactly
# "length" characters), jwk (JWK JSON text of the public key "pub").
sub pyjwt {
    my ($t, @ops) = @_;

    my $n = ++$t->{_pyjwt_runs};
    my $script = $t->write_file('pyjwt.py', $PY);
    my $in = $t->write_file("pyjwt-$n.json", $JSON->encode(\@ops));

    my ($rc, $out) = _run($PYTHON, $script, $in);
    die "Test::ComplianceAuth: PyJWT run failed ($rc):\n$out\n" if $rc;

    my $res = eval { decode_json($out) }
        or die "Test::ComplianceAuth: bad PyJWT output:\n$out\n";

    return wantarray ? @$res : $res->[0];
}


###########################################################################
# libjwt

sub libjwt_bin {
    my $dir = $ENV{COMPLIANCE_TESTBIN}
        || Test::Compliance::repo_root() . '/build/testbin';

    return "$dir/jwt-mint-libjwt";
}

sub libjwt_mint {
    my (%o) = @_;

    my @cmd = (libjwt_bin(), '--alg', $o{alg}, '--key', $o{key});
    push @cmd, '--kid', $o{kid} if defined $o{kid};
    push @cmd, '--claims', $JSON->encode($o{claims}) if $o{claims};

    my ($rc, $out) = _run(@cmd);
    die "jwt-mint-libjwt failed ($rc): $out\n" if $rc;

    chomp $out;

    return $out;
}


###########################################################################
# API keys

sub _keygen_bin {
    my $dir = $ENV{COMPLIANCE_BIN}
        || Test::Compliance::repo_root() . '/build/bin';

    return "$dir/compliance-keygen";
}

# keygen_run($file, @args): (exit status, stdout and stderr).
sub keygen_run {
    my ($file, @args) = @_;

    return _run(_keygen_bin(), '--file', $file, @args);
}

# keygen($file, --principal => 'p', ...): the printed key text.
sub keygen {
    my ($file, @args) = @_;

    my ($rc, $out) = _run(_keygen_bin(), '--file', $file, @args);
    die "compliance-keygen @args failed ($rc): $out\n" if $rc;

    chomp $out;
    die "compliance-keygen printed no key: $out\n"
        unless $out =~ /^ck_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/;

    return $out;
}

# A key and its key file record made here, by the format alone (SPEC 5,
# core/compliance_apikey.h), so that fields the CLI refuses (a past
# expiry date) can be written.  Returns (key text, line).
sub apikey_record {
    my (%o) = @_;

    my @b32 = ('a' .. 'z', '2' .. '7');
    my $id = join '', map { $b32[ord($_) % 32] } split //, _random(12);

    # 32 secret bytes; the 43-char text's 2 spare bits are zero
    my $secret = _random(32);
    my $salt = _random(16);

    my $text = "ck_${id}_" . b64url($secret);
    my $line = "$id sha256:" . b64url($salt) . ':'
        . b64url(sha256($salt . $secret));

    for my $f (qw(principal org scopes allow expires)) {
        $line .= " $f=$o{$f}" if defined $o{$f};
    }

    return ($text, "$line\n");
}

1;

__END__

=head1 NAME

Test::ComplianceAuth - keys, JWTs and API keys for the auth tests

=head1 SYNOPSIS

    use Test::Compliance;
    use Test::ComplianceAuth qw(make_keys make_secret pyjwt libjwt_mint
        keygen apikey_record reason_of bearer);

    my $t = Test::Compliance->new;
    my $k = make_keys($t, rsa => 'rsa', es => 'ec256');
    my $hs = make_secret($t, 'hs', 32);

    my @tok = pyjwt($t,
        { op => 'jwt', alg => 'RS256', key => $k->{rsa}{key}, kid => 'r1',
          claims => { sub => 'alice', exp => time + 300 } },
        { op => 'jwk', pub => $k->{rsa}{pub}, kid => 'r1', alg => 'RS256' },
    );

=head1 FUNCTIONS

=over

=item make_keys($t, name =E<gt> type, ...)

Types C<rsa> (2048 bits), C<rsa1024>, C<ec256>, C<ec384>, made with
C<openssl genpkey>.  Writes F<name.key> and F<name.pub> in the prefix.

=item make_secret($t, $name [, $len])

Random bytes in F<name.secret>; returns C<{ key =E<gt> path, bytes }>.

=item pyjwt($t, @ops)

One C</usr/bin/python3> run (Debian's PyJWT, not the python3 on PATH)
for all the ops; returns their results in order.  Ops: C<jwt>
(C<jwt.encode>; C<rel> sets claims relative to the time of minting),
C<raw> (header and payload exactly as given, signed with C<alg>/C<key>;
HS secrets may be any bytes, a PEM public key included), C<sized>
(exactly C<length> characters), C<jwk> (the JWK of a public key, with
C<kid>, C<alg>, C<use> added).

=item libjwt_mint(alg =E<gt> ..., key =E<gt> file, kid =E<gt> ..., claims =E<gt> {...})

Runs F<jwt-mint-libjwt> from C<$COMPLIANCE_TESTBIN> (default
F<build/testbin>).

=item keygen($file, @args)

Runs C<compliance-keygen --file $file @args> from C<$COMPLIANCE_BIN>
(default F<build/bin>) and returns the key text.

=item keygen_run($file, @args)

The same, returning C<($status, $output)> (stdout and stderr together).

=item apikey_record(principal =E<gt> ..., org, scopes, allow, expires)

A key text and its key file line, made from the documented format.

=item oct_jwk($bytes, kid =E<gt> ..., alg =E<gt> ...), jwks(@jwk)

JWK of an HMAC secret; JWKS text from JWK hashes or JSON texts.

=item run_cmd(@cmd)

Runs a command without a shell; returns C<($status, $output)>.

=item requests($t, \@requests, %opt)

All requests on keep-alive connections, reconnecting when nginx closes
one; one response (or undef) per request.

=item reason_of($response), bearer($token), b64url, b64url_decode

=back

=cut
