/*
 * libFuzzer target for platform specifiers (docs/fuzzing.md).
 *
 * The input is a specifier, given as exactly len bytes with no NUL after
 * them. On failure the struct is empty (all NULL/0, even when it held
 * garbage before) and the error is one line of the documented shape. On
 * success the result is normalized (lower-case os/arch/variant, features
 * sorted and unique), format -> parse -> format is stable, the re-parsed
 * platform is equal to the first and both match each other exactly.
 *
 * The same bytes, split at '/', also fill a platform as image JSON would
 * (os/arch/variant/os.version/features...): normalizing it twice gives the
 * same result as once.
 *
 * The host platform is pinned (GANTRY_HOST_PLATFORM) so runs reproduce.
 */
#include <stdint.h>

#include <gantry/platform.h>

#include "util.h"

/* A broken invariant: print it and abort, which libFuzzer reports as a crash. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_platform: invariant failed: %s (%s:%d)\n", #cond, __FILE__,      \
                    __LINE__);                                                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char garbage[] = "garbage";
static char *garbage_list[] = {garbage};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv(GANTRY_HOST_PLATFORM_ENV, "linux/amd64", 1);
    return 0;
}

static bool no_upper(const char *s)
{
    for (; s && *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            return false;
    return true;
}

static void check_normalized(const struct gantry_platform *p)
{
    FUZZ_CHECK(p->os != NULL && p->os[0] != '\0');
    FUZZ_CHECK(p->architecture != NULL && p->architecture[0] != '\0');
    FUZZ_CHECK(p->variant == NULL || p->variant[0] != '\0');
    FUZZ_CHECK(p->os_version == NULL || p->os_version[0] != '\0');
    FUZZ_CHECK(no_upper(p->os) && no_upper(p->architecture) && no_upper(p->variant));
    FUZZ_CHECK((p->os_features == NULL) == (p->n_os_features == 0));
    for (size_t i = 1; i < p->n_os_features; i++)
        FUZZ_CHECK(strcmp(p->os_features[i - 1], p->os_features[i]) < 0);
}

static void check_round_trip(const struct gantry_platform *p)
{
    _cleanup_free_ char *f1 = gantry_platform_format(p);
    struct gantry_platform again = GANTRY_PLATFORM_INIT;
    struct gantry_error *err = NULL;
    if (gantry_platform_parse(f1, strlen(f1), &again, &err) < 0) {
        fprintf(stderr, "fuzz_platform: formatted '%s' does not parse: %s\n", f1, err->message);
        abort();
    }
    _cleanup_free_ char *f2 = gantry_platform_format(&again);
    if (strcmp(f1, f2) != 0) {
        fprintf(stderr, "fuzz_platform: format is not stable: '%s' -> '%s'\n", f1, f2);
        abort();
    }
    FUZZ_CHECK(gantry_platform_equal(p, &again));
    FUZZ_CHECK(gantry_platform_match_rank(p, &again, true) == 0);
    FUZZ_CHECK(gantry_platform_match_rank(&again, p, false) == 0);
    gantry_platform_release(&again);
}

static void check_parse(const char *s, size_t size)
{
    struct gantry_platform p = {garbage, garbage, garbage, garbage, garbage_list, 1};
    struct gantry_error *err = NULL;
    int r = gantry_platform_parse(s, size, &p, &err);
    FUZZ_CHECK(r == 0 || r == -1);
    if (r < 0) {
        FUZZ_CHECK(p.os == NULL && p.architecture == NULL && p.variant == NULL &&
                   p.os_version == NULL && p.os_features == NULL && p.n_os_features == 0);
        FUZZ_CHECK(err != NULL && err->message != NULL);
        FUZZ_CHECK(err->code == GANTRY_E_INVALID_ARG);
        FUZZ_CHECK(str_has_prefix(err->message, "invalid platform '"));
        FUZZ_CHECK(strchr(err->message, '\n') == NULL);
        gantry_error_free(err);
        return;
    }
    FUZZ_CHECK(err == NULL);
    check_normalized(&p);
    check_round_trip(&p);
    gantry_platform_release(&p);
}

/* Store field k of the input (fields: os/arch/variant/os.version/features...). */
static void set_field(struct gantry_platform *p, size_t k, char *f)
{
    char **slots[] = {&p->os, &p->architecture, &p->variant, &p->os_version};
    if (k < ARRAY_SIZE(slots)) {
        *slots[k] = f;
        return;
    }
    p->os_features = xrealloc(p->os_features, (p->n_os_features + 1) * sizeof(char *));
    p->os_features[p->n_os_features++] = f;
}

static void check_normalize(const char *s, size_t size)
{
    /* NUL bytes end a field early, as they would in a C string. */
    struct gantry_platform p = GANTRY_PLATFORM_INIT;
    for (size_t i = 0, start = 0, k = 0; i <= size; i++) {
        if (i < size && s[i] != '/')
            continue;
        set_field(&p, k++, xstrndup(s + start, i - start));
        start = i + 1;
    }
    gantry_platform_normalize(&p);
    _cleanup_free_ char *once = gantry_platform_format(&p);
    struct gantry_platform q = GANTRY_PLATFORM_INIT;
    gantry_platform_copy(&q, &p);
    gantry_platform_normalize(&q);
    _cleanup_free_ char *twice = gantry_platform_format(&q);
    if (strcmp(once, twice) != 0) {
        fprintf(stderr, "fuzz_platform: normalize is not idempotent: '%s' -> '%s'\n", once, twice);
        abort();
    }
    FUZZ_CHECK(gantry_platform_equal(&p, &q));
    FUZZ_CHECK(no_upper(p.os) && no_upper(p.architecture) && no_upper(p.variant));
    for (size_t i = 1; i < p.n_os_features; i++)
        FUZZ_CHECK(strcmp(p.os_features[i - 1], p.os_features[i]) < 0);
    gantry_platform_release(&q);
    gantry_platform_release(&p);
    FUZZ_CHECK(p.os == NULL && p.n_os_features == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly size bytes: a read of s[size] is a heap overflow. */
    _cleanup_free_ char *s = xmalloc(size);
    if (size)
        memcpy(s, data, size);
    check_parse(s, size);
    check_normalize(s, size);
    return 0;
}
