/*
 * `docker import --change`: one Dockerfile instruction applied to an image
 * config. Every handler validates its whole argument before it touches the
 * config, so a failed change leaves the config as it was.
 */
#include <ctype.h>
#include <stdint.h>
#include <strings.h>

#include "image_internal.h"

/* A longer EXPOSE range is refused: it would bloat the config. */
#define EXPOSE_RANGE_MAX 4096

typedef int (*change_fn)(struct gantry_oci_config *c, const char *kw, const char *arg,
                         struct gantry_error **err);

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

/* JSON form, else shell form: ["/bin/sh", "-c", arg] (cmd /S /C on Windows). */
static int command_form(const struct gantry_oci_config *c, const char *kw, const char *arg,
                        char ***out, size_t *n, struct gantry_error **err)
{
    if (image_parse_json_strv(arg, strlen(arg), out, n))
        return 0;
    if (!*arg)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "%s needs an argument", kw);
    bool windows = c->os && strcasecmp(c->os, "windows") == 0;
    char **v = NULL;
    size_t count = 0;
    image_strv_push(&v, &count, xstrdup(windows ? "cmd" : "/bin/sh"));
    image_strv_push(&v, &count, xstrdup(windows ? "/S" : "-c"));
    image_strv_push(&v, &count, xstrdup(arg));
    *out = v;
    *n = count;
    return 0;
}

static int change_cmd(struct gantry_oci_config *c, const char *kw, const char *arg,
                      struct gantry_error **err)
{
    char **v = NULL;
    size_t n = 0;
    if (command_form(c, kw, arg, &v, &n, err) < 0)
        return -1;
    if (strcasecmp(kw, "CMD") == 0)
        replace_strv(&c->config.cmd, &c->config.n_cmd, v, n);
    else
        replace_strv(&c->config.entrypoint, &c->config.n_entrypoint, v, n);
    return 0;
}

/* name=value pairs, or the legacy "name value..." form; keys and values unquoted. */
struct pairs {
    char **keys;
    char **values;
    size_t n_keys, n_values;
};

static void pairs_release(struct pairs *p)
{
    image_strv_free(p->keys);
    image_strv_free(p->values);
}

static int add_pair(struct pairs *p, const char *k, size_t klen, const char *v,
                    struct gantry_error **err)
{
    char *key = NULL, *value = NULL;
    if (image_unquote(k, klen, &key, err) < 0)
        return -1;
    if (!*key) {
        free(key);
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "empty name");
    }
    if (image_unquote(v, strlen(v), &value, err) < 0) {
        free(key);
        return -1;
    }
    image_strv_push(&p->keys, &p->n_keys, key);
    image_strv_push(&p->values, &p->n_values, value);
    return 0;
}

static int legacy_pair(const char *kw, const char *arg, struct pairs *p, struct gantry_error **err)
{
    size_t klen = strcspn(arg, " \t\r\n");
    const char *v = arg + klen;
    v += strspn(v, " \t\r\n");
    if (!*v)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "%s '%.*s' has no value", kw,
                                (int)klen, arg);
    return add_pair(p, arg, klen, v, err);
}

static int parse_pairs(const char *kw, const char *arg, struct pairs *p, struct gantry_error **err)
{
    _cleanup_strv_ char **words = NULL;
    size_t n = 0;
    if (image_split_words(arg, &words, &n, err) < 0)
        return -1;
    if (n == 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "%s needs an argument", kw);
    if (!strchr(words[0], '='))
        return legacy_pair(kw, arg, p, err);
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(words[i], '=');
        if (!eq)
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "'%s' is not of the form name=value", words[i]);
        if (add_pair(p, words[i], (size_t)(eq - words[i]), eq + 1, err) < 0)
            return -1;
    }
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

