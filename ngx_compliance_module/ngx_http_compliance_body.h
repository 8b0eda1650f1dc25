/*
 * The request body, read by the enforcement handler (REWRITE phase)
 * for the request-validation steps (SPEC 3 and 11): without blocking,
 * bounded, and left in place for the upstream, which gets it unchanged.
 *
 * A body step calls ngx_http_compliance_body_read() and returns what it
 * returns.  handler runs once the whole body is in: at once when it
 * already is (nginx read it with the headers, or an earlier step or
 * location read it), else later from the read event.  handler returns
 * what a REWRITE-phase handler returns: NGX_DECLINED lets the request go
 * on, anything else finalizes it (the return value of
 * ngx_http_compliance_body_refuse() or of ngx_http_compliance_problem(),
 * say).  Inside handler, ngx_http_compliance_body_view() gives the body
 * as one contiguous string (from memory, or read back from nginx's
 * temporary file), computed once and shared by every step.
 *
 * Several body steps compose: when the body came later and handler let
 * the request go on, the enforcement handler runs again from the top
 * (its earlier steps are idempotent: the identity is kept, limits are
 * charged once), and this time every body step finds the body in.  A
 * handler runs once per location: called again in the same location,
 * ngx_http_compliance_body_read() returns its first result.
 *
 * Bounds: a Content-Length above max is refused at once with 413
 * body_too_large (no "100 Continue" is sent, nothing is read); a chunked
 * body is counted as it arrives and refused the same way as soon as it
 * goes over max, without reading the rest.  The first read of a request
 * sets the bound: a later call (another step, or another location after
 * an internal redirect) with a smaller max is refused if the body is
 * larger.  nginx's own client_max_body_size and client_body_timeout
 * apply as always (their errors are nginx's).
 *
 * Steps that need the body: set cmf->body_needed at config time (the
 * request-body filter that counts bytes is registered only then) and
 * cmf->handler_needed.
 */

#ifndef _NGX_HTTP_COMPLIANCE_BODY_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_BODY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* runs once the body is in; returns a REWRITE-phase handler's value */
typedef ngx_int_t (*ngx_http_compliance_body_handler_pt)(
    ngx_http_request_t *r);


#define NGX_HTTP_COMPLIANCE_BODY_STEPS  4


/* a handler's result, kept for the enforcement handler's next run */
typedef struct {
    ngx_http_compliance_body_handler_pt   handler;
    void                                **loc_conf;  /* its location */
    ngx_int_t                             rc;
} ngx_http_compliance_body_step_t;


/* the per-request state (the ctx's body member) */
typedef struct {
    off_t                                 max;
    off_t                                 received;  /* filter's count */
    ngx_http_compliance_body_handler_pt   handler;
    ngx_http_compliance_body_step_t       steps[NGX_HTTP_COMPLIANCE_BODY_STEPS];
    ngx_uint_t                            nsteps;
    ngx_str_t                             view;
    unsigned                              started:1;
    unsigned                              in_call:1;
    unsigned                              done:1;
    unsigned                              too_large:1;
    unsigned                              viewed:1;
} ngx_http_compliance_body_t;


/*
 * Reads the body of r (at most max bytes), then runs handler.  Returns
 * the value the enforcement handler must return: handler's own when the
 * body was already complete, NGX_DONE when reading goes on (handler
 * runs later and runs the enforcement handler again or finalizes the
 * request itself), a refusal (413 body_too_large) or an nginx error
 * status.
 */
ngx_int_t ngx_http_compliance_body_read(ngx_http_request_t *r, off_t max,
    ngx_http_compliance_body_handler_pt handler);

/*
 * The whole body, contiguous (data never NULL; len 0 for no body).  The
 * view is valid for the request's life; it must not be written to.
 * NGX_ERROR if the body was not read by ngx_http_compliance_body_read()
 * or cannot be read back.
 */
ngx_int_t ngx_http_compliance_body_view(ngx_http_request_t *r,
    ngx_str_t *view);

/*
 * 1 if the request's Content-Type, without parameters, is one of types
 * (ngx_str_t, lowercase "type/subtype"), compared case-insensitively;
 * 0 otherwise, and when the request has no Content-Type.
 */
ngx_uint_t ngx_http_compliance_body_type_in(ngx_http_request_t *r,
    ngx_array_t *types);

/*
 * Refuses an invalid request (SPEC 11): problem+json with status and
 * reason, members (raw JSON members such as "\"errors\":[...]", without
 * braces; NULL for none) added to the body, and the audit record's
 * event "invalid_request" with "validation_errors": nerrors.  Returns
 * the value to return from a phase handler (or from a body handler).
 */
ngx_int_t ngx_http_compliance_body_refuse(ngx_http_request_t *r,
    ngx_uint_t status, const char *reason, ngx_str_t *members,
    ngx_uint_t nerrors);

/* postconfiguration: the request-body filter, when cmf->body_needed */
ngx_int_t ngx_http_compliance_body_init(ngx_conf_t *cf);


#endif /* _NGX_HTTP_COMPLIANCE_BODY_H_INCLUDED_ */
