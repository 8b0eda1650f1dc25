/*
 * Directive-parsing helpers shared by every concern's directive handlers
 * (ngx_http_compliance_conf.c): enum values, key=value parameters, the
 * key-file permission warning, and the position of a directive for the
 * errors found after it was read.
 */

#ifndef _NGX_HTTP_COMPLIANCE_CONF_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * *value = the value of arg among the names of e (ended by a null name);
 * otherwise logs
 *     invalid value "x" in "directive", it must be "a", "b" or "c"
 * and returns NGX_ERROR.
 */
ngx_int_t ngx_http_compliance_conf_enum(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *arg, ngx_conf_enum_t *e, ngx_uint_t *value);

/* the same without a message: NGX_DECLINED when arg is none of them */
ngx_int_t ngx_http_compliance_conf_enum_find(ngx_conf_enum_t *e,
    ngx_str_t *arg, ngx_uint_t *value);

/*
 * A directive whose one argument is one of the names of cmd->post (an
 * ngx_conf_enum_t list), stored in the ngx_uint_t at cmd->offset: nginx's
 * ngx_conf_set_enum_slot with the accepted values in its message.
 */
char *ngx_http_compliance_conf_set_enum_slot(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

/* "name=value": NGX_OK with both parts, NGX_DECLINED without a name */
ngx_int_t ngx_http_compliance_conf_split(ngx_str_t *arg, ngx_str_t *name,
    ngx_str_t *value);

/* 1 with *value set when arg is "name=value" for this name */
ngx_uint_t ngx_http_compliance_conf_param(ngx_str_t *arg, const char *name,
    ngx_str_t *value);

/*
 * The one warning for a key file that group or others may read: the
 * caller passes the bits it forbids (0007 for files nginx's group may
 * read, 0077 for secrets only nginx's user may read).
 */
void ngx_http_compliance_warn_file_mode(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *path, ngx_uint_t mode, ngx_uint_t forbidden);

/*
 * Loads the 32-byte secret (compliance_secret_load) of the key file
 * written as path in cmd; logs why not and returns NGX_ERROR, or warns
 * when group or others may read the file.
 */
ngx_int_t ngx_http_compliance_conf_load_secret(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *path, u_char *key);


/*
 * Where a directive was written, for the errors found after nginx has
 * read past it (in a merge, at postconfiguration): ngx_conf_log_error()
 * names the line being read then, the end of the enclosing block.  A
 * concern records the position in its own conf while the directive is
 * parsed, inherits it with the value, and logs those errors with
 * ngx_http_compliance_conf_error().
 */
typedef struct {
    ngx_str_t                   file;           /* .data NULL: not set */
    ngx_uint_t                  line;
} ngx_http_compliance_conf_pos_t;


/* an inherited value keeps the position it was written at */
#define ngx_http_compliance_conf_pos_merge(conf, prev)                       \
    if ((conf).file.data == NULL) {                                          \
        (conf) = (prev);                                                     \
    }

/* at parse time: the line nginx is reading is the directive's own */
void ngx_http_compliance_conf_pos_set(ngx_conf_t *cf,
    ngx_http_compliance_conf_pos_t *pos);

/*
 * As ngx_conf_log_error() without an errno, but ending with the recorded
 * position ("... in /etc/nginx/nginx.conf:12"); without one (pos NULL or
 * not set: a directive of "-g"), the position nginx is at.
 */
void ngx_cdecl ngx_http_compliance_conf_error(ngx_uint_t level,
    ngx_conf_t *cf, ngx_http_compliance_conf_pos_t *pos, const char *fmt,
    ...);


#endif /* _NGX_HTTP_COMPLIANCE_CONF_H_INCLUDED_ */
