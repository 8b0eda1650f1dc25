/*
 * Small I/O helpers shared by the core loaders (key files, vaults).
 */

#ifndef _COMPLIANCE_IO_H_INCLUDED_
#define _COMPLIANCE_IO_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


/*
 * Reads until size bytes are in buf or the file ends, retrying
 * interrupted reads.  Returns the bytes read, or -1 with errno set.
 */
ssize_t compliance_read_full(int fd, u_char *buf, size_t size);


#endif /* _COMPLIANCE_IO_H_INCLUDED_ */
