/*
 * Platform specifiers: parsing, normalization and formatting, following
 * containerd's platforms package (Parse, Normalize, FormatAll).
 */
#include <stdbool.h>
#include <strings.h>

#include "platform-internal.h"
#include "util.h"

/* Longest piece of user input quoted back in a message. */
#define QUOTE_MAX 200

/* Go's known operating systems (go/build syslist.go, as containerd). */
static const char *const known_os[] = {
    "aix",   "android", "darwin", "dragonfly", "freebsd", "hurd",    "illumos", "ios", "js",
    "linux", "nacl",    "netbsd", "openbsd",   "plan9",   "solaris", "windows", "zos",
};

/* Go's known architectures. */
static const char *const known_arch[] = {
    "386",     "amd64",   "amd64p32", "arm",    "armbe",  "arm64",    "arm64be",   "ppc64",
    "ppc64le", "loong64", "mips",     "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le",
    "ppc",     "riscv",   "riscv64",  "s390",   "s390x",  "sparc",    "sparc64",   "wasm",
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static bool streq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static char *quote_input(const char *s, size_t n)
{
    size_t keep = n > QUOTE_MAX ? QUOTE_MAX : n;
    char *q = xmalloc(keep + 4);
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)s[i];
        q[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    memcpy(q + keep, n > keep ? "..." : "", n > keep ? 4 : 1);
    return q;
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* [A-Za-z0-9_-]: an OS name */
static bool is_os_char(char c)
{
    return is_alnum(c) || c == '_' || c == '-';
}

/* [A-Za-z0-9_.-]: an architecture or variant */
static bool is_component_char(char c)
{
    return is_os_char(c) || c == '.';
}

/* [A-Za-z0-9_.%-]: an OS version or feature, %-encoded */
static bool is_option_char(char c)
{
    return is_component_char(c) || c == '%';
}

static void lower_in_place(char *s)
{
    for (; s && *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* *dst = copy of val, NULL for NULL or ""; val may alias *dst. */
static void replace(char **dst, const char *val)
{
    char *n = (val && *val) ? xstrdup(val) : NULL;
    free(*dst);
    *dst = n;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Undo the %-encoding of an OS option (url.PathUnescape); %00 is refused. */
static int decode_option(const char *o, size_t n, char **res, struct gantry_error **err)
{
    _cleanup_free_ char *d = xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_option_char(o[i]))
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "invalid character in os options");
        if (o[i] != '%') {
            d[k++] = o[i];
            continue;
        }
        int hi = i + 2 < n ? hex_value(o[i + 1]) : -1;
        int lo = hi >= 0 ? hex_value(o[i + 2]) : -1;
        if (lo < 0 || (hi == 0 && lo == 0))
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "invalid %%-escape in os options");
        d[k++] = (char)(hi * 16 + lo);
        i += 2;
    }
    d[k] = '\0';
    *res = steal_pointer(&d);
    return 0;
}

static void add_feature(struct gantry_platform *p, char *f)
{
    p->os_features = xrealloc(p->os_features, (p->n_os_features + 1) * sizeof(char *));
    p->os_features[p->n_os_features++] = f;
}

/* "version(+feature)*", the inside of "os(...)". */
static int parse_os_options(const char *o, size_t n, struct gantry_platform *out,
                            struct gantry_error **err)
{
    size_t i = 0;
    while (i < n && o[i] != '+')
        i++;
    _cleanup_free_ char *version = NULL;
    if (decode_option(o, i, &version, err) < 0)
        return -1;
    replace(&out->os_version, version);
    while (i < n) {
        size_t start = ++i;
        while (i < n && o[i] != '+')
            i++;
        if (i == start)
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "empty os feature");
        char *f = NULL;
        if (decode_option(o + start, i - start, &f, err) < 0)
            return -1;
        add_feature(out, f);
    }
    return 0;
}

