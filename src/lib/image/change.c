/*
 * `docker import --change`: one Dockerfile instruction, parsed by the
 * dockerfile module, applied to an image config. Every handler validates
 * its whole argument before it touches the config, so a failed change
 * leaves the config as it was.
 */
#include <ctype.h>
#include <stdint.h>
#include <strings.h>

#include <gantry/dockerfile.h>

#include "image_internal.h"

/* A longer EXPOSE range is refused: it would bloat the config. */
#define EXPOSE_RANGE_MAX 4096

typedef int (*change_fn)(struct gantry_oci_config *c,
                         const struct gantry_dockerfile_instruction *in, struct gantry_error **err);

static void replace_str(char **slot, char *value)
{
    free(*slot);
    *slot = value;
}

static void replace_strv(char ***slot, size_t *n, char **v, size_t count)
{
    image_strv_free(*slot);
    *slot = v;
    *n = count;
}

static const char *kind_name(const struct gantry_dockerfile_instruction *in)
{
    return gantry_dockerfile_kind_name(in->kind);
}

/* No variable is set: "$V" stays as written, quotes and escapes go. */
static const struct gantry_dockerfile_expand_opts unquote_opts = {.skip_unset = true};

/* A word with its Dockerfile quoting removed; no variable expansion. */
static int unquote(const char *word, char **out, struct gantry_error **err)
{
    return gantry_dockerfile_expand(word, strlen(word), &unquote_opts, out, err);
}

/* The unquoted words of arg, split as BuildKit's ProcessWords. */
static int unquoted_words(const char *arg, char ***out, size_t *n, struct gantry_error **err)
{
    char **words = NULL;
    size_t count = 0;
    if (gantry_dockerfile_expand_words(arg, strlen(arg), &unquote_opts, &words, &count, err) < 0)
        return -1;
    _cleanup_strv_ char **v = xcalloc(1, sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < count; i++)
        image_strv_push(&v, &k, steal_pointer(&words[i]));
    free(words);
    *out = steal_pointer(&v);
    *n = k;
    return 0;
}

/* A NULL-terminated copy of the instruction's arguments, each unquoted when asked. */
static int args_copy(const struct gantry_dockerfile_instruction *in, bool unquoted, char ***out,
                     size_t *n, struct gantry_error **err)
{
    _cleanup_strv_ char **v = xcalloc(1, sizeof(*v));
    size_t count = 0;
    for (size_t i = 0; i < in->n_args; i++) {
        char *a = NULL;
        if (!unquoted)
            a = xstrdup(in->args[i]);
        else if (unquote(in->args[i], &a, err) < 0)
            return -1;
        image_strv_push(&v, &count, a);
    }
    *out = steal_pointer(&v);
    *n = count;
    return 0;
}

/* JSON form as is, else shell form: ["/bin/sh", "-c", arg] (cmd /S on Windows). */
static int change_cmd(struct gantry_oci_config *c, const struct gantry_dockerfile_instruction *in,
                      struct gantry_error **err)
{
    if (!in->json && in->n_args == 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "%s needs an argument",
                                kind_name(in));
    char **v = NULL;
    size_t n = 0;
    if (args_copy(in, false, &v, &n, err) < 0)
        return -1;
    if (!in->json) {
        bool windows = c->os && strcasecmp(c->os, "windows") == 0;
        char *arg = steal_pointer(&v[0]);
        image_strv_free(v);
        v = NULL;
        n = 0;
        image_strv_push(&v, &n, xstrdup(windows ? "cmd" : "/bin/sh"));
        image_strv_push(&v, &n, xstrdup(windows ? "/S" : "-c"));
        image_strv_push(&v, &n, arg);
    }
    if (in->kind == GANTRY_DOCKERFILE_CMD)
        replace_strv(&c->config.cmd, &c->config.n_cmd, v, n);
    else
        replace_strv(&c->config.entrypoint, &c->config.n_entrypoint, v, n);
    return 0;
}

static void env_set(struct gantry_oci_exec_config *e, const char *k, const char *v)
{
    size_t klen = strlen(k);
    char *entry = xasprintf("%s=%s", k, v);
    for (size_t i = 0; i < e->n_env; i++) {
        if (strncmp(e->env[i], k, klen) == 0 && e->env[i][klen] == '=') {
            replace_str(&e->env[i], entry);
            return;
        }
    }
    image_strv_push(&e->env, &e->n_env, entry);
}

static void label_set(struct gantry_oci_exec_config *e, const char *k, const char *v)
{
    for (size_t i = 0; i < e->n_labels; i++) {
        if (strcmp(e->labels[i].key, k) == 0) {
            replace_str(&e->labels[i].value, xstrdup(v));
            return;
        }
    }
    e->labels = xrealloc(e->labels, (e->n_labels + 1) * sizeof(*e->labels));
    e->labels[e->n_labels++] = (struct gantry_oci_kv){xstrdup(k), xstrdup(v)};
}

