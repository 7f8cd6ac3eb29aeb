/*
 * Docker's client config (config.json) and credential helpers, read and
 * written the way the docker CLI does so both tools share one login.
 */
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "registry_internal.h"

extern char **environ;

#define CONFIG_MAX (4u * 1024u * 1024u)
#define HELPER_OUTPUT_MAX GANTRY_TOKEN_MAX

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void gantry_registry_credentials_release(struct gantry_registry_credentials *cred)
{
    if (!cred)
        return;
    free(cred->username);
    wipe_free(cred->password);
    wipe_free(cred->identity_token);
    memset(cred, 0, sizeof(*cred));
}

char *gantry_registry_config_path(struct gantry_error **err)
{
    const char *dir = getenv("DOCKER_CONFIG");
    if (dir && *dir)
        return xasprintf("%s/config.json", dir);
    const char *home = getenv("HOME");
    if (!home || !*home) {
        gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                         "cannot find the Docker config: neither DOCKER_CONFIG nor HOME is set");
        return NULL;
    }
    return xasprintf("%s/.docker/config.json", home);
}

static bool is_hub(const char *host)
{
    return strcmp(host, "docker.io") == 0 || strcmp(host, "index.docker.io") == 0 ||
           strcmp(host, "registry-1.docker.io") == 0;
}

char *gantry_registry_server_key(const char *server, struct gantry_error **err)
{
    const char *s = server ? server : "";
    if (strncasecmp(s, "https://", 8) == 0)
        s += 8;
    else if (strncasecmp(s, "http://", 7) == 0)
        s += 7;
    size_t n = strcspn(s, "/");
    bool ok = n > 0;
    for (size_t i = 0; i < n && ok; i++)
        ok = (unsigned char)s[i] > 0x20 && s[i] != 0x7f && s[i] != '@';
    if (!ok) {
        gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid registry server '%s'",
                         server ? server : "");
        return NULL;
    }
    char *host = xstrndup(s, n);
    for (char *p = host; *p; p++)
        *p = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
    if (is_hub(host)) {
        free(host);
        return xstrdup(GANTRY_REGISTRY_DOCKER_HUB_KEY);
    }
    return host;
}

/* Start the helper with stdin on a socket (MSG_NOSIGNAL: no SIGPIPE when
 * it exits without reading) and stdout on a pipe. */