/* "os[(options)]": sets out->os (as written) and the options. */
static int parse_os_part(const char *p, size_t n, struct gantry_platform *out,
                         struct gantry_error **err)
{
    size_t i = 0;
    while (i < n && is_os_char(p[i]))
        i++;
    if (n == 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "empty os component");
    _cleanup_free_ char *q = quote_input(p, n);
    if (i == 0 || (i < n && (p[i] != '(' || p[n - 1] != ')' || n - i < 2)))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "invalid os component '%s': want [A-Za-z0-9_-]+ with an "
                                "optional (version+feature...)",
                                q);
    out->os = xstrndup(p, i);
    if (i < n && parse_os_options(p + i + 1, n - i - 2, out, err) < 0)
        return gantry_error_prefix(err, "invalid os component '%s'", q);
    return 0;
}

static int check_component(const char *p, size_t n, struct gantry_error **err)
{
    if (n == 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "empty component");
    for (size_t i = 0; i < n; i++) {
        if (!is_component_char(p[i])) {
            _cleanup_free_ char *q = quote_input(p, n);
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "invalid component '%s': want [A-Za-z0-9_.-]+", q);
        }
    }
    return 0;
}

struct spec_parts {
    const char *p[3];
    size_t n[3];
    size_t count;
};

static int split_parts(const char *s, size_t len, struct spec_parts *sp, struct gantry_error **err)
{
    size_t start = 0;
    sp->count = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '/')
            continue;
        if (sp->count == 3)
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "too many components: want os, arch, os/arch or "
                                    "os/arch/variant");
        sp->p[sp->count] = s + start;
        sp->n[sp->count] = i - start;
        sp->count++;
        start = i + 1;
    }
    return 0;
}

static bool is_known_os(const char *os)
{
    return in_list(os, known_os, ARRAY_SIZE(known_os));
}

/* One component: a known OS (host arch), else a known arch (host OS). */
static int fill_single(struct gantry_platform *out, const struct gantry_platform *host,
                       struct gantry_error **err)
{
    _cleanup_platform_ struct gantry_platform looked_up = GANTRY_PLATFORM_INIT;
    if (!host) {
        if (gantry_platform_host(&looked_up, err) < 0)
            return -1;
        host = &looked_up;
    }
    if (is_known_os(out->os)) {
        replace(&out->architecture, host->architecture);
        replace(&out->variant, host->variant);
        gantry_platform_normalize(out);
        return 0;
    }
    bool has_options = out->os_version || out->n_os_features;
    out->architecture = steal_pointer(&out->os);
    /* Set the OS first: normalizing an absent OS would look the host up. */
    out->os = xstrdup(host->os ? host->os : "linux");
    gantry_platform_normalize(out);
    if (has_options || !in_list(out->architecture, known_arch, ARRAY_SIZE(known_arch)))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "unknown operating system or architecture");
    return 0;
}

static int parse_spec(const char *s, size_t len, const struct gantry_platform *host,
                      struct gantry_platform *out, struct gantry_error **err)
{
    struct spec_parts sp;
    if (len == 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "empty platform specifier");
    if (memchr(s, '*', len))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "wildcards are not supported");
    if (split_parts(s, len, &sp, err) < 0)
        return -1;
    for (size_t i = 1; i < sp.count; i++)
        if (check_component(sp.p[i], sp.n[i], err) < 0)
            return -1;
    if (parse_os_part(sp.p[0], sp.n[0], out, err) < 0)
        return -1;
    lower_in_place(out->os);
    if (strcmp(out->os, "macos") == 0)
        replace(&out->os, "darwin");
    if (sp.count == 1)
        return fill_single(out, host, err);
    out->architecture = xstrndup(sp.p[1], sp.n[1]);
    if (sp.count == 3)
        out->variant = xstrndup(sp.p[2], sp.n[2]);
    gantry_platform_normalize(out);
    return 0;
}

