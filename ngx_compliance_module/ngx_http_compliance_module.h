/*
 * ngx_http_compliance_module: conf structs, per-request ctx and the
 * prototypes shared by the glue files.
 */

#ifndef _NGX_HTTP_COMPLIANCE_MODULE_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "compliance_apikey.h"
#include "compliance_chain.h"
#include "compliance_json.h"
#include "compliance_jwt.h"
#include "compliance_query.h"
#include "compliance_redact.h"
#include "compliance_redact_stream.h"
#include "compliance_schema.h"
#include "compliance_secret.h"
#include "compliance_token.h"

#include "ngx_http_compliance_conf.h"
#include "ngx_http_compliance_reqheaders.h"
#include "ngx_http_compliance_limit.h"
#include "ngx_http_compliance_vault.h"
#include "ngx_http_compliance_revoke.h"
#include "ngx_http_compliance_mfa.h"
#include "ngx_http_compliance_status.h"
#include "ngx_http_compliance_daily.h"
#include "ngx_http_compliance_body.h"
#include "ngx_http_compliance_graphql.h"


#define NGX_HTTP_COMPLIANCE_REQID_LEN   36

#define NGX_HTTP_COMPLIANCE_TLS_ANY     0
#define NGX_HTTP_COMPLIANCE_TLS_1_2     0x0303
#define NGX_HTTP_COMPLIANCE_TLS_1_3     0x0304

#define NGX_HTTP_COMPLIANCE_CORS_DENY   0
#define NGX_HTTP_COMPLIANCE_CORS_PASS   1

/* compliance_auth: accepted credential methods */
#define NGX_HTTP_COMPLIANCE_METHOD_JWT      0x01
#define NGX_HTTP_COMPLIANCE_METHOD_API_KEY  0x02


/* nginx 1.22 names no 410 */
#define NGX_HTTP_COMPLIANCE_GONE        410
/* nor 422 (RFC 9110 15.5.21) */
#define NGX_HTTP_COMPLIANCE_UNPROCESSABLE  422


#define NGX_HTTP_COMPLIANCE_AUDIT_OPEN    0
#define NGX_HTTP_COMPLIANCE_AUDIT_CLOSED  1


/* how a request was let in; also $compliance_auth_method */
typedef enum {
    NGX_HTTP_COMPLIANCE_AUTH_NONE = 0,
    NGX_HTTP_COMPLIANCE_AUTH_PUBLIC,
    NGX_HTTP_COMPLIANCE_AUTH_JWT,
    NGX_HTTP_COMPLIANCE_AUTH_API_KEY
} ngx_http_compliance_auth_e;


typedef struct ngx_http_compliance_audit_sh_s  ngx_http_compliance_audit_sh_t;

/* a verified token's claims (ngx_http_compliance_jwt.c) */
typedef struct ngx_http_compliance_jwt_block_s
    ngx_http_compliance_jwt_block_t;

/* a key set fetched from an identity provider (ngx_http_compliance_jwks.c) */
typedef struct ngx_http_compliance_jwks_s  ngx_http_compliance_jwks_t;


/* the one audit trail of a configuration (ngx_http_compliance_audit.c) */
typedef struct {
    ngx_str_t                   name;           /* path or syslog:... */
    ngx_open_file_t            *file;
    ngx_syslog_peer_t          *syslog;
    size_t                      size;           /* buffer=, 0: none */
    ngx_msec_t                  flush;
    ngx_shm_zone_t             *zone;
    ngx_http_compliance_audit_sh_t  *sh;        /* the shared state */
    ngx_slab_pool_t            *shpool;         /* its mutex guards sh */
    compliance_chain_t         *chain;          /* NULL: not chained */
    ngx_event_t                *event;          /* flush timer */
} ngx_http_compliance_audit_log_t;


#define NGX_HTTP_COMPLIANCE_POSTURE_WARN    0
#define NGX_HTTP_COMPLIANCE_POSTURE_STRICT  1
#define NGX_HTTP_COMPLIANCE_POSTURE_OFF     2


