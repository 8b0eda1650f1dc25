/*
 * JWT revocation lists (compliance_jwt_revocation): the conf piece
 * embedded in the location conf (see ngx_http_compliance_module.h).  The
 * list itself is core/compliance_revoke.c's.
 */

#ifndef _NGX_HTTP_COMPLIANCE_REVOKE_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_REVOKE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "compliance_revoke.h"
#include "ngx_http_compliance_conf.h"


/* embedded in ngx_http_compliance_loc_conf_t as .revoke */
typedef struct {
    compliance_revoke_t             *list;      /* NULL: none */
    ngx_http_compliance_conf_pos_t   pos;
} ngx_http_compliance_revoke_conf_t;


#endif /* _NGX_HTTP_COMPLIANCE_REVOKE_H_INCLUDED_ */