static int change_pairs(struct gantry_oci_config *c, const char *kw, const char *arg,
                        struct gantry_error **err)
{
    struct pairs p = {0};
    if (parse_pairs(kw, arg, &p, err) < 0) {
        pairs_release(&p);
        return -1;
    }
    bool env = strcasecmp(kw, "ENV") == 0;
    for (size_t i = 0; i < p.n_keys; i++) {
        if (env)
            env_set(&c->config, p.keys[i], p.values[i]);
        else
            label_set(&c->config, p.keys[i], p.values[i]);
    }
    pairs_release(&p);
    return 0;
}

/* Unquoted words of arg; an error when there are none. */
static int unquoted_words(const char *kw, const char *arg, char ***out, size_t *n,
                          struct gantry_error **err)
{
    _cleanup_strv_ char **words = NULL;
    size_t count = 0;
    if (image_split_words(arg, &words, &count, err) < 0)
        return -1;
    if (count == 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "%s needs an argument", kw);
    for (size_t i = 0; i < count; i++) {
        char *u = NULL;
        if (image_unquote(words[i], strlen(words[i]), &u, err) < 0)
            return -1;
        replace_str(&words[i], u);
    }
    *out = steal_pointer(&words);
    *n = count;
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

static int change_expose(struct gantry_oci_config *c, const char *kw, const char *arg,
                         struct gantry_error **err)
{
    _cleanup_strv_ char **words = NULL;
    size_t n = 0;
    if (unquoted_words(kw, arg, &words, &n, err) < 0)
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

static int change_volume(struct gantry_oci_config *c, const char *kw, const char *arg,
                         struct gantry_error **err)
{
    _cleanup_strv_ char **v = NULL;
    size_t n = 0;
    if (!image_parse_json_strv(arg, strlen(arg), &v, &n) &&
        unquoted_words(kw, arg, &v, &n, err) < 0)
        return -1;
    if (n == 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "VOLUME needs an argument");
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

/* The single unquoted word of arg (USER, STOPSIGNAL). */
static int one_word(const char *kw, const char *arg, char **out, struct gantry_error **err)
{
    _cleanup_strv_ char **words = NULL;
    size_t n = 0;
    if (unquoted_words(kw, arg, &words, &n, err) < 0)
        return -1;
    if (n != 1 || !*words[0])
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "%s takes exactly one argument", kw);
    *out = steal_pointer(&words[0]);
    return 0;
}

static int change_user(struct gantry_oci_config *c, const char *kw, const char *arg,
                       struct gantry_error **err)
{
    char *user = NULL;
    if (one_word(kw, arg, &user, err) < 0)
        return -1;
    replace_str(&c->config.user, user);
    return 0;
}

static int change_workdir(struct gantry_oci_config *c, const char *kw, const char *arg,
                          struct gantry_error **err)
{
    _cleanup_free_ char *dir = NULL;
    if (image_unquote(arg, strlen(arg), &dir, err) < 0)
        return -1;
    if (!*dir)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "%s needs an argument", kw);
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

static int change_stopsignal(struct gantry_oci_config *c, const char *kw, const char *arg,
                             struct gantry_error **err)
{
    char *sig = NULL;
    if (one_word(kw, arg, &sig, err) < 0)
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

static int dispatch(struct gantry_oci_config *c, const char *line, struct gantry_error **err)
{
    const char *p = line + strspn(line, " \t\r\n");
    size_t kwlen = strcspn(p, " \t\r\n");
    _cleanup_free_ char *kw = xstrndup(p, kwlen);
    const char *arg = p + kwlen;
    arg += strspn(arg, " \t\r\n");
    if (!*kw)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "empty instruction");
    for (size_t i = 0; i < ARRAY_SIZE(changes); i++)
        if (strcasecmp(kw, changes[i].name) == 0)
            return changes[i].fn(c, changes[i].name, arg, err);
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
        if (strcasecmp(kw, refused[i]) == 0)
            return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0, "%s is not supported by import",
                                    refused[i]);
    return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "unknown instruction '%s'", kw);
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
    if (dispatch(c, line, err) < 0)
        return gantry_error_prefix(err, "invalid change '%s'", line);
    return 0;
}