/* posture at config load: ngx_http_compliance_posture.c */
typedef struct {
    ngx_uint_t                  mode;           /* compliance_posture */
    ngx_array_t                *places;         /* what the merge saw */
    ngx_array_t                *loose;          /* key files, loose mode */
} ngx_http_compliance_posture_main_conf_t;


typedef struct {
    /* set by any directive that needs the request handler or filter */
    ngx_flag_t                  handler_needed;
    ngx_flag_t                  filter_needed;
    ngx_flag_t                  boundary_needed;  /* boundary.c's filter */
    ngx_flag_t                  error_pages_needed;  /* and body filter */
    ngx_flag_t                  redact_response_needed;
    ngx_flag_t                  body_needed;    /* body.c's filter */
    ngx_array_t                *schemas;        /* validate.c: compiled */

    ngx_http_compliance_audit_log_t       *audit;
    compliance_chain_t                    *chain;
    ngx_http_compliance_conf_pos_t         chain_pos;
    ngx_array_t                           *patterns;   /* redaction */
    ngx_array_t                           *redactors;

    /* the Authorization request header, and $http_authorization */
    ngx_http_compliance_header_t           authorization;
    ngx_array_t                           *credential_vars; /* ngx_int_t */

    ngx_http_compliance_limit_main_conf_t    limit;
    ngx_http_compliance_vault_main_conf_t    vault;
    ngx_http_compliance_posture_main_conf_t  posture;
    ngx_http_compliance_status_main_conf_t   status;
    ngx_http_compliance_daily_main_conf_t    daily;     /* daily.c */
} ngx_http_compliance_main_conf_t;


/*
 * The location conf is one sub-struct per concern.  Each is created and
 * merged by the file that owns it; ngx_http_compliance_merge_loc_conf()
 * calls the merges in one written order and hands each what it needs.
 */

/* who may pass: ngx_http_compliance_access.c */
typedef struct {
    ngx_flag_t                  enable;
    ngx_str_t                   public_reason;  /* .data != NULL: public */
    ngx_uint_t                  cors_preflight;
    ngx_uint_t                  auth_conf;      /* as written, or UNSET */
    ngx_uint_t                  auth;           /* effective methods */
    ngx_array_t                *scopes;         /* of ngx_str_t */
    ngx_http_compliance_conf_pos_t  auth_pos;   /* compliance_auth */
    ngx_http_compliance_conf_pos_t  scopes_pos; /* ..._require_scope */
} ngx_http_compliance_access_conf_t;


/* the transport: ngx_http_compliance_tls.c */
typedef struct {
    ngx_flag_t                  redirect;       /* to HTTPS */
    ngx_int_t                   redirect_port;  /* 0: default 443 */
    ngx_array_t                *redirect_names; /* the server's, no regex */
    ngx_uint_t                  min;            /* TLS version number */
    ngx_str_t                   hsts;           /* header value, or empty */
} ngx_http_compliance_tls_conf_t;


/* bearer tokens: ngx_http_compliance_jwt.c */
typedef struct {
    compliance_jwt_keyset_t    *keys;
    ngx_uint_t                  keys_id;        /* never reused */
    ngx_http_compliance_conf_pos_t  keys_pos;   /* the first key file */
    ngx_uint_t                  algs_conf;      /* allow-list as written */
    ngx_http_compliance_conf_pos_t  algs_pos;
    ngx_uint_t                  algs;           /* effective mask */
    ngx_array_t                *issuers;        /* compliance_jwt_str_t */
    ngx_array_t                *audiences;
    time_t                      leeway;
    time_t                      max_lifetime;
    ngx_str_t                   claim_principal;  /* NUL-terminated */
    ngx_str_t                   claim_org;
    ngx_str_t                   claim_scopes;
    compliance_jwt_policy_t     policy;
    ngx_http_compliance_jwks_t *remote;         /* keys_request, jwks.c */
    ngx_http_compliance_conf_pos_t  remote_pos;
} ngx_http_compliance_jwt_conf_t;


