#!/usr/bin/env bash
# A stand-in identity provider for examples/jwt.conf: an RSA signing key,
# its public JWKS, and RS256 tokens signed with it, made with openssl.
# For trying the example only; a real deployment takes the provider's
# JWKS (from its jwks_uri) and never holds its private key.
#
#   demo-idp.sh keys DIR
#       DIR/idp-signing.key  the provider's private key (mode 0600)
#       DIR/jwks.json        its public key as a JWKS, kid "demo-rs256"
#   demo-idp.sh token DIR SUBJECT SCOPES [ORG]
#       prints a JWT for SUBJECT with SCOPES ("a b", space-separated),
#       issuer and audience as in jwt.conf, valid for 10 minutes;
#       DEMO_IDP_AMR="pwd otp" adds an RFC 8176 "amr" claim (the ways the
#       user signed in), DEMO_IDP_JTI=ID a "jti" (identity.conf)
set -euo pipefail

die() { printf 'demo-idp.sh: %s\n' "$*" >&2; exit 2; }

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

iss=${DEMO_IDP_ISSUER:-https://idp.example.com/}
aud=${DEMO_IDP_AUDIENCE:-https://api.example.com}

case "${1:-}" in
keys)
    [ $# -eq 2 ] || die "usage: demo-idp.sh keys DIR"
    dir=$2
    key="$dir/idp-signing.key"

    (umask 077 && openssl genpkey -algorithm RSA \
        -pkeyopt rsa_keygen_bits:2048 -out "$key" 2>/dev/null) \
        || die "openssl cannot make an RSA key in $dir"

    n=$(openssl rsa -in "$key" -noout -modulus | sed 's/^Modulus=//' \
        | perl -ne 'chomp; print pack("H*", $_)' | b64url)

    printf '{"keys":[{"kty":"RSA","kid":"demo-rs256","alg":"RS256",'\
'"use":"sig","e":"AQAB","n":"%s"}]}\n' "$n" > "$dir/jwks.json"
    chmod 640 "$dir/jwks.json"
    ;;

token)
    [ $# -eq 4 ] || [ $# -eq 5 ] \
        || die "usage: demo-idp.sh token DIR SUBJECT SCOPES [ORG]"
    key="$2/idp-signing.key"
    case "$3$4${5:-}${DEMO_IDP_AMR:-}${DEMO_IDP_JTI:-}" in
        *[\"\\]*) die "no quotes or backslashes in SUBJECT, SCOPES or ORG" ;;
    esac

    extra=
    if [ -n "${DEMO_IDP_AMR:-}" ]; then
        extra=$(printf ',"amr":["%s"]' \
                "$(printf '%s' "$DEMO_IDP_AMR" | sed 's/ \{1,\}/","/g')")
    fi
    if [ -n "${DEMO_IDP_JTI:-}" ]; then
        extra="$extra,\"jti\":\"$DEMO_IDP_JTI\""
    fi
    [ -f "$key" ] || die "no $key: run demo-idp.sh keys $2 first"

    now=$(date +%s)
    h=$(printf '{"alg":"RS256","kid":"demo-rs256","typ":"JWT"}' | b64url)
    p=$(printf '{"iss":"%s","aud":"%s","sub":"%s","org_id":"%s",'\
'"scope":"%s","iat":%d,"exp":%d%s}' "$iss" "$aud" "$3" "${5:-demo-org}" \
        "$4" "$now" $((now + 600)) "$extra" | b64url)
    s=$(printf '%s.%s' "$h" "$p" \
        | openssl dgst -sha256 -sign "$key" -binary | b64url)

    printf '%s.%s.%s\n' "$h" "$p" "$s"
    ;;

*)
    die "usage: demo-idp.sh keys DIR | token DIR SUBJECT SCOPES [ORG]"
    ;;
esac
