/*
 * Redaction glue: detector sets per location, operator patterns, one
 * compiled redactor per distinct detector set, and the variables that
 * make an existing log_format safe ($compliance_safe_uri/_args).
 */

#include "ngx_http_compliance_module.h"


typedef struct {
    ngx_str_t             name;
    ngx_str_t             regex;
} ngx_http_compliance_pattern_t;


typedef struct {
    unsigned              mask;
    compliance_redact_t  *redact;
} ngx_http_compliance_redactor_t;


/*
 * The access log module keeps its formats private.  These mirror its
 * structs in nginx 1.22 (unchanged since 1.7); a dynamic module is built
 * against, and only loads into, the nginx it was configured with.
 */
typedef struct {
    size_t                len;          /* 0: a variable, see getlen */
    void                 *getlen;
    void                 *run;
    uintptr_t             data;         /* the variable's index */
} ngx_http_compliance_log_op_t;


typedef struct {
    ngx_str_t             name;
    ngx_array_t          *flushes;
    ngx_array_t          *ops;          /* ngx_http_compliance_log_op_t */
} ngx_http_compliance_log_fmt_t;


typedef struct {
    ngx_array_t           formats;      /* ngx_http_compliance_log_fmt_t */
    ngx_uint_t            combined_used;
} ngx_http_compliance_log_main_conf_t;


extern ngx_module_t  ngx_http_log_module;


static void ngx_http_compliance_redact_cleanup(void *data);
static const char *ngx_http_compliance_log_var_risk(ngx_conf_t *cf,
    ngx_int_t index, ngx_str_t *name);
static ngx_int_t ngx_http_compliance_redact_header_in(ngx_http_request_t *r,
    compliance_redact_t *rd, ngx_table_elt_t **hp);
static void ngx_http_compliance_log_writer(ngx_log_t *log, ngx_uint_t level,
    u_char *buf, size_t len);


static void
ngx_http_compliance_redact_cleanup(void *data)
{
    compliance_redact_t  *rd = data;

    compliance_redact_free(rd);
}