/* ENV and LABEL: the parser's key/value pairs, unquoted, all before any is set. */
static int change_pairs(struct gantry_oci_config *c, const struct gantry_dockerfile_instruction *in,
                        struct gantry_error **err)
{
    _cleanup_strv_ char **keys = xcalloc(1, sizeof(*keys));
    _cleanup_strv_ char **values = xcalloc(1, sizeof(*values));
    size_t nk = 0, nv = 0;
    for (size_t i = 0; i < in->n_kvs; i++) {
        char *k = NULL, *v = NULL;
        if (unquote(in->kvs[i].key, &k, err) < 0)
            return -1;
        image_strv_push(&keys, &nk, k);
        if (unquote(in->kvs[i].value ? in->kvs[i].value : "", &v, err) < 0)
            return -1;
        image_strv_push(&values, &nv, v);
    }
    for (size_t i = 0; i < nk; i++) {
        if (in->kind == GANTRY_DOCKERFILE_ENV)
            env_set(&c->config, keys[i], values[i]);
        else
            label_set(&c->config, keys[i], values[i]);
    }
    return 0;
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static int parse_port(const char *s, const char **end, unsigned *out)
{
    if (!isdigit((unsigned char)*s))
        return -1;
    unsigned long v = 0;
    while (isdigit((unsigned char)*s) && v <= 65535)
        v = v * 10 + (unsigned long)(*s++ - '0');
    if (v > 65535)
        return -1;
    *end = s;
    *out = (unsigned)v;
    return 0;
}

/* "80", "80/tcp", "53/udp", "8000-8002/sctp" into first, last and protocol. */
static int parse_expose(const char *w, unsigned *first, unsigned *last, const char **proto,
                        struct gantry_error **err)
{
    const char *p = w;
    if (parse_port(p, &p, first) < 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid port '%s'", w);
    *last = *first;
    if (*p == '-' && (parse_port(p + 1, &p, last) < 0 || *last < *first))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid port range '%s'", w);
    if (*last - *first >= EXPOSE_RANGE_MAX)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "port range '%s' is too large (at most %d ports)", w,
                                EXPOSE_RANGE_MAX);
    *proto = "tcp";
    if (*p == '/') {
        static const char *const protos[] = {"tcp", "udp", "sctp"};
        *proto = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(protos); i++)
            if (strcasecmp(p + 1, protos[i]) == 0)
                *proto = protos[i];
        p = *proto ? p + strlen(p) : p;
    }
    if (*p)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid port '%s'", w);
    return 0;
}

static int change_expose(struct gantry_oci_config *c,
                         const struct gantry_dockerfile_instruction *in, struct gantry_error **err)
{
    _cleanup_strv_ char **words = NULL;
    size_t n = 0;
    if (args_copy(in, true, &words, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned first, last;
        const char *proto;
        if (parse_expose(words[i], &first, &last, &proto, err) < 0)
            return -1;
    }
    struct gantry_oci_exec_config *e = &c->config;
    for (size_t i = 0; i < n; i++) {
        unsigned first = 0, last = 0;
        const char *proto = "tcp";
        if (parse_expose(words[i], &first, &last, &proto, NULL) < 0)
            return -1; /* cannot happen: checked above */
        for (unsigned port = first; port <= last; port++) {
            _cleanup_free_ char *key = xasprintf("%u/%s", port, proto);
            if (!strv_has(e->exposed_ports, e->n_exposed_ports, key))
                image_strv_push(&e->exposed_ports, &e->n_exposed_ports, steal_pointer(&key));
        }
    }
    return 0;
}

/* JSON form as is, shell-form words unquoted. */
static int change_volume(struct gantry_oci_config *c,
                         const struct gantry_dockerfile_instruction *in, struct gantry_error **err)
{
    _cleanup_strv_ char **v = NULL;
    size_t n = 0;
    if (args_copy(in, !in->json, &v, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!*v[i])
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "VOLUME specified can not be an empty string");
    struct gantry_oci_exec_config *e = &c->config;
    for (size_t i = 0; i < n; i++)
        if (!strv_has(e->volumes, e->n_volumes, v[i]))
            image_strv_push(&e->volumes, &e->n_volumes, xstrdup(v[i]));
    return 0;
}

/*
 * The single unquoted word of USER and STOPSIGNAL. The parser takes the
 * rest of the line as one argument; import wants exactly one word.
 */
static int one_word(const struct gantry_dockerfile_instruction *in, char **out,
                    struct gantry_error **err)
{
    _cleanup_strv_ char **words = NULL;
    size_t n = 0;
    if (unquoted_words(in->args[0], &words, &n, err) < 0)
        return -1;
    if (n != 1 || !*words[0])
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "%s takes exactly one argument",
                                kind_name(in));
    *out = steal_pointer(&words[0]);
    return 0;
}

static int change_user(struct gantry_oci_config *c, const struct gantry_dockerfile_instruction *in,
                       struct gantry_error **err)
{
    char *user = NULL;
    if (one_word(in, &user, err) < 0)
        return -1;
    replace_str(&c->config.user, user);
    return 0;
}

