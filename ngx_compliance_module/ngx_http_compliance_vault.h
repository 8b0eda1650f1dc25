/*
 * Credential proxy: the conf pieces embedded in the module's structs (see
 * ngx_http_compliance_module.h).  The per-request state is private to
 * ngx_http_compliance_vault.c.
 */

#ifndef _NGX_HTTP_COMPLIANCE_VAULT_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_VAULT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "compliance_vault.h"
#include "ngx_http_compliance_conf.h"
#include "ngx_http_compliance_reqheaders.h"
#include "ngx_http_compliance_oauth2.h"


/* embedded in ngx_http_compliance_main_conf_t as .vault */
typedef struct {
    compliance_vault_t              *vault;     /* decrypted at config load */
    ngx_str_t                        file;      /* for messages */

    /* some location uses compliance_upstream_credential */
    ngx_flag_t                       used;

    /* max_age=: the rotation policy, 0: none (vault_age, daily alerts) */
    time_t                           max_age;
    ngx_str_t                        max_age_text;  /* as written */
    ngx_http_compliance_conf_pos_t   where;     /* of compliance_vault */
} ngx_http_compliance_vault_main_conf_t;


/* embedded in ngx_http_compliance_loc_conf_t as .vault */
typedef struct {
    ngx_str_t                        name;      /* credential, or empty */
    ngx_str_t                        header;    /* as written */
    ngx_str_t                        prefix;

    /* resolved at merge; the entry lives as long as the cycle */
    const compliance_vault_entry_t  *entry;
    ngx_http_compliance_header_t     match;     /* also the lowcase key */
    ngx_uint_t                       hash;

    /* where the directive was written, for errors found at merge */
    ngx_http_compliance_conf_pos_t   where;

    /* compliance_upstream_oauth2: the token source (entry stays NULL) */
    ngx_http_compliance_oauth2_t    *oauth2;
} ngx_http_compliance_vault_loc_conf_t;


/* NULL when a header name can carry a credential, else why not */
const char *ngx_http_compliance_vault_header_invalid(ngx_str_t *name);


#endif /* _NGX_HTTP_COMPLIANCE_VAULT_H_INCLUDED_ */
