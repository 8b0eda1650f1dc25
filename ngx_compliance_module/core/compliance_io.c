/*
 * Small I/O helpers shared by the core loaders (key files, vaults).
 */

#include <errno.h>
#include <unistd.h>

#include "compliance_io.h"


ssize_t
compliance_read_full(int fd, u_char *buf, size_t size)
{
    size_t   len;
    ssize_t  n;

    len = 0;

    while (len < size) {
        n = read(fd, buf + len, size - len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1) {
            return -1;
        }

        if (n == 0) {
            break;
        }

        len += (size_t) n;
    }

    return (ssize_t) len;
}
