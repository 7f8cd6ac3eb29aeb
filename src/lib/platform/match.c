/*
 * Platform matching with containerd's fallbacks (platforms.Only and
 * OnlyStrict): the wanted platform expands into an ordered vector of
 * architectures and variants it can run; a candidate's rank is its
 * position in that vector.
 */
#include <stdbool.h>
#include <stdio.h>

#include "platform-internal.h"
#include "util.h"

/*
 * Version numbers above this get no fallbacks: it bounds the vector
 * (arm64/v9.99 expands to about 210 entries).
 */
#define VERSION_MAX 99
#define VECTOR_MAX 256

struct fallback {
    const char *arch;
    char variant[32]; /* "" for none */
};

struct vector {
    size_t n;
    struct fallback e[VECTOR_MAX];
};

/* variant "" when major is 0, "vMAJOR" when minor < 0, else "vMAJOR.MINOR" */
static void push(struct vector *v, const char *arch, int major, int minor)
{
    if (v->n == VECTOR_MAX)
        return;
    struct fallback *f = &v->e[v->n++];
    f->arch = arch;
    f->variant[0] = '\0';
    if (major > 0 && minor < 0)
        snprintf(f->variant, sizeof(f->variant), "v%d", major);
    else if (major > 0)
        snprintf(f->variant, sizeof(f->variant), "v%d.%d", major, minor);
}

static bool parse_number(const char **s, int *out)
{
    int n = 0;
    const char *p = *s;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (*p - '0');
        if (n > VERSION_MAX)
            return false;
    }
    *s = p;
    *out = n;
    return true;
}

/* "[v]MAJOR[.MINOR]"; *minor = -1 when absent. */
static bool parse_version(const char *v, int *major, int *minor)
{
    if (*v == 'v')
        v++;
    *minor = -1;
    if (!parse_number(&v, major))
        return false;
    if (*v == '.') {
        v++;
        if (!parse_number(&v, minor))
            return false;
    }
    return *v == '\0';
}

static void amd64_fallbacks(const char *variant, struct vector *v)
{
    int level = 1, minor;
    if (variant && (!parse_version(variant, &level, &minor) || minor >= 0))
        level = 0;
    for (int k = level - 1; k >= 1; k--)
        push(v, "amd64", k == 1 ? 0 : k, -1);
    push(v, "386", 0, -1);
}

static void arm_fallbacks(int from, struct vector *v)
{
    for (int k = from; k >= 5; k--)
        push(v, "arm", k, -1);
}

/* arm64/vM.m: vM.m-1 ... vM; v9.x also v8.x+5 ... v8; then arm/v8 ... v5. */
static void arm64_fallbacks(const char *variant, struct vector *v)
{
    int major, minor;
    if (!parse_version(variant ? variant : "v8", &major, &minor) || major < 8)
        return;
    if (minor < 0)
        minor = 0;
    if (major == 9) {
        for (int k = minor - 1; k >= 0; k--)
            push(v, "arm64", 9, k ? k : -1);
        /* v9.0 diverged from v8.5: v9.x runs v8.x+5 */
        minor += 5;
        major = 8;
        push(v, "arm64", 8, minor);
    }
    for (int k = minor - 1; k >= 0; k--)
        push(v, "arm64", (k == 0 && major == 8) ? 0 : major, k ? k : -1);
    arm_fallbacks(8, v);
}

/* The fallbacks after the exact match, best first. */
static void build_fallbacks(const struct gantry_platform *want, struct vector *v)
{
    int major, minor;
    v->n = 0;
    if (strcmp(want->architecture, "amd64") == 0) {
        amd64_fallbacks(want->variant, v);
    } else if (strcmp(want->architecture, "arm") == 0) {
        if (want->variant && parse_version(want->variant, &major, &minor) && minor < 0)
            arm_fallbacks(major - 1, v);
    } else if (strcmp(want->architecture, "arm64") == 0) {
        arm64_fallbacks(want->variant, v);
    }
}

static bool streq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Every feature of c is in w; both sorted and unique (normalized). */
static bool features_subset(const struct gantry_platform *c, const struct gantry_platform *w)
{
    size_t j = 0;
    for (size_t i = 0; i < c->n_os_features; i++) {
        while (j < w->n_os_features && strcmp(w->os_features[j], c->os_features[i]) < 0)
            j++;
        if (j == w->n_os_features || strcmp(w->os_features[j], c->os_features[i]) != 0)
            return false;
        j++;
    }
    return true;
}

static bool os_matches(const struct gantry_platform *w, const struct gantry_platform *c)
{
    if (!streq(w->os, c->os))
        return false;
    if (w->os && strcmp(w->os, "windows") == 0 &&
        !platform_windows_compatible(w->os_version, c->os_version))
        return false;
    return features_subset(c, w);
}

int gantry_platform_match_rank(const struct gantry_platform *want,
                               const struct gantry_platform *candidate, bool strict)
{
    _cleanup_platform_ struct gantry_platform w = GANTRY_PLATFORM_INIT;
    _cleanup_platform_ struct gantry_platform c = GANTRY_PLATFORM_INIT;
    platform_copy_normalized(&w, want);
    platform_copy_normalized(&c, candidate);
    if (!w.architecture || !c.architecture || !os_matches(&w, &c))
        return -1;
    if (streq(w.architecture, c.architecture) && streq(w.variant, c.variant))
        return 0;
    if (strict)
        return -1;
    struct vector v;
    build_fallbacks(&w, &v);
    for (size_t i = 0; i < v.n; i++)
        if (strcmp(v.e[i].arch, c.architecture) == 0 && streq(v.e[i].variant, c.variant))
            return (int)i + 1;
    return -1;
}
