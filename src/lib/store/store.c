/* Opening, creating and closing a store (an OCI image layout). */
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>

#include "store_internal.h"

static const char layout_json[] = "{\"imageLayoutVersion\":\"" GANTRY_OCI_LAYOUT_VERSION "\"}";

char *gantry_store_default_root(struct gantry_error **err)
{
    const char *env = getenv("GANTRY_ROOT");
    if (env && *env)
        return xstrdup(env);
    if (geteuid() == 0)
        return xstrdup("/var/lib/gantry");
    env = getenv("XDG_DATA_HOME");
    if (env && *env == '/') /* relative values are invalid (XDG base dir spec) */
        return xasprintf("%s/gantry", env);
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(geteuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !*home) {
        gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                         "no home directory to put the store in: set GANTRY_ROOT");
        return NULL;
    }
    return xasprintf("%s/.local/share/gantry", home);
}

const char *gantry_store_root(const struct gantry_store *s)
{
    return s->root;
}

void gantry_store_free(struct gantry_store *s)
{
    if (!s)
        return;
    if (s->session_fd >= 0)
        close(s->session_fd);
    free(s->root);
    free(s);
}

static void cleanup_storep(struct gantry_store **s)
{
    gantry_store_free(*s);
}

/* Check oci-layout; GANTRY_E_NOT_FOUND when the file is absent (M16). */
static int check_layout(struct gantry_store *s, struct gantry_error **err)
{
    _cleanup_free_ char *path = store_path(s, "oci-layout");
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_TOKEN_MAX);
    if (gantry_buf_read_file(&b, path, err) < 0) {
        if (err && *err && (*err)->code == GANTRY_E_NOT_FOUND)
            return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                                    "'%s' is not an OCI image layout: no oci-layout file", s->root);
        return -1;
    }
    if (gantry_oci_layout_check(b.data, b.len, err) < 0)
        return gantry_error_prefix(err, "store '%s'", s->root);
    return 0;
}

/* Only what an interrupted initialisation can leave behind. */
static int check_fresh(struct gantry_store *s, struct gantry_error **err)
{
    static const char *const ours[] = {"lock",       "blobs",          "tmp",
                                       "index.json", "index.json.tmp", "oci-layout.tmp"};
    DIR *d = opendir(s->root);
    if (!d)
        return gantry_error_set(err, GANTRY_E_IO, errno, "open directory '%s'", s->root);
    const struct dirent *e;
    while ((e = readdir(d))) {
        bool ok = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
        for (size_t i = 0; i < ARRAY_SIZE(ours) && !ok; i++)
            ok = strcmp(e->d_name, ours[i]) == 0;
        if (!ok) {
            gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                             "'%s' is not empty and has no oci-layout file: refusing to create a "
                             "store there",
                             s->root);
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    return 0;
}

static int write_empty_index(struct gantry_store *s, struct gantry_error **err)
{
    _cleanup_free_ char *path = store_path(s, "index.json");
    if (access(path, F_OK) == 0)
        return 0;
    struct gantry_oci_index *idx = gantry_oci_index_new(NULL);
    int r = gantry_oci_index_serialize(idx, err);
    if (r == 0)
        r = store_write_atomic(s, "index.json", idx->raw, idx->raw_len, err);
    gantry_oci_index_free(idx);
    return r;
}

/* Create the layout; oci-layout comes last, so a crash leaves a fresh dir. */
static int init_layout(struct gantry_store *s, struct gantry_error **err)
{
    if (check_fresh(s, err) < 0)
        return -1;
    _cleanup_close_ int lock = store_lock(s, LOCK_EX, err);
    if (lock < 0)
        return -1;
    _cleanup_error_ struct gantry_error *e = NULL;
    if (check_layout(s, &e) == 0) /* created meanwhile by another process */
        return 0;
    if (e->code != GANTRY_E_NOT_FOUND) {
        if (err)
            *err = steal_pointer(&e);
        return -1;
    }
    _cleanup_free_ char *blobs = store_path(s, "blobs");
    _cleanup_free_ char *sha256 = store_path(s, "blobs/sha256");
    _cleanup_free_ char *tmp = store_path(s, "tmp");
    if (store_mkdir(blobs, err) < 0 || store_mkdir(sha256, err) < 0 || store_mkdir(tmp, err) < 0 ||
        write_empty_index(s, err) < 0)
        return -1;
    return store_write_atomic(s, "oci-layout", layout_json, strlen(layout_json), err);
}

static int open_dir(const char *root, int flags, struct gantry_error **err)
{
    if ((flags & GANTRY_STORE_CREATE) && store_mkdir_p(root, err) < 0)
        return -1;
    struct stat st;
    if (stat(root, &st) < 0)
        return gantry_error_set(err, errno == ENOENT ? GANTRY_E_NOT_FOUND : GANTRY_E_IO, errno,
                                "store '%s'", root);
    if (!S_ISDIR(st.st_mode))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "store '%s' is not a directory",
                                root);
    return 0;
}

static int session_lock(struct gantry_store *s, struct gantry_error **err)
{
    s->session_fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->session_fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "open store '%s'", s->root);
    while (flock(s->session_fd, LOCK_SH) < 0) {
        if (errno != EINTR)
            return gantry_error_set(err, GANTRY_E_IO, errno, "lock store '%s'", s->root);
    }
    return 0;
}

struct gantry_store *gantry_store_open(const char *root, int flags, struct gantry_error **err)
{
    if (!root || !*root) {
        gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "empty store path");
        return NULL;
    }
    if (open_dir(root, flags, err) < 0)
        return NULL;
    __attribute__((cleanup(cleanup_storep))) struct gantry_store *s = xcalloc(1, sizeof(*s));
    s->root = xstrdup(root);
    s->session_fd = -1;
    if (session_lock(s, err) < 0)
        return NULL;
    _cleanup_error_ struct gantry_error *e = NULL;
    if (check_layout(s, &e) < 0) {
        if (!(flags & GANTRY_STORE_CREATE) || e->code != GANTRY_E_NOT_FOUND) {
            if (err)
                *err = steal_pointer(&e);
            return NULL;
        }
        if (init_layout(s, err) < 0)
            return NULL;
    }
    return steal_pointer(&s);
}
