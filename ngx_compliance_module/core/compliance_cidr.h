/*
 * IPv4/IPv6 CIDR lists (the allow= field of API keys): parsing and
 * matching a client address.  No nginx headers here.
 */

#ifndef _COMPLIANCE_CIDR_H_INCLUDED_
#define _COMPLIANCE_CIDR_H_INCLUDED_


#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>


/* Longest accepted list text and most entries in one list. */
#define COMPLIANCE_CIDR_MAX_TEXT   1024
#define COMPLIANCE_CIDR_MAX_RULES  64


typedef struct {
    uint8_t   family;      /* AF_INET or AF_INET6 */
    uint8_t   prefix;      /* 0..32 or 0..128 */
    u_char    addr[16];    /* network address, host bits cleared */
} compliance_cidr_t;


typedef struct {
    compliance_cidr_t  *rules;
    size_t              n;
} compliance_cidr_list_t;


/*
 * Parses one "addr[/prefix]".  A bare address is /32 or /128; host bits
 * set below the prefix are accepted and cleared.  Returns 0 or -1.
 */
int compliance_cidr_parse(const u_char *p, size_t len, compliance_cidr_t *c);

/*
 * Parses a comma-separated list into a malloc()ed array (free it with
 * compliance_cidr_list_free()).  Empty elements, spaces and more than
 * COMPLIANCE_CIDR_MAX_RULES entries are refused.  Returns 0, or -1 with
 * a message in err; list is then empty.
 */
int compliance_cidr_list_parse(const u_char *p, size_t len,
    compliance_cidr_list_t *list, char *err, size_t errlen);

void compliance_cidr_list_free(compliance_cidr_list_t *list);

/*
 * Returns 1 when sa (AF_INET or AF_INET6) lies in the rule, else 0.
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) also matches IPv4 rules.
 */
int compliance_cidr_match(const compliance_cidr_t *c,
    const struct sockaddr *sa);

/* Returns 1 when sa matches any rule of the list, else 0 (and for NULL). */
int compliance_cidr_list_match(const compliance_cidr_list_t *list,
    const struct sockaddr *sa);


#endif /* _COMPLIANCE_CIDR_H_INCLUDED_ */
