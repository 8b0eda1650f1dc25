/*
 * Directive-parsing helpers shared by the directive handlers of every
 * concern, so that each value is read and each message worded once.
 */

#include "ngx_http_compliance_module.h"


/* "a", "b" or "c": each name quoted, the last joined by "or" */
#define NGX_HTTP_COMPLIANCE_CONF_ENUM_TEXT  256


ngx_int_t
ngx_http_compliance_conf_enum_find(ngx_conf_enum_t *e, ngx_str_t *arg,
    ngx_uint_t *value)
{
    ngx_uint_t  n;

    for (n = 0; e[n].name.len; n++) {
        if (e[n].name.len == arg->len
            && ngx_strncmp(e[n].name.data, arg->data, arg->len) == 0)
        {
            *value = e[n].value;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_compliance_conf_enum(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *arg, ngx_conf_enum_t *e, ngx_uint_t *value)
{
    u_char      text[NGX_HTTP_COMPLIANCE_CONF_ENUM_TEXT], *p, *last;
    ngx_uint_t  i, n;

    if (ngx_http_compliance_conf_enum_find(e, arg, value) == NGX_OK) {
        return NGX_OK;
    }

    for (n = 0; e[n].name.len; n++) { /* void */ }

    p = text;
    last = text + sizeof(text);

    for (i = 0; i < n; i++) {
        p = ngx_slprintf(p, last, "%s\"%V\"",
                         (i == 0) ? "" : (i == n - 1) ? " or " : ", ",
                         &e[i].name);
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"%V\", it must be %*s",
                       arg, &cmd->name, p - text, text);

    return NGX_ERROR;
}


char *
ngx_http_compliance_conf_set_enum_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_uint_t  *field;
    ngx_str_t   *value;

    field = (ngx_uint_t *) ((u_char *) conf + cmd->offset);

    if (*field != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_compliance_conf_enum(cf, cmd, &value[1], cmd->post, field)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_compliance_conf_split(ngx_str_t *arg, ngx_str_t *name,
    ngx_str_t *value)
{
    u_char  *eq;

    eq = ngx_strlchr(arg->data, arg->data + arg->len, '=');

    if (eq == NULL || eq == arg->data) {
        return NGX_DECLINED;
    }

    name->data = arg->data;
    name->len = eq - arg->data;
    value->data = eq + 1;
    value->len = arg->data + arg->len - value->data;

    return NGX_OK;
}


ngx_uint_t
ngx_http_compliance_conf_param(ngx_str_t *arg, const char *name,
    ngx_str_t *value)
{
    size_t     len;
    ngx_str_t  n;

    len = ngx_strlen(name);

    if (ngx_http_compliance_conf_split(arg, &n, value) != NGX_OK
        || n.len != len
        || ngx_strncmp(n.data, name, len) != 0)
    {
        return 0;
    }

    return 1;
}


/* nginx's formatter has no "%o": the mode is spelled here */
void
ngx_http_compliance_warn_file_mode(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *path, ngx_uint_t mode, ngx_uint_t forbidden)
{
    u_char  buf[sizeof("0777")];

    if ((mode & forbidden) == 0) {
        return;
    }

    buf[0] = '0';
    buf[1] = (u_char) ('0' + ((mode >> 6) & 7));
    buf[2] = (u_char) ('0' + ((mode >> 3) & 7));
    buf[3] = (u_char) ('0' + (mode & 7));
    buf[4] = '\0';

    ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                       "key file \"%V\" in \"%V\" is accessible by %s "
                       "(mode %s): chmod %s it",
                       path, directive,
                       (forbidden & 0070) ? "group or others" : "others",
                       buf, (forbidden & 0070) ? "600" : "o-rwx");

    /* and a gap of the posture (key_file_mode) */
    ngx_http_compliance_posture_loose_file(cf, directive, path, mode);
}


/*
 * A 32-byte secret from the key file written as path in cmd (relative to
 * the prefix): one message for a file that does not load, one warning
 * for one that group or others may read.  key is wiped on failure.
 */
ngx_int_t
ngx_http_compliance_conf_load_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *path, u_char *key)
{
    char       err[512];
    unsigned   mode;
    ngx_str_t  full;

    full = *path;

    /* comes back NUL-terminated */
    if (ngx_conf_full_name(cf->cycle, &full, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    mode = 0;

    if (compliance_secret_load((char *) full.data, key, &mode, err,
                               sizeof(err))
        != 0)
    {
        compliance_secret_wipe(key, COMPLIANCE_SECRET_LEN);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid key in \"%V\": %s",
                           &cmd->name, err);
        return NGX_ERROR;
    }

    ngx_http_compliance_warn_file_mode(cf, &cmd->name, path, mode, 0077);

    return NGX_OK;
}


void
ngx_http_compliance_conf_pos_set(ngx_conf_t *cf,
    ngx_http_compliance_conf_pos_t *pos)
{
    if (cf->conf_file == NULL || cf->conf_file->file.fd == NGX_INVALID_FILE) {
        pos->file.len = 0;
        pos->file.data = NULL;
        pos->line = 0;
        return;
    }

    pos->file = cf->conf_file->file.name;
    pos->line = cf->conf_file->line;
}


void ngx_cdecl
ngx_http_compliance_conf_error(ngx_uint_t level, ngx_conf_t *cf,
    ngx_http_compliance_conf_pos_t *pos, const char *fmt, ...)
{
    u_char   errstr[NGX_MAX_CONF_ERRSTR], *p;
    va_list  args;

    va_start(args, fmt);
    p = ngx_vslprintf(errstr, errstr + NGX_MAX_CONF_ERRSTR, fmt, args);
    va_end(args);

    if (pos == NULL || pos->file.data == NULL) {
        ngx_conf_log_error(level, cf, 0, "%*s", p - errstr, errstr);
        return;
    }

    ngx_log_error(level, cf->log, 0, "%*s in %V:%ui", p - errstr, errstr,
                  &pos->file, pos->line);
}