/* API keys: ngx_http_compliance_apikey.c */
typedef struct {
    compliance_apikey_set_t    *keys;
    ngx_str_t                   header;
    ngx_http_compliance_conf_pos_t  header_pos;
    ngx_http_compliance_header_t  header_in;    /* as matched */
} ngx_http_compliance_apikey_conf_t;


/* the trail: ngx_http_compliance_audit.c */
typedef struct {
    ngx_http_compliance_audit_log_t  *log;
    ngx_uint_t                  failure;
    ngx_str_t                   sensitive;
    ngx_str_t                   resource_type;
    ngx_http_complex_value_t   *resource_id;
} ngx_http_compliance_audit_conf_t;


/* what logs may hold: ngx_http_compliance_redact.c */
typedef struct {
    ngx_uint_t                  mask;
    compliance_redact_t        *redactor;
} ngx_http_compliance_redact_conf_t;


/* waivers and where the block is: ngx_http_compliance_posture.c */
typedef struct {
    ngx_array_t                *waivers;
    u_char                     *file;           /* of the block's start */
    ngx_uint_t                  line;
} ngx_http_compliance_posture_conf_t;


/* an API's retirement: ngx_http_compliance_deprecation.c */
typedef struct {
    ngx_str_t                   deprecation;    /* "@<epoch>", or unset */
    ngx_str_t                   sunset_date;    /* HTTP-date, or empty */
    ngx_str_t                   link;           /* the Link value */
    time_t                      sunset;
    ngx_flag_t                  enforce;
} ngx_http_compliance_deprecation_conf_t;


#define NGX_HTTP_COMPLIANCE_ERRORS_OFF  0
#define NGX_HTTP_COMPLIANCE_ERRORS_ON   1   /* nginx's, upstream 5xx */
#define NGX_HTTP_COMPLIANCE_ERRORS_ALL  2   /* and upstream 4xx */


/* what leaves the boundary: ngx_http_compliance_boundary.c */
typedef struct {
    ngx_flag_t                  scrub;
    ngx_uint_t                  error_pages;
} ngx_http_compliance_boundary_conf_t;


/* masked response bodies: ngx_http_compliance_redact_response.c */
typedef struct {
    ngx_uint_t                  mask;           /* detectors, 0: off */
    size_t                      max_size;
    compliance_redact_stream_conf_t  *stream;
} ngx_http_compliance_redact_response_conf_t;

/* its per-request state */
typedef struct ngx_http_compliance_rr_s  ngx_http_compliance_rr_t;
/* request validation (SPEC 11): ngx_http_compliance_validate.c */
typedef struct {
    compliance_schema_t        *body;           /* NULL: none */
    off_t                       max_size;
    ngx_array_t                *types;          /* of ngx_str_t, lowercase */
    ngx_uint_t                  methods;        /* NGX_HTTP_POST|... */
    compliance_schema_t        *query;          /* NULL: none */
    ngx_http_compliance_conf_pos_t  body_pos;   /* ..._validate_body */
} ngx_http_compliance_validate_conf_t;


typedef struct {
    ngx_http_compliance_access_conf_t     access;
    ngx_http_compliance_tls_conf_t        tls;
    ngx_http_compliance_jwt_conf_t        jwt;
    ngx_http_compliance_apikey_conf_t     apikey;
    ngx_http_compliance_audit_conf_t      audit;
    ngx_http_compliance_redact_conf_t     redact;
    ngx_http_compliance_limit_loc_conf_t  limit;   /* limit.c */
    ngx_http_compliance_vault_loc_conf_t  vault;   /* vault.c */
    ngx_http_compliance_posture_conf_t    posture;
    ngx_http_compliance_boundary_conf_t   boundary;
    ngx_http_compliance_deprecation_conf_t  deprecation;
    ngx_http_compliance_revoke_conf_t     revoke;  /* revoke.c */
    ngx_http_compliance_mfa_conf_t        mfa;     /* mfa.c */
    ngx_http_compliance_redact_response_conf_t  redact_response;
    ngx_http_compliance_validate_conf_t   validate;
    ngx_http_compliance_graphql_conf_t    graphql;  /* graphql.c */
} ngx_http_compliance_loc_conf_t;


