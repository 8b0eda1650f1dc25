/*
 * Small I/O helpers shared by the core loaders (key files, vaults): the
 * one bounded whole-file reader and the reader under it.
 */

#ifndef _COMPLIANCE_IO_H_INCLUDED_
#define _COMPLIANCE_IO_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


/* failure classes of compliance_file_read() */
#define COMPLIANCE_FILE_OK        0
#define COMPLIANCE_FILE_NOENT    -1     /* no such file */
#define COMPLIANCE_FILE_IO       -2     /* cannot open or read, not regular,
                                         * changed while read */
#define COMPLIANCE_FILE_TOO_LARGE -3
#define COMPLIANCE_FILE_NOMEM    -4


typedef struct {
    u_char      *data;      /* malloc()ed, NUL-terminated at data[len] */
    size_t       len;
    size_t       size;      /* of the allocation */
    unsigned     mode;      /* st_mode & 07777, for permission checks */
} compliance_file_t;


/*
 * Reads the regular file path whole, at most max bytes, into f.  kind
 * names the file in the messages ("key file", "vault file"):
 *
 *     cannot open <kind> "<path>": <reason>
 *     <kind> "<path>" is not a regular file
 *     <kind> "<path>" is larger than <max> bytes
 *     cannot read <kind> "<path>": <reason>
 *     <kind> "<path>" changed while being read
 *
 * Returns COMPLIANCE_FILE_OK, or a failure class with err set and f
 * empty.
 */
int compliance_file_read(const char *path, const char *kind, size_t max,
    compliance_file_t *f, char *err, size_t errlen);

/* frees f->data, wiped first when it held a secret */
void compliance_file_free(compliance_file_t *f, int wipe);

/*
 * Serializes the writers of a file that is replaced by rename() (key
 * files, vaults): an exclusive flock() on the directory that holds it, so
 * no lock file is left behind and the lock follows no inode the rename
 * replaces.  Returns the descriptor to close() when done (or to leave to
 * process exit), or -1 with err set.
 */
int compliance_lock_dir(const char *path, char *err, size_t errlen);

/*
 * Reads until size bytes are in buf or the file ends, retrying
 * interrupted reads.  Returns the bytes read, or -1 with errno set.
 */
ssize_t compliance_read_full(int fd, u_char *buf, size_t size);


#endif /* _COMPLIANCE_IO_H_INCLUDED_ */
