/*
 * libFuzzer target for image references (docs/fuzzing.md).
 *
 * The input is a reference, given as exactly len bytes with no NUL after
 * them. On success the parsed fields obey ref.h's grammar, the full string
 * and the familiar form both parse back to the same reference, and the
 * full string is a fixed point. On failure the struct is all NULL (even
 * when it held garbage before) and the error is one line of the documented
 * shape. gantry_ref_validate_tag is checked against an oracle of the tag
 * grammar.
 */
#include <stdint.h>

#include <gantry/digest.h>
#include <gantry/ref.h>

#include "util.h"

/* A broken invariant: print it and abort, which libFuzzer reports as a crash. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_ref: invariant failed: %s (%s:%d)\n", #cond, __FILE__,           \
                    __LINE__);                                                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char garbage[] = "garbage";

static bool streq_null(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool ref_equal(const struct gantry_ref *a, const struct gantry_ref *b)
{
    return streq_null(a->domain, b->domain) && streq_null(a->path, b->path) &&
           streq_null(a->tag, b->tag) && streq_null(a->digest, b->digest);
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* tag := [A-Za-z0-9_][A-Za-z0-9._-]{0,127} */
static bool oracle_tag(const char *t, size_t n)
{
    if (n == 0 || n > GANTRY_REF_TAG_MAX || !(is_alnum(t[0]) || t[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(is_alnum(t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
            return false;
    return true;
}

/* Path characters: lower-case alphanumerics and the separators. */
static bool path_chars_ok(const char *p)
{
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("._-/", *p)))
            return false;
    return true;
}

static void check_error(struct gantry_error *err, const char *prefix)
{
    FUZZ_CHECK(err != NULL && err->message != NULL);
    FUZZ_CHECK(err->code == GANTRY_E_INVALID_ARG);
    FUZZ_CHECK(str_has_prefix(err->message, prefix));
    FUZZ_CHECK(strchr(err->message, '\n') == NULL);
    gantry_error_free(err);
}

/* Parse a NUL-terminated string that must be a valid reference. */
static void reparse(const char *s, struct gantry_ref *out)
{
    struct gantry_error *err = NULL;
    if (gantry_ref_parse(s, strlen(s), out, &err) < 0) {
        fprintf(stderr, "fuzz_ref: '%s' does not parse: %s\n", s, err->message);
        abort();
    }
}

static void check_fields(const struct gantry_ref *ref)
{
    FUZZ_CHECK(ref->domain != NULL && ref->domain[0] != '\0');
    FUZZ_CHECK(ref->path != NULL && ref->path[0] != '\0');
    FUZZ_CHECK(strlen(ref->path) <= GANTRY_REF_PATH_MAX);
    FUZZ_CHECK(path_chars_ok(ref->path));
    FUZZ_CHECK(ref->tag != NULL || ref->digest != NULL);
    if (ref->tag)
        FUZZ_CHECK(oracle_tag(ref->tag, strlen(ref->tag)));
    if (ref->digest)
        FUZZ_CHECK(gantry_digest_validate(ref->digest, strlen(ref->digest), NULL, NULL) == 0);
}

static void check_round_trips(const struct gantry_ref *ref)
{
    _cleanup_free_ char *full = gantry_ref_to_string(ref);
    _cleanup_free_ char *repo = gantry_ref_repository(ref);
    _cleanup_free_ char *fam = gantry_ref_familiar(ref);
    FUZZ_CHECK(str_has_prefix(full, repo));
    FUZZ_CHECK(strlen(repo) == strlen(ref->domain) + 1 + strlen(ref->path));

    struct gantry_ref again = GANTRY_REF_INIT;
    reparse(full, &again);
    FUZZ_CHECK(ref_equal(ref, &again));
    _cleanup_free_ char *full2 = gantry_ref_to_string(&again);
    FUZZ_CHECK(strcmp(full, full2) == 0);
    gantry_ref_release(&again);

    reparse(fam, &again);
    FUZZ_CHECK(ref_equal(ref, &again));
    gantry_ref_release(&again);

    gantry_ref_copy(&again, ref);
    FUZZ_CHECK(ref_equal(ref, &again));
    gantry_ref_release(&again);
    FUZZ_CHECK(again.domain == NULL && again.path == NULL);
}

static void check_parse(const char *s, size_t size)
{
    struct gantry_ref ref = {garbage, garbage, garbage, garbage};
    struct gantry_error *err = NULL;
    int r = gantry_ref_parse(s, size, &ref, &err);
    FUZZ_CHECK(r == 0 || r == -1);
    if (r < 0) {
        FUZZ_CHECK(ref.domain == NULL && ref.path == NULL && ref.tag == NULL && ref.digest == NULL);
        check_error(err, "invalid reference '");
        return;
    }
    FUZZ_CHECK(err == NULL);
    check_fields(&ref);
    check_round_trips(&ref);
    gantry_ref_release(&ref);
}

static void check_tag(const char *s, size_t size)
{
    struct gantry_error *err = NULL;
    int r = gantry_ref_validate_tag(s, size, &err);
    FUZZ_CHECK((r == 0) == oracle_tag(s, size));
    if (r < 0)
        check_error(err, "invalid tag '");
    else
        FUZZ_CHECK(err == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly size bytes: a read of s[size] is a heap overflow. */
    _cleanup_free_ char *s = xmalloc(size);
    if (size)
        memcpy(s, data, size);
    check_parse(s, size);
    check_tag(s, size);
    return 0;
}
