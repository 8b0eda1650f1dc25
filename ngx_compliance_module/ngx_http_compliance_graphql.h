/*
 * compliance_graphql (SPEC 11): the limits of GraphQL documents, checked
 * in the enforcement handler after authentication, scopes and limits
 * (ngx_http_compliance_graphql.c; the parser is core/compliance_graphql.c).
 */

#ifndef _NGX_HTTP_COMPLIANCE_GRAPHQL_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_GRAPHQL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "compliance_graphql.h"


/* SPEC 11 defaults */
#define NGX_HTTP_COMPLIANCE_GRAPHQL_DEPTH     10
#define NGX_HTTP_COMPLIANCE_GRAPHQL_ALIASES   15
#define NGX_HTTP_COMPLIANCE_GRAPHQL_TOKENS    1000
#define NGX_HTTP_COMPLIANCE_GRAPHQL_SIZE      65536


/* the location's limits: owned by ngx_http_compliance_graphql.c */
typedef struct {
    ngx_flag_t                    enable;       /* UNSET: inherited */
    compliance_graphql_limits_t   limits;
    off_t                         max_size;     /* of a POST body */
} ngx_http_compliance_graphql_conf_t;


/*
 * The GraphQL step of the enforcement handler: returns what a
 * REWRITE-phase handler returns (NGX_DECLINED: the request goes on).  A
 * POST body is read through ngx_http_compliance_body_read(); when that
 * goes on with read events, NGX_DONE, and the request resumes from the
 * body handler.
 */
ngx_int_t ngx_http_compliance_graphql(ngx_http_request_t *r);

void ngx_http_compliance_graphql_create_conf(
    ngx_http_compliance_graphql_conf_t *conf);
char *ngx_http_compliance_graphql_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_graphql_conf_t *prev,
    ngx_http_compliance_graphql_conf_t *conf);
char *ngx_http_compliance_graphql_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);


#endif /* _NGX_HTTP_COMPLIANCE_GRAPHQL_H_INCLUDED_ */