/*
 * One per main request.  It is also registered as a pool cleanup so it
 * survives internal redirects (which reset r->ctx) and so that secrets
 * held here are wiped when the request ends.
 */
typedef struct {
    u_char                      request_id[NGX_HTTP_COMPLIANCE_REQID_LEN];

    ngx_http_compliance_auth_e  auth_method;
    ngx_str_t                   reason;         /* SPEC reason, or empty */
    ngx_uint_t                  status;         /* of the refusal */
    ngx_str_t                   public_reason;

    /* the identity; points into the key set, jwt_claims or r->pool */
    ngx_str_t                   principal;
    ngx_str_t                   org;
    ngx_str_t                   scopes;         /* space-separated */
    ngx_str_t                   key_id;
    ngx_http_compliance_jwt_block_t  *jwt_claims; /* a reference we hold */
    ngx_uint_t                  jwt_keys_id;    /* the key set it passed */
    const compliance_jwt_key_t *jwt_key;        /* the key that verified */
    int                         jwt_alg;        /* its header's alg */
    compliance_apikey_set_t    *api_keys;       /* the key set it passed */

    ngx_str_t                   credential_id;  /* vault entry injected */
    ngx_http_compliance_limit_ctx_t  limit;

    /* boundary.c: the problem+json that replaces this response's body */
    ngx_buf_t                  *error_body;

    ngx_str_t                   revoked_by;     /* "jti", "sub", "kid" */
    ngx_str_t                   amr;            /* under require_mfa */

    /* redact_response.c: its stream, and what it replaced */
    ngx_http_compliance_rr_t   *redact_response;
    ngx_uint_t                  redacted_in_response;
    /* body.c: the request body's reading; validate.c: its outcome */
    ngx_http_compliance_body_t *body;
    ngx_uint_t                  validation_errors;
    unsigned                    invalid_request:1;

    unsigned                    authenticated:1;
    unsigned                    refused:1;
    unsigned                    logged:1;
} ngx_http_compliance_ctx_t;


extern ngx_module_t  ngx_http_compliance_module;
extern ngx_str_t     ngx_http_compliance_auth_names[];


/* ngx_http_compliance_module.c */
ngx_http_compliance_ctx_t *ngx_http_compliance_get_ctx(ngx_http_request_t *r);
ngx_http_compliance_ctx_t *ngx_http_compliance_ensure_ctx(
    ngx_http_request_t *r);

/* ngx_http_compliance_access.c */
ngx_int_t ngx_http_compliance_access_handler(ngx_http_request_t *r);
ngx_http_compliance_ctx_t *ngx_http_compliance_access_admitted(
    ngx_http_request_t *r);
void ngx_http_compliance_access_create_conf(
    ngx_http_compliance_access_conf_t *conf);
char *ngx_http_compliance_access_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_access_conf_t *prev,
    ngx_http_compliance_access_conf_t *conf, const char *limited,
    ngx_http_compliance_conf_pos_t *limited_pos);
char *ngx_http_compliance_access_merge_methods(ngx_conf_t *cf,
    ngx_http_compliance_access_conf_t *prev,
    ngx_http_compliance_access_conf_t *conf, ngx_uint_t avail);
