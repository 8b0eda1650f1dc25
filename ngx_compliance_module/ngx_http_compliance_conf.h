/*
 * Directive-parsing helpers shared by every concern's directive handlers
 * (ngx_http_compliance_conf.c): enum values, key=value parameters, the
 * key-file permission warning.
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


#endif /* _NGX_HTTP_COMPLIANCE_CONF_H_INCLUDED_ */