static int helper_spawn(const char *prog, const char *action, int *in, int *out, pid_t *pid,
                        struct gantry_error **err)
{
    int sv[2], po[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "socketpair");
    if (pipe2(po, O_CLOEXEC) < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return gantry_error_set(err, GANTRY_E_IO, e, "pipe");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = {(char *)prog, (char *)action, NULL};
    int r = posix_spawnp(pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(sv[1]);
    close(po[1]);
    if (r != 0) {
        close(sv[0]);
        close(po[0]);
        return gantry_error_set(err, r == ENOENT ? GANTRY_E_NOT_FOUND : GANTRY_E_IO, r,
                                "run credential helper '%s'", prog);
    }
    *in = sv[0];
    *out = po[0];
    return 0;
}

static int helper_wait(pid_t pid, int *status)
{
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

static int helper_feed(int fd, const char *input)
{
    size_t len = strlen(input), off = 0;
    while (off < len) {
        ssize_t n = send(fd, input + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1; /* the helper went away: its exit status tells why */
        off += (size_t)n;
    }
    return 0;
}

int reg_helper_run(const char *helper, const char *action, const char *input,
                   struct gantry_buf *out, struct gantry_error **err)
{
    if (!*helper || strchr(helper, '/'))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid credential helper '%s'",
                                helper);
    _cleanup_free_ char *prog = xasprintf("docker-credential-%s", helper);
    _cleanup_close_ int in = -1;
    _cleanup_close_ int fd = -1;
    pid_t pid;
    if (helper_spawn(prog, action, &in, &fd, &pid, err) < 0)
        return -1;
    (void)helper_feed(in, input);
    close(steal_fd(&in));
    _cleanup_error_ struct gantry_error *rerr = NULL;
    int rr = gantry_buf_read_fd(out, fd, &rerr);
    int status;
    if (helper_wait(pid, &status) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "wait for '%s'", prog);
    if (rr < 0)
        return gantry_error_set(err, rerr->code, 0, "'%s %s': output: %s", prog, action,
                                rerr->message);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (strstr(out->data, "credentials not found"))
        return 1;
    size_t n = strcspn(out->data, "\r\n");
    return gantry_error_set(err, GANTRY_E_INTERNAL, 0, "'%s %s' failed: %.*s", prog, action,
                            (int)(n > 200 ? 200 : n), n ? out->data : "no message");
}

/* The file's bytes into b; a missing file leaves b empty. */
static int read_config(const char *path, struct gantry_buf *b, struct gantry_error **err)
{
    _cleanup_error_ struct gantry_error *e = NULL;
    if (gantry_buf_read_file(b, path, &e) == 0)
        return 0;
    if (e->code == GANTRY_E_NOT_FOUND) {
        gantry_buf_reset(b);
        return 0;
    }
    if (err) {
        gantry_error_free(*err);
        *err = steal_pointer(&e);
    }
    return -1;
}

static int helper_get(const struct reg_config_entry *e, struct gantry_registry_credentials *out,
                      struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf o = GANTRY_BUF_INIT_CAP(HELPER_OUTPUT_MAX);
    int r = reg_helper_run(e->helper, "get", e->helper_key, &o, err);
    if (r != 0)
        return r;
    r = reg_helper_parse(o.data, o.len, out, err);
    explicit_bzero(o.data, o.len);
    return r;
}

int gantry_registry_config_get(const char *path, const char *server,
                               struct gantry_registry_credentials *out, struct gantry_error **err)
{
    memset(out, 0, sizeof(*out));
    _cleanup_free_ char *key = gantry_registry_server_key(server, err);
    if (!key)
        return -1;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(CONFIG_MAX);
    if (read_config(path, &b, err) < 0)
        return -1;
    struct reg_config_entry e;
    if (reg_config_lookup(b.data, b.len, key, &e, err) < 0)
        return gantry_error_prefix(err, "'%s'", path);
    int r = 1;
    if (e.helper && (r = helper_get(&e, out, err)) < 0) {
        reg_config_entry_release(&e);
        return -1;
    }
    if (r == 1) { /* no helper, or the helper has nothing: the file's entry */
        *out = e.auth;
        memset(&e.auth, 0, sizeof(e.auth));
    }
    reg_config_entry_release(&e);
    return 0;
}

static int mkdir_parent(const char *path, struct gantry_error **err)
{
    _cleanup_free_ char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return gantry_error_set(err, GANTRY_E_IO, errno, "create '%s'", dir);
        *p = '/';
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return gantry_error_set(err, GANTRY_E_IO, errno, "create '%s'", dir);
    return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Write through a symlink to its target, as Docker does; atomically, 0600. */
static int write_config(const char *path, const struct gantry_buf *b, struct gantry_error **err)
{
    char real[PATH_MAX];
    const char *target = realpath(path, real) ? real : path;
    if (mkdir_parent(target, err) < 0)
        return -1;
    _cleanup_free_ char *tmp = xasprintf("%s.XXXXXX", target);
    _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "create '%s'", tmp);
    if (fchmod(fd, 0600) < 0 || write_all(fd, b->data, b->len) < 0 || fsync(fd) < 0 ||
        close(steal_fd(&fd)) < 0 || rename(tmp, target) < 0) {
        int e = errno;
        unlink(tmp);
        return gantry_error_set(err, GANTRY_E_IO, e, "write '%s'", target);
    }
    return 0;
}

static int edit_and_write(const char *path, const struct gantry_buf *old, const char *key,
                          const struct gantry_registry_credentials *cred, bool *found,
                          struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf out = GANTRY_BUF_INIT_CAP(CONFIG_MAX);
    if (reg_config_edit(old->data, old->len, key, cred, &out, found, err) < 0)
        return gantry_error_prefix(err, "'%s'", path);
    if (!cred && found && !*found)
        return 0;
    int r = write_config(path, &out, err);
    explicit_bzero(out.data, out.len);
    return r;
}

int gantry_registry_config_store(const char *path, const char *server,
                                 const struct gantry_registry_credentials *cred, bool *helper_used,
                                 struct gantry_error **err)
{
    _cleanup_free_ char *key = gantry_registry_server_key(server, err);
    if (!key)
        return -1;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(CONFIG_MAX);
    if (read_config(path, &b, err) < 0)
        return -1;
    struct reg_config_entry e;
    if (reg_config_lookup(b.data, b.len, key, &e, err) < 0)
        return gantry_error_prefix(err, "'%s'", path);
    bool helper = e.helper != NULL;
    int r = 0;
    if (helper) {
        _cleanup_free_ char *input = reg_helper_store_input(key, cred);
        _cleanup_buf_ struct gantry_buf o = GANTRY_BUF_INIT_CAP(HELPER_OUTPUT_MAX);
        r = reg_helper_run(e.helper, "store", input, &o, err) != 0 ? -1 : 0;
        if (r < 0 && err && !*err)
            gantry_error_set(err, GANTRY_E_INTERNAL, 0, "credential helper '%s' failed to store",
                             e.helper);
        explicit_bzero(input, strlen(input));
    }
    reg_config_entry_release(&e);
    if (r < 0)
        return -1;
    if (helper_used)
        *helper_used = helper;
    /* With a helper the file keeps an empty entry, as Docker writes it. */
    struct gantry_registry_credentials none = {0};
    return edit_and_write(path, &b, key, helper ? &none : cred, NULL, err);
}

int gantry_registry_config_erase(const char *path, const char *server, bool *found,
                                 struct gantry_error **err)
{
    _cleanup_free_ char *key = gantry_registry_server_key(server, err);
    if (!key)
        return -1;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(CONFIG_MAX);
    if (read_config(path, &b, err) < 0)
        return -1;
    struct reg_config_entry e;
    if (reg_config_lookup(b.data, b.len, key, &e, err) < 0)
        return gantry_error_prefix(err, "'%s'", path);
    bool in_helper = false;
    if (e.helper) {
        _cleanup_buf_ struct gantry_buf o = GANTRY_BUF_INIT_CAP(HELPER_OUTPUT_MAX);
        int r = reg_helper_run(e.helper, "erase", key, &o, err);
        if (r < 0) {
            reg_config_entry_release(&e);
            return -1;
        }
        in_helper = r == 0;
    }
    reg_config_entry_release(&e);
    bool in_file = false;
    if (b.len && edit_and_write(path, &b, key, NULL, &in_file, err) < 0)
        return -1;
    if (found)
        *found = in_helper || in_file;
    return 0;
}