static int change_workdir(struct gantry_oci_config *c,
                          const struct gantry_dockerfile_instruction *in, struct gantry_error **err)
{
    _cleanup_free_ char *dir = NULL;
    if (unquote(in->args[0], &dir, err) < 0)
        return -1;
    if (!*dir)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "WORKDIR needs an argument");
    const char *base = c->config.working_dir ? c->config.working_dir : "/";
    _cleanup_free_ char *joined = dir[0] == '/' ? xstrdup(dir) : xasprintf("%s/%s", base, dir);
    replace_str(&c->config.working_dir, image_path_clean(joined));
    return 0;
}

/* A signal number (1-64) or a name with or without SIG: "SIGTERM", "RTMIN+3". */
static bool valid_signal(const char *s)
{
    static const char *const names[] = {
        "HUP",  "INT",   "QUIT", "ILL",  "TRAP", "ABRT", "IOT",   "BUS",    "FPE",
        "KILL", "USR1",  "SEGV", "USR2", "PIPE", "ALRM", "TERM",  "STKFLT", "CHLD",
        "CONT", "STOP",  "TSTP", "TTIN", "TTOU", "URG",  "XCPU",  "XFSZ",   "VTALRM",
        "PROF", "WINCH", "IO",   "POLL", "PWR",  "SYS",  "RTMIN", "RTMAX",
    };
    char *end = NULL;
    long n = strtol(s, &end, 10);
    if (isdigit((unsigned char)*s))
        return *end == '\0' && n >= 1 && n <= 64;
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    size_t len = strcspn(s, "+-");
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (strlen(names[i]) != len || strncasecmp(s, names[i], len) != 0)
            continue;
        if (!s[len])
            return true;
        bool rt = strncasecmp(names[i], "RT", 2) == 0;
        n = strtol(s + len + 1, &end, 10);
        return rt && isdigit((unsigned char)s[len + 1]) && !*end && n >= 1 && n <= 30;
    }
    return false;
}

static int change_stopsignal(struct gantry_oci_config *c,
                             const struct gantry_dockerfile_instruction *in,
                             struct gantry_error **err)
{
    char *sig = NULL;
    if (one_word(in, &sig, err) < 0)
        return -1;
    if (!valid_signal(sig)) {
        gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid signal '%s'", sig);
        free(sig);
        return -1;
    }
    replace_str(&c->config.stop_signal, sig);
    return 0;
}

static const struct {
    const char *name;
    change_fn fn;
} changes[] = {
    {"CMD", change_cmd},       {"ENTRYPOINT", change_cmd}, {"ENV", change_pairs},
    {"EXPOSE", change_expose}, {"LABEL", change_pairs},    {"STOPSIGNAL", change_stopsignal},
    {"USER", change_user},     {"VOLUME", change_volume},  {"WORKDIR", change_workdir},
};

/* Dockerfile instructions that make no sense without a build. */
static const char *const refused[] = {
    "ADD", "ARG", "COPY", "FROM", "HEALTHCHECK", "MAINTAINER", "ONBUILD", "RUN", "SHELL",
};

static bool is_blank(char ch)
{
    return strchr(" \t\v\f\r\n", ch) && ch;
}

/* The handler of the keyword at the start of line, or an error for the others. */
static change_fn find_change(const char *line, struct gantry_error **err)
{
    size_t kwlen = 0;
    while (line[kwlen] && !is_blank(line[kwlen]))
        kwlen++;
    _cleanup_free_ char *kw = xstrndup(line, kwlen);
    if (!*kw) {
        gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "empty instruction");
        return NULL;
    }
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
        if (strcasecmp(kw, refused[i]) == 0) {
            gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0, "%s is not supported by import",
                             refused[i]);
            return NULL;
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(changes); i++)
        if (strcasecmp(kw, changes[i].name) == 0)
            return changes[i].fn;
    gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "unknown instruction '%s'", kw);
    return NULL;
}

static void cleanup_instructionp(struct gantry_dockerfile_instruction **in)
{
    gantry_dockerfile_instruction_free(*in);
}
#define _cleanup_instruction_ __attribute__((cleanup(cleanup_instructionp)))

static int dispatch(struct gantry_oci_config *c, const char *line, struct gantry_error **err)
{
    change_fn fn = find_change(line, err);
    if (!fn)
        return -1;
    _cleanup_instruction_ struct gantry_dockerfile_instruction *in = NULL;
    if (gantry_dockerfile_parse_instruction(line, strlen(line), NULL, &in, err) < 0) {
        /* The change is a command-line argument: a bad one is a bad argument. */
        if (err && *err)
            (*err)->code = GANTRY_E_INVALID_ARG;
        return -1;
    }
    return fn(c, in, err);
}

int gantry_image_apply_change(struct gantry_oci_config *c, const char *s, size_t len,
                              struct gantry_error **err)
{
    _cleanup_free_ char *line = xstrndup(s, len);
    if (strlen(line) != len)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "invalid change: contains a NUL byte");
    /* Trailing blanks are not part of a shell-form command. */
    size_t n = len;
    while (n > 0 && strchr(" \t\r\n", line[n - 1]))
        line[--n] = '\0';
    const char *p = line;
    while (is_blank(*p))
        p++;
    if (dispatch(c, p, err) < 0)
        return gantry_error_prefix(err, "invalid change '%s'", line);
    return 0;
}
