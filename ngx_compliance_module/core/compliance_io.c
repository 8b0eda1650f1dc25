/*
 * Small I/O helpers shared by the core loaders (key files, vaults).
 */

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compliance_io.h"
#include "compliance_secret.h"


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


int
compliance_file_read(const char *path, const char *kind, size_t max,
    compliance_file_t *f, char *err, size_t errlen)
{
    int          fd, rc;
    size_t       size;
    ssize_t      n;
    struct stat  st;

    memset(f, 0, sizeof(compliance_file_t));

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        rc = (errno == ENOENT) ? COMPLIANCE_FILE_NOENT : COMPLIANCE_FILE_IO;
        snprintf(err, errlen, "cannot open %s \"%s\": %s", kind, path,
                 strerror(errno));
        return rc;
    }

    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s \"%s\" is not a regular file", kind, path);
        close(fd);
        return COMPLIANCE_FILE_IO;
    }

    if (st.st_size < 0 || (unsigned long long) st.st_size > max) {
        snprintf(err, errlen, "%s \"%s\" is larger than %zu bytes", kind,
                 path, max);
        close(fd);
        return COMPLIANCE_FILE_TOO_LARGE;
    }

    /* one byte more than the file has shows a file that grew meanwhile */
    size = (size_t) st.st_size + 1;

    f->data = malloc(size + 1);
    if (f->data == NULL) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return COMPLIANCE_FILE_NOMEM;
    }

    f->size = size + 1;

    n = compliance_read_full(fd, f->data, size);
    close(fd);

    if (n == -1) {
        snprintf(err, errlen, "cannot read %s \"%s\": %s", kind, path,
                 strerror(errno));
        compliance_file_free(f, 1);
        return COMPLIANCE_FILE_IO;
    }

    if ((size_t) n == size) {
        snprintf(err, errlen, "%s \"%s\" changed while being read", kind,
                 path);
        compliance_file_free(f, 1);
        return COMPLIANCE_FILE_IO;
    }

    f->len = (size_t) n;
    f->data[f->len] = '\0';
    f->mode = (unsigned) (st.st_mode & 07777);

    return COMPLIANCE_FILE_OK;
}


void
compliance_file_free(compliance_file_t *f, int wipe)
{
    if (f->data != NULL) {
        if (wipe) {
            compliance_secret_wipe(f->data, f->size);
        }

        free(f->data);
    }

    memset(f, 0, sizeof(compliance_file_t));
}


int
compliance_lock_dir(const char *path, char *err, size_t errlen)
{
    int          fd;
    char         dir[4096];
    const char  *slash;
    size_t       len;

    slash = strrchr(path, '/');

    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");

    } else {
        len = (slash == path) ? 1 : (size_t) (slash - path);

        if (len >= sizeof(dir)) {
            snprintf(err, errlen, "file name \"%s\" is too long", path);
            return -1;
        }

        memcpy(dir, path, len);
        dir[len] = '\0';
    }

    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == -1) {
        snprintf(err, errlen, "cannot open directory \"%s\": %s", dir,
                 strerror(errno));
        return -1;
    }

    while (flock(fd, LOCK_EX) == -1) {
        if (errno != EINTR) {
            snprintf(err, errlen, "cannot lock directory \"%s\": %s", dir,
                     strerror(errno));
            close(fd);
            return -1;
        }
    }

    return fd;
}