char *ngx_http_compliance_enable(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_public(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_auth(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_require_scope(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_compliance_tls.c */
ngx_int_t ngx_http_compliance_transport(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf);
void ngx_http_compliance_tls_create_conf(ngx_http_compliance_tls_conf_t *conf);
char *ngx_http_compliance_tls_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_tls_conf_t *prev,
    ngx_http_compliance_tls_conf_t *conf);
char *ngx_http_compliance_https_redirect(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_tls_min(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_hsts(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_compliance_jwt.c */
ngx_int_t ngx_http_compliance_jwt_init_process(ngx_cycle_t *cycle);
void ngx_http_compliance_jwt_exit_process(ngx_cycle_t *cycle);
const char *ngx_http_compliance_jwt_authenticate(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx,
    u_char *tok, size_t len, ngx_uint_t *internal);
const char *ngx_http_compliance_jwt_recheck(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx,
    ngx_uint_t *internal);
void ngx_http_compliance_jwt_ctx_cleanup(ngx_http_compliance_ctx_t *ctx);
const compliance_jwt_claims_t *ngx_http_compliance_jwt_ctx_claims(
    ngx_http_compliance_ctx_t *ctx);
ngx_int_t ngx_http_compliance_jwt_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
char *ngx_http_compliance_jwt_keys(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_jwt_algorithms(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_jwt_issuer(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_jwt_audience(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_jwt_max_lifetime(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_jwt_claims(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_compliance_jwt_create_conf(ngx_http_compliance_jwt_conf_t *conf);
char *ngx_http_compliance_jwt_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_jwt_conf_t *prev,
    ngx_http_compliance_jwt_conf_t *conf);
extern ngx_conf_post_t  ngx_http_compliance_jwt_leeway_post;

/* ngx_http_compliance_apikey.c */
const char *ngx_http_compliance_apikey_authenticate(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx,
    u_char *key, size_t len);
char *ngx_http_compliance_api_keys(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_api_key_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_compliance_apikey_create_conf(
    ngx_http_compliance_apikey_conf_t *conf);
char *ngx_http_compliance_apikey_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_apikey_conf_t *prev,
    ngx_http_compliance_apikey_conf_t *conf);

/* ngx_http_compliance_limit.c */
char *ngx_http_compliance_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_auth_failure_limit(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
void ngx_http_compliance_limit_create_loc_conf(
    ngx_http_compliance_limit_loc_conf_t *conf);
const char *ngx_http_compliance_limit_written(
    ngx_http_compliance_limit_loc_conf_t *conf,
    ngx_http_compliance_conf_pos_t **pos);
char *ngx_http_compliance_limit_merge_loc_conf(ngx_conf_t *cf,
    ngx_http_compliance_limit_loc_conf_t *prev,
    ngx_http_compliance_limit_loc_conf_t *conf);
ngx_int_t ngx_http_compliance_lockout_check(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx);
void ngx_http_compliance_lockout_failure(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx);
ngx_uint_t ngx_http_compliance_limit_resumed(ngx_http_compliance_ctx_t *ctx);
ngx_int_t ngx_http_compliance_limit_check(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx);
ngx_int_t ngx_http_compliance_limit_headers(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx);
ngx_uint_t ngx_http_compliance_lockout_walk(ngx_shm_zone_t *shm_zone,
    struct sockaddr *sa, ngx_uint_t clear, ngx_array_t *out);
ngx_int_t ngx_http_compliance_limit_zone_stats(ngx_shm_zone_t *shm_zone,
    ngx_uint_t *keys, size_t *used);

/* ngx_http_compliance_lockout.c */
char *ngx_http_compliance_lockout_admin(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_lockout_admin_merge(ngx_conf_t *cf,
    ngx_http_compliance_access_conf_t *access,
    ngx_http_compliance_audit_conf_t *audit);

/* ngx_http_compliance_vault.c */
char *ngx_http_compliance_vault(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_upstream_credential(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
void ngx_http_compliance_vault_create_loc_conf(
    ngx_http_compliance_vault_loc_conf_t *conf);
char *ngx_http_compliance_vault_merge_loc_conf(ngx_conf_t *cf,
    ngx_http_compliance_vault_loc_conf_t *prev,
    ngx_http_compliance_vault_loc_conf_t *conf,
    ngx_http_compliance_access_conf_t *access);
ngx_int_t ngx_http_compliance_vault_init(ngx_conf_t *cf);
ngx_int_t ngx_http_compliance_vault_check_debug_connection(
    ngx_cycle_t *cycle);

/* ngx_http_compliance_audit.c */
void ngx_http_compliance_audit_event(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, const char *event, const char *severity,
    const char *reason);
void ngx_http_compliance_audit_event_fields(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, const char *event, const char *severity,
    const char *reason, ngx_str_t *fields);
/* the extra members of an alert record: "name":"value", with NULL names */
void ngx_http_compliance_audit_alert_strings(ngx_http_request_t *r,
    const char *reason, ngx_str_t *pairs);
ngx_int_t ngx_http_compliance_audit_alert(
    ngx_http_compliance_audit_log_t *log, const char *severity,
    const char *reason, ngx_str_t *fields, ngx_log_t *elog);
ngx_int_t ngx_http_compliance_audit_check(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx);
ngx_int_t ngx_http_compliance_audit_init(ngx_conf_t *cf);
ngx_int_t ngx_http_compliance_audit_init_process(ngx_cycle_t *cycle);
char *ngx_http_compliance_audit_log(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_audit_chain(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_audit_sensitive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_audit_resource(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_compliance_audit_create_conf(
    ngx_http_compliance_audit_conf_t *conf);
char *ngx_http_compliance_audit_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_audit_conf_t *prev,
    ngx_http_compliance_audit_conf_t *conf);

/* ngx_http_compliance_redact.c */
char *ngx_http_compliance_redact(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_redact_pattern(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_compliance_redact_create_conf(
    ngx_http_compliance_redact_conf_t *conf);
char *ngx_http_compliance_redact_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_redact_conf_t *prev,
    ngx_http_compliance_redact_conf_t *conf);
compliance_redact_t *ngx_http_compliance_redactor(ngx_conf_t *cf,
    ngx_uint_t mask);
ngx_int_t ngx_http_compliance_credential_variable(ngx_conf_t *cf,
    ngx_int_t index);
ngx_int_t ngx_http_compliance_redact_check_log_formats(ngx_conf_t *cf);
ngx_int_t ngx_http_compliance_redact_str(ngx_http_request_t *r,
    compliance_redact_t *rd, ngx_str_t *in, ngx_str_t *out);
ngx_int_t ngx_http_compliance_redact_request_line(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf);
ngx_int_t ngx_http_compliance_variable_safe(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/* ngx_http_compliance_posture.c */
void ngx_http_compliance_posture_create_conf(ngx_conf_t *cf,
    ngx_http_compliance_posture_conf_t *conf);
char *ngx_http_compliance_posture_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_posture_conf_t *prev,
    ngx_http_compliance_posture_conf_t *conf);
char *ngx_http_compliance_posture_waive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_compliance_posture_record(ngx_conf_t *cf,
    ngx_http_compliance_loc_conf_t *conf);
void ngx_http_compliance_posture_loose_file(ngx_conf_t *cf,
    ngx_str_t *directive, ngx_str_t *path, ngx_uint_t mode);
ngx_int_t ngx_http_compliance_posture_check(ngx_conf_t *cf);
ngx_uint_t ngx_http_compliance_posture_used(
    ngx_http_compliance_main_conf_t *cmf);
void ngx_http_compliance_posture_listens(ngx_conf_t *cf,
    ngx_http_core_srv_conf_t *cscf, ngx_uint_t *tls, ngx_uint_t *plain);

/* ngx_http_compliance_headers.c */
ngx_int_t ngx_http_compliance_headers_init(ngx_conf_t *cf);

/* ngx_http_compliance_boundary.c */
ngx_int_t ngx_http_compliance_boundary_init(ngx_conf_t *cf);
void ngx_http_compliance_boundary_create_conf(
    ngx_http_compliance_boundary_conf_t *conf);
char *ngx_http_compliance_boundary_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_boundary_conf_t *prev,
    ngx_http_compliance_boundary_conf_t *conf);
char *ngx_http_compliance_scrub_headers(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_error_pages(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_compliance_boundary_replace(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx);

/* ngx_http_compliance_deprecation.c */
ngx_int_t ngx_http_compliance_deprecation_headers(ngx_http_request_t *r,
    ngx_http_compliance_deprecation_conf_t *conf);
ngx_int_t ngx_http_compliance_deprecation_check(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf);
void ngx_http_compliance_deprecation_create_conf(
    ngx_http_compliance_deprecation_conf_t *conf);
char *ngx_http_compliance_deprecation_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_deprecation_conf_t *prev,
    ngx_http_compliance_deprecation_conf_t *conf);
char *ngx_http_compliance_deprecation(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_compliance_redact_response.c */
ngx_int_t ngx_http_compliance_redact_response_init(ngx_conf_t *cf);
void ngx_http_compliance_redact_response_create_conf(
    ngx_http_compliance_redact_response_conf_t *conf);
char *ngx_http_compliance_redact_response_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_redact_response_conf_t *prev,
    ngx_http_compliance_redact_response_conf_t *conf);
char *ngx_http_compliance_redact_response(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_compliance_validate.c */
ngx_int_t ngx_http_compliance_validate(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf);
void ngx_http_compliance_validate_create_conf(
    ngx_http_compliance_validate_conf_t *conf);
char *ngx_http_compliance_validate_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_validate_conf_t *prev,
    ngx_http_compliance_validate_conf_t *conf);
char *ngx_http_compliance_validate_body(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_compliance_validate_query(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_compliance_problem.c */
ngx_int_t ngx_http_compliance_problem(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_uint_t status, const char *reason);
ngx_buf_t *ngx_http_compliance_problem_body(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_uint_t status, const char *reason);
ngx_int_t ngx_http_compliance_problem_members(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_uint_t status, const char *reason,
    ngx_str_t *members);
ngx_buf_t *ngx_http_compliance_problem_body_members(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_uint_t status, const char *reason,
    ngx_str_t *members);
void ngx_http_compliance_problem_headers(ngx_http_request_t *r, off_t len);
ngx_int_t ngx_http_compliance_set_header(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *value);
void ngx_http_compliance_drop_header(ngx_http_request_t *r, ngx_str_t *name);
ngx_int_t ngx_http_compliance_send_body(ngx_http_request_t *r, ngx_buf_t *b);

/* ngx_http_compliance_reqid.c */
ngx_int_t ngx_http_compliance_reqid_init_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_compliance_reqid_generate(u_char *dst);

/* ngx_http_compliance_revoke.c */
const char *ngx_http_compliance_revoke_check(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx);
char *ngx_http_compliance_jwt_revocation(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_compliance_revoke_create_conf(
    ngx_http_compliance_revoke_conf_t *conf);
char *ngx_http_compliance_revoke_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_revoke_conf_t *prev,
    ngx_http_compliance_revoke_conf_t *conf,
    ngx_http_compliance_access_conf_t *access);
ngx_int_t ngx_http_compliance_inert_here(ngx_conf_t *cf,
    ngx_http_compliance_access_conf_t *access,
    ngx_http_compliance_conf_pos_t *pos, const char *name);

/* ngx_http_compliance_mfa.c */
ngx_int_t ngx_http_compliance_mfa_check(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx);
char *ngx_http_compliance_require_mfa(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_compliance_mfa_create_conf(ngx_http_compliance_mfa_conf_t *conf);
char *ngx_http_compliance_mfa_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_mfa_conf_t *prev,
    ngx_http_compliance_mfa_conf_t *conf,
    ngx_http_compliance_access_conf_t *access);


#endif /* _NGX_HTTP_COMPLIANCE_MODULE_H_INCLUDED_ */
