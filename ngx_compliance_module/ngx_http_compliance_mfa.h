/*
 * compliance_require_mfa: the conf piece embedded in the location conf
 * (see ngx_http_compliance_module.h).
 */

#ifndef _NGX_HTTP_COMPLIANCE_MFA_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_MFA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "compliance_jwt.h"
#include "ngx_http_compliance_conf.h"


/* embedded in ngx_http_compliance_loc_conf_t as .mfa */
typedef struct {
    ngx_array_t                     *amr;       /* compliance_jwt_str_t;
                                                 * NULL: not required */
    ngx_http_compliance_conf_pos_t   pos;
} ngx_http_compliance_mfa_conf_t;


#endif /* _NGX_HTTP_COMPLIANCE_MFA_H_INCLUDED_ */