int platform_parse_with_host(const char *s, size_t len, const struct gantry_platform *host,
                             struct gantry_platform *out, struct gantry_error **err)
{
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    *out = (struct gantry_platform)GANTRY_PLATFORM_INIT;
    if (!s)
        len = 0;
    if (parse_spec(s, len, host, &p, err) < 0) {
        _cleanup_free_ char *q = quote_input(s, len);
        return gantry_error_prefix(err, "invalid platform '%s'", q);
    }
    *out = p;
    p = (struct gantry_platform)GANTRY_PLATFORM_INIT;
    return 0;
}

int gantry_platform_parse(const char *s, size_t len, struct gantry_platform *out,
                          struct gantry_error **err)
{
    return platform_parse_with_host(s, len, NULL, out, err);
}

/* containerd's normalizeArch, plus arm64 v8.0 and v9 spellings. */
static void normalize_arch(struct gantry_platform *p)
{
    const char *a = p->architecture;
    const char *v = p->variant ? p->variant : "";
    const char *na = a, *nv = v;
    char armv[3] = {'v', v[0], '\0'};
    if (strcmp(a, "i386") == 0 || strcmp(a, "386") == 0) {
        na = "386";
        nv = "";
    } else if (!strcmp(a, "x86_64") || !strcmp(a, "x86-64") || !strcmp(a, "amd64")) {
        na = "amd64";
        nv = strcmp(v, "v1") == 0 ? "" : v;
    } else if (!strcmp(a, "aarch64") || !strcmp(a, "arm64")) {
        na = "arm64";
        if (!strcmp(v, "8") || !strcmp(v, "v8") || !strcmp(v, "v8.0"))
            nv = "";
        else if (!strcmp(v, "9") || !strcmp(v, "9.0") || !strcmp(v, "v9.0"))
            nv = "v9";
    } else if (!strcmp(a, "armhf") || !strcmp(a, "armel")) {
        nv = a[3] == 'h' ? "v7" : "v6";
        na = "arm";
    } else if (!strcmp(a, "arm")) {
        if (!strcmp(v, "") || !strcmp(v, "7"))
            nv = "v7";
        else if (!strcmp(v, "5") || !strcmp(v, "6") || !strcmp(v, "8"))
            nv = armv;
    }
    replace(&p->variant, nv);
    replace(&p->architecture, na);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort, drop duplicates and empty strings. */
static void normalize_features(struct gantry_platform *p)
{
    size_t k = 0;
    if (p->n_os_features > 1)
        qsort(p->os_features, p->n_os_features, sizeof(char *), cmp_str);
    for (size_t i = 0; i < p->n_os_features; i++) {
        char *f = p->os_features[i];
        if (!f || !*f || (k > 0 && strcmp(f, p->os_features[k - 1]) == 0))
            free(f);
        else
            p->os_features[k++] = f;
    }
    p->n_os_features = k;
    if (k == 0) {
        free(p->os_features);
        p->os_features = NULL;
    }
}

void gantry_platform_normalize(struct gantry_platform *p)
{
    lower_in_place(p->os);
    lower_in_place(p->architecture);
    lower_in_place(p->variant);
    replace(&p->os_version, p->os_version);
    if (p->architecture && *p->architecture && (!p->os || !*p->os)) {
        _cleanup_platform_ struct gantry_platform host = GANTRY_PLATFORM_INIT;
        platform_host_lenient(&host);
        replace(&p->os, host.os);
    }
    if (p->os && strcmp(p->os, "macos") == 0)
        replace(&p->os, "darwin");
    if (p->architecture)
        normalize_arch(p);
    else
        replace(&p->variant, p->variant);
    normalize_features(p);
}

void gantry_platform_release(struct gantry_platform *p)
{
    if (!p)
        return;
    free(p->os);
    free(p->architecture);
    free(p->variant);
    free(p->os_version);
    for (size_t i = 0; i < p->n_os_features; i++)
        free(p->os_features[i]);
    free(p->os_features);
    *p = (struct gantry_platform)GANTRY_PLATFORM_INIT;
}

void gantry_platform_copy(struct gantry_platform *dst, const struct gantry_platform *src)
{
    dst->os = xstrdup_or_null(src->os);
    dst->architecture = xstrdup_or_null(src->architecture);
    dst->variant = xstrdup_or_null(src->variant);
    dst->os_version = xstrdup_or_null(src->os_version);
    dst->os_features = NULL;
    dst->n_os_features = src->n_os_features;
    if (src->n_os_features) {
        dst->os_features = xcalloc(src->n_os_features, sizeof(char *));
        for (size_t i = 0; i < src->n_os_features; i++)
            dst->os_features[i] = xstrdup_or_null(src->os_features[i]);
    }
}

void platform_copy_normalized(struct gantry_platform *dst, const struct gantry_platform *src)
{
    gantry_platform_copy(dst, src);
    gantry_platform_normalize(dst);
}

/*
 * Append v to b with every byte outside [A-Za-z0-9_.-] %-encoded ('%', '+',
 * '(', ')', '/' and also spaces or control bytes a decoded option may hold),
 * so that what we format always parses back.
 */
static int add_encoded(struct gantry_buf *b, const char *v)
{
    for (; v && *v; v++) {
        int r = !is_component_char(*v) ? gantry_buf_addf(b, "%%%02X", (unsigned char)*v)
                                       : gantry_buf_add(b, v, 1);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* "os(version+f1+f2)", features sorted; plain "os" without options. */
static int add_os_part(struct gantry_buf *b, const struct gantry_platform *p)
{
    if (gantry_buf_addstr(b, p->os) < 0)
        return -1;
    if (!(p->os_version && *p->os_version) && p->n_os_features == 0)
        return 0;
    _cleanup_free_ char **sorted = xcalloc(p->n_os_features, sizeof(char *));
    for (size_t i = 0; i < p->n_os_features; i++)
        sorted[i] = p->os_features[i] ? p->os_features[i] : (char *)"";
    qsort(sorted, p->n_os_features, sizeof(char *), cmp_str);
    if (gantry_buf_addstr(b, "(") < 0 || add_encoded(b, p->os_version) < 0)
        return -1;
    for (size_t i = 0; i < p->n_os_features; i++)
        if (gantry_buf_addstr(b, "+") < 0 || add_encoded(b, sorted[i]) < 0)
            return -1;
    return gantry_buf_addstr(b, ")");
}

char *gantry_platform_format(const struct gantry_platform *p)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    if (!p->os || !*p->os)
        return xstrdup("unknown");
    /* The buffer has no cap, so appends cannot fail. */
    if (add_os_part(&b, p) < 0)
        abort();
    const char *parts[] = {p->architecture, p->variant};
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
        if (parts[i] && *parts[i] && gantry_buf_addf(&b, "/%s", parts[i]) < 0)
            abort();
    return gantry_buf_detach(&b, NULL);
}

static bool same_features(const struct gantry_platform *a, const struct gantry_platform *b)
{
    if (a->n_os_features != b->n_os_features)
        return false;
    for (size_t i = 0; i < a->n_os_features; i++)
        if (strcmp(a->os_features[i], b->os_features[i]) != 0)
            return false;
    return true;
}

bool gantry_platform_equal(const struct gantry_platform *a, const struct gantry_platform *b)
{
    _cleanup_platform_ struct gantry_platform na = GANTRY_PLATFORM_INIT;
    _cleanup_platform_ struct gantry_platform nb = GANTRY_PLATFORM_INIT;
    platform_copy_normalized(&na, a);
    platform_copy_normalized(&nb, b);
    return streq(na.os, nb.os) && streq(na.architecture, nb.architecture) &&
           streq(na.variant, nb.variant) && streq(na.os_version, nb.os_version) &&
           same_features(&na, &nb);
}

static bool absent_or_unknown(const char *s)
{
    return !s || !*s || strcasecmp(s, "unknown") == 0;
}

bool gantry_platform_is_unknown(const struct gantry_platform *p)
{
    return absent_or_unknown(p->os) && absent_or_unknown(p->architecture);
}
