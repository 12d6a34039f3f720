/*
 * Power-cut recorder for the power_cut test: an LD_PRELOAD library for `mzd run`.
 *
 * It models a journaling file system in ordered mode (ext4's default) losing power:
 * - a file's *content* survives only as it was at its last fsync/fdatasync (data that was
 *   merely written, or pushed with sync_file_range, is lost);
 * - the *namespace* (which names exist, and which inode each names) survives as it was at the
 *   last fsync/fdatasync of anything, because such a call commits the journal with every
 *   metadata change made before it.
 *
 * At every successful fsync/fdatasync of something under $MZ_PC_ROOT it records, in
 * $MZ_PC_SHADOW: the content of the synced file (files/<dev>-<ino>, when it is a regular file)
 * and the whole namespace under the root (namespace: "type\tdev-ino\tpath" lines), each
 * written to a temporary name and renamed, so that a kill during recording leaves the previous
 * record whole. The test rebuilds the folder from the last record after a SIGKILL.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *ns_out;
static size_t root_len;

static int copy_file(const char *from, const char *to) {
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) { close(in); return -1; }
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) { n = -1; break; }
    }
    close(in);
    close(out);
    return n < 0 ? -1 : 0;
}

static int ns_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)ftw;
    if (strstr(path, "/.mz-pc-")) return 0; /* never record the recorder */
    char type = flag == FTW_D ? 'd' : (S_ISREG(st->st_mode) ? 'f' : 'o');
    if (type == 'o') return 0;
    fprintf(ns_out, "%c\t%lu-%lu\t%s\n", type, (unsigned long)st->st_dev, (unsigned long)st->st_ino,
            path + root_len);
    return 0;
}

static void record(int fd) {
    const char *root = getenv("MZ_PC_ROOT");
    const char *shadow = getenv("MZ_PC_SHADOW");
    if (!root || !shadow) return;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0) return;
    path[n] = 0;
    root_len = strlen(root);
    if (strncmp(path, root, root_len) != 0) return;
    struct stat st;
    if (fstat(fd, &st) != 0) return;
    pthread_mutex_lock(&lock);
    char tmp[PATH_MAX + 16], dst[PATH_MAX];
    if (S_ISREG(st.st_mode)) {
        snprintf(dst, sizeof dst, "%s/files/%lu-%lu", shadow, (unsigned long)st.st_dev, (unsigned long)st.st_ino);
        snprintf(tmp, sizeof tmp, "%s.tmp", dst);
        if (copy_file(path, tmp) == 0) rename(tmp, dst);
    }
    snprintf(dst, sizeof dst, "%s/namespace", shadow);
    snprintf(tmp, sizeof tmp, "%s/namespace.tmp", shadow);
    ns_out = fopen(tmp, "w");
    if (ns_out) {
        nftw(root, ns_entry, 32, FTW_PHYS);
        fclose(ns_out);
        rename(tmp, dst);
    }
    pthread_mutex_unlock(&lock);
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int rc = real(fd);
    int saved = errno;
    if (rc == 0) record(fd);
    errno = saved;
    return rc;
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    int rc = real(fd);
    int saved = errno;
    if (rc == 0) record(fd);
    errno = saved;
    return rc;
}