char *
ngx_http_compliance_redact(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    unsigned     bit, mask;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (clcf->redact.mask != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    mask = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        bit = compliance_redact_detector_parse(value[i].data, value[i].len);

        if (bit == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid detector \"%V\" in \"%V\", it must "
                               "be one of pan ssn email jwt api_key bearer "
                               "secret_params", &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        mask |= bit;
    }

    clcf->redact.mask = mask;

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_redact_pattern(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_main_conf_t  *cmf = conf;

    char                            err[256];
    ngx_str_t                      *value;
    ngx_uint_t                      i;
    compliance_redact_t            *probe;
    ngx_http_compliance_pattern_t  *pat;

    value = cf->args->elts;

    if (cmf->patterns == NULL) {
        cmf->patterns = ngx_array_create(cf->pool, 4,
                                         sizeof(ngx_http_compliance_pattern_t));
        if (cmf->patterns == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    pat = cmf->patterns->elts;

    for (i = 0; i < cmf->patterns->nelts; i++) {
        if (pat[i].name.len == value[1].len
            && ngx_strncmp(pat[i].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate pattern name \"%V\" in \"%V\"",
                               &value[1], &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    /* compile once now so a bad name or regex fails nginx -t here */
    probe = compliance_redact_create(0, err, sizeof(err));
    if (probe == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": %s",
                           &cmd->name, err);
        return NGX_CONF_ERROR;
    }

    if (compliance_redact_add_pattern(probe, (char *) value[1].data,
                                      value[2].data, value[2].len,
                                      err, sizeof(err))
        != 0)
    {
        compliance_redact_free(probe);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid pattern \"%V\" \"%V\" in \"%V\": %s",
                           &value[1], &value[2], &cmd->name, err);
        return NGX_CONF_ERROR;
    }

    compliance_redact_free(probe);

    pat = ngx_array_push(cmf->patterns);
    if (pat == NULL) {
        return NGX_CONF_ERROR;
    }

    pat->name = value[1];
    pat->regex = value[2];

    return NGX_CONF_OK;
}


void
ngx_http_compliance_redact_create_conf(
    ngx_http_compliance_redact_conf_t *conf)
{
    conf->mask = NGX_CONF_UNSET_UINT;
    conf->redactor = NULL;
}


char *
ngx_http_compliance_redact_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_redact_conf_t *prev,
    ngx_http_compliance_redact_conf_t *conf)
{
    ngx_conf_merge_uint_value(conf->mask, prev->mask,
                              COMPLIANCE_REDACT_DEFAULT);

    conf->redactor = ngx_http_compliance_redactor(cf, conf->mask);
    if (conf->redactor == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * One compiled redactor per distinct detector set, shared by locations
 * (and by compliance_redact_response, whose sets have
 * COMPLIANCE_REDACT_TEXT: those get no operator pattern, D59).  NULL
 * after logging the error.
 */
compliance_redact_t *
ngx_http_compliance_redactor(ngx_conf_t *cf, ngx_uint_t mask)
{
    char                              err[256];
    ngx_uint_t                        i;
    ngx_pool_cleanup_t               *cln;
    compliance_redact_t              *rd;
    ngx_http_compliance_pattern_t    *pat;
    ngx_http_compliance_redactor_t   *r;
    ngx_http_compliance_main_conf_t  *cmf;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (cmf->redactors == NULL) {
        cmf->redactors = ngx_array_create(cf->pool, 2,
                                     sizeof(ngx_http_compliance_redactor_t));
        if (cmf->redactors == NULL) {
            return NULL;
        }
    }

    r = cmf->redactors->elts;

    for (i = 0; i < cmf->redactors->nelts; i++) {
        if (r[i].mask == mask) {
            return r[i].redact;
        }
    }

    rd = compliance_redact_create(mask, err, sizeof(err));
    if (rd == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "compliance redaction: %s", err);
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        compliance_redact_free(rd);
        return NULL;
    }

    cln->handler = ngx_http_compliance_redact_cleanup;
    cln->data = rd;

    if (cmf->patterns && !(mask & COMPLIANCE_REDACT_TEXT)) {
        pat = cmf->patterns->elts;

        for (i = 0; i < cmf->patterns->nelts; i++) {
            if (compliance_redact_add_pattern(rd, (char *) pat[i].name.data,
                                              pat[i].regex.data,
                                              pat[i].regex.len,
                                              err, sizeof(err))
                != 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "compliance redaction: %s", err);
                return NULL;
            }
        }
    }

    r = ngx_array_push(cmf->redactors);
    if (r == NULL) {
        return NULL;
    }

    r->mask = mask;
    r->redact = rd;

    return rd;
}


/* out = in when nothing matches (the common case): no copy */
ngx_int_t
ngx_http_compliance_redact_str(ngx_http_request_t *r,
    compliance_redact_t *rd, ngx_str_t *in, ngx_str_t *out)
{
    size_t   len;
    u_char  *p;

    if (rd == NULL || in->len == 0
        || !compliance_redact_needed(rd, in->data, in->len))
    {
        *out = *in;
        return NGX_OK;
    }

    len = compliance_redact_len(rd, in->data, in->len);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->len = compliance_redact_apply(rd, in->data, in->len, p, len);
    out->data = p;

    return NGX_OK;
}


/*
 * Under "compliance on" nginx's own logs are made safe too.  The stock
 * "combined" format prints $request (r->request_line), $http_referer and
 * $http_user_agent (r->headers_in.referer, .user_agent): each is replaced
 * by its redacted form, the Referer and User-Agent by a redacted copy of
 * the header, so the upstream still gets the headers as sent.
 * error.log lines quote request lines, upstream URIs and file paths: the
 * connection's log (nginx sets it from the location's error_log on every
 * location change) gets a writer that redacts the whole line before
 * writing it to the same file.  A syslog error_log keeps its own writer
 * and is not covered.
 */
ngx_int_t
ngx_http_compliance_redact_request_line(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf)
{
    ngx_str_t   out;
    ngx_log_t  *log;

    log = r->connection->log;

    if (clcf->redact.redactor && log->writer == NULL && log->file) {
        log->writer = ngx_http_compliance_log_writer;
        log->wdata = clcf->redact.redactor;
    }

    if (r->request_line.len == 0) {
        return NGX_OK;
    }

    if (ngx_http_compliance_redact_str(r, clcf->redact.redactor,
                                       &r->request_line, &out)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    r->request_line = out;

    if (ngx_http_compliance_redact_header_in(r, clcf->redact.redactor,
                                             &r->headers_in.referer)
        != NGX_OK
        || ngx_http_compliance_redact_header_in(r, clcf->redact.redactor,
                                                &r->headers_in.user_agent)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* *hp points to a redacted copy of the header when it needs one */
static ngx_int_t
ngx_http_compliance_redact_header_in(ngx_http_request_t *r,
    compliance_redact_t *rd, ngx_table_elt_t **hp)
{
    ngx_str_t         out;
    ngx_table_elt_t  *h;

    if (*hp == NULL) {
        return NGX_OK;
    }

    if (ngx_http_compliance_redact_str(r, rd, &(*hp)->value, &out)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (out.data == (*hp)->value.data) {
        return NGX_OK;
    }

    h = ngx_palloc(r->pool, sizeof(ngx_table_elt_t));
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = **hp;
    h->value = out;
    *hp = h;

    return NGX_OK;
}


static void
ngx_http_compliance_log_writer(ngx_log_t *log, ngx_uint_t level, u_char *buf,
    size_t len)
{
    size_t                n;
    u_char                out[2 * NGX_MAX_ERROR_STR];
    compliance_redact_t  *rd;

    rd = log->wdata;

    if (rd && compliance_redact_needed(rd, buf, len)) {
        /* the redactor never cuts inside a match: a short line is safe */
        n = compliance_redact_apply(rd, buf, len, out, sizeof(out));

        if (n == sizeof(out)) {
            out[n - 1] = LF;
        }

        buf = out;
        len = n;
    }

    (void) ngx_write_fd(log->file->fd, buf, len);
}


ngx_int_t
ngx_http_compliance_variable_safe(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                        in, out;
    ngx_http_request_t              *mr;
    ngx_http_compliance_loc_conf_t  *clcf;

    mr = r->main;
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);

    if (data == 0) {
        in = mr->unparsed_uri;

    } else {
        in = mr->args;
    }

    if (ngx_http_compliance_redact_str(r, clcf->redact.redactor, &in, &out)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    v->data = out.data;
    v->len = out.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * Records a request header whose $http_<name> holds a credential of the
 * gateway or of an upstream: a log_format that names it gets a warning.
 */
ngx_int_t
ngx_http_compliance_credential_variable(ngx_conf_t *cf, ngx_int_t index)
{
    ngx_int_t                        *p;
    ngx_uint_t                        i;
    ngx_http_compliance_main_conf_t  *cmf;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (cmf->credential_vars == NULL) {
        cmf->credential_vars = ngx_array_create(cf->pool, 4,
                                                sizeof(ngx_int_t));
        if (cmf->credential_vars == NULL) {
            return NGX_ERROR;
        }
    }

    p = cmf->credential_vars->elts;

    for (i = 0; i < cmf->credential_vars->nelts; i++) {
        if (p[i] == index) {
            return NGX_OK;
        }
    }

    p = ngx_array_push(cmf->credential_vars);
    if (p == NULL) {
        return NGX_ERROR;
    }

    *p = index;

    return NGX_OK;
}


/*
 * At config load, every log_format is read for variables that write a
 * credential or an unredacted URI to the access log; each gets a warning
 * that names the format, the variable and the safe replacement.  The
 * stock "combined" format is safe: $request, $http_referer and
 * $http_user_agent are redacted at the source.
 */
ngx_int_t
ngx_http_compliance_redact_check_log_formats(ngx_conf_t *cf)
{
    ngx_str_t                             name;
    ngx_uint_t                            i, j;
    const char                           *risk;
    ngx_http_compliance_log_op_t         *op;
    ngx_http_compliance_log_fmt_t        *fmt;
    ngx_http_compliance_log_main_conf_t  *lmcf;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_log_module);

    if (lmcf == NULL) {
        return NGX_OK;
    }

    fmt = lmcf->formats.elts;

    for (i = 0; i < lmcf->formats.nelts; i++) {

        if (fmt[i].ops == NULL) {
            continue;
        }

        op = fmt[i].ops->elts;

        for (j = 0; j < fmt[i].ops->nelts; j++) {

            if (op[j].len != 0 || op[j].getlen == NULL) {
                continue;
            }

            risk = ngx_http_compliance_log_var_risk(cf, op[j].data, &name);

            if (risk != NULL) {
                ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                              "log_format \"%V\" writes \"$%V\" %s",
                              &fmt[i].name, &name, risk);
            }
        }
    }

    return NGX_OK;
}


static const char *
ngx_http_compliance_log_var_risk(ngx_conf_t *cf, ngx_int_t index,
    ngx_str_t *name)
{
    ngx_int_t                        *cred;
    ngx_uint_t                        i;
    ngx_http_variable_t              *v;
    ngx_http_core_main_conf_t        *cmcf;
    ngx_http_compliance_main_conf_t  *cmf;

    static ngx_str_t  uri[] = {
        ngx_string("request_uri"), ngx_string("args"),
        ngx_string("query_string"), ngx_string("request_body"),
        ngx_null_string
    };

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (index < 0 || (ngx_uint_t) index >= cmcf->variables.nelts) {
        return NULL;
    }

    v = cmcf->variables.elts;
    *name = v[index].name;

    if (cmf->credential_vars) {
        cred = cmf->credential_vars->elts;

        for (i = 0; i < cmf->credential_vars->nelts; i++) {
            if (cred[i] == index) {
                goto credential;
            }
        }
    }

    if ((name->len == sizeof("http_cookie") - 1
         && ngx_strncmp(name->data, "http_cookie", name->len) == 0)
        || (name->len == sizeof("http_proxy_authorization") - 1
            && ngx_strncmp(name->data, "http_proxy_authorization",
                           name->len) == 0)
        || (name->len > sizeof("cookie_") - 1
            && ngx_strncmp(name->data, "cookie_", sizeof("cookie_") - 1)
               == 0))
    {
        goto credential;
    }

    for (i = 0; uri[i].len; i++) {
        if (name->len == uri[i].len
            && ngx_strncmp(name->data, uri[i].data, uri[i].len) == 0)
        {
            goto unredacted;
        }
    }

    if (name->len > sizeof("arg_") - 1
        && ngx_strncmp(name->data, "arg_", sizeof("arg_") - 1) == 0)
    {
        goto unredacted;
    }

    return NULL;

credential:

    return "in clear, a credential: log $compliance_principal and "
           "$compliance_key_id instead";

unredacted:

    return "unredacted: log $compliance_safe_uri, $compliance_safe_args or "
           "$request instead";
}
