/*
 * gantry platform: parse, normalize, format and match platforms with
 * containerd's rules (see docs/platform.md).
 *
 * Basic outline of choosing a manifest for a platform:
 *
 *     struct gantry_platform want;
 *     if (gantry_platform_parse(spec, strlen(spec), &want, &err) < 0)
 *         ... "invalid platform 'X': <why>" ...
 *     int best = -1, best_rank = INT_MAX;
 *     for (size_t i = 0; i < n; i++) {          // candidates from an index
 *         int r = gantry_platform_match_rank(&want, &cand[i], false);
 *         if (r >= 0 && r < best_rank) { best = i; best_rank = r; }
 *     }
 *     gantry_platform_release(&want);
 *
 * Specifiers: "<os>", "<arch>", "<os>/<arch>" or "<os>/<arch>/<variant>".
 * The OS part may carry a version and features, "windows(10.0.17763)",
 * "linux(+gpu+simd)", with '%', '+', '(', ')' and '/' %-encoded inside the
 * parentheses. A lone component is an OS when it is a known OS (the
 * architecture is then the host's) and an architecture otherwise (the OS
 * is then the host's).
 *
 * Normalization (case-insensitive input, lower-case output):
 *   x86_64, x86-64, amd64 -> amd64 (variant v1 dropped)
 *   i386, 386             -> 386 (no variant)
 *   aarch64, arm64        -> arm64 (8, v8, v8.0 dropped; 9, 9.0, v9.0 -> v9)
 *   armhf -> arm/v7, armel -> arm/v6, arm -> arm/v7 unless 5, 6, 8 given
 *   macos -> darwin; an empty OS -> the host's OS
 *   OS features sorted and de-duplicated
 *
 * The host platform comes from uname(2), or from the environment variable
 * GANTRY_HOST_PLATFORM ("os/arch[/variant]") when it is set and not empty:
 * tests and cross-building use it.
 */
#ifndef GANTRY_PLATFORM_H
#define GANTRY_PLATFORM_H

#include <gantry/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The environment variable that overrides the host platform. */
#define GANTRY_HOST_PLATFORM_ENV "GANTRY_HOST_PLATFORM"

/*
 * An OCI platform. Every string is owned by the struct and freed by
 * gantry_platform_release(). variant and os_version are NULL when absent;
 * os_features is NULL when n_os_features is 0.
 */
struct gantry_platform {
    char *os;           /* "linux", "windows", "darwin"... */
    char *architecture; /* "amd64", "arm64", "arm"... */
    char *variant;      /* "v7", "v8.2"..., or NULL */
    char *os_version;   /* "10.0.17763.1", or NULL */
    char **os_features; /* "win32k", "gpu"... */
    size_t n_os_features;
};

#define GANTRY_PLATFORM_INIT                                                                       \
    {                                                                                              \
        NULL, NULL, NULL, NULL, NULL, 0                                                            \
    }

/*
 * Parse the specifier s[0..len) (need not be NUL-terminated) into *out,
 * normalized. The caller releases *out with gantry_platform_release().
 * On failure returns -1, *out is all NULL/0, and *err
 * (GANTRY_E_INVALID_ARG) reads "invalid platform 'S': <why>". Errors:
 * empty specifier or component, '*' (wildcards are not supported), more
 * than three components, characters outside [A-Za-z0-9_.-], a bad
 * "(version+features)" part or %-escape, a lone unknown name, and an
 * invalid GANTRY_HOST_PLATFORM when the host fills a missing part.
 */
GANTRY_API int gantry_platform_parse(const char *s, size_t len, struct gantry_platform *out,
                                     struct gantry_error **err) GANTRY_WUR;

/*
 * Normalize in place (for platforms read from image JSON): lower-case,
 * aliases, dropped and implied variants as listed above, empty strings to
 * NULL, an absent OS to the host's when there is an architecture (a platform with
 * neither stays empty), features sorted and de-duplicated.
 * Never fails.
 */
GANTRY_API void gantry_platform_normalize(struct gantry_platform *p);

/* Free the strings of p and reset it to GANTRY_PLATFORM_INIT; NULL is a no-op. */
GANTRY_API void gantry_platform_release(struct gantry_platform *p);

/* Deep copy src into dst (dst is overwritten, not released). Never fails. */
GANTRY_API void gantry_platform_copy(struct gantry_platform *dst,
                                     const struct gantry_platform *src);

/*
 * Format p as it is (no normalization): "os/arch[/variant]", or
 * "os(version+feature...)/arch[/variant]" when p has an OS version or
 * features (features sorted, %-encoded). "unknown" when p has no OS.
 * Caller frees with free().
 */
GANTRY_API char *gantry_platform_format(const struct gantry_platform *p);

/*
 * The platform gantry runs on (GANTRY_HOST_PLATFORM, else uname(2):
 * x86_64 -> amd64, aarch64 -> arm64, armv7l -> arm/v7, armv6l -> arm/v6,
 * i686 -> 386...), normalized. Caller releases *out. Fails with
 * GANTRY_E_INVALID_ARG when GANTRY_HOST_PLATFORM does not parse, and
 * GANTRY_E_IO when uname fails.
 */
GANTRY_API int gantry_platform_host(struct gantry_platform *out,
                                    struct gantry_error **err) GANTRY_WUR;

/*
 * How well candidate (e.g. an index entry) suits want (the requested or
 * host platform): -1 when it does not match, 0 for an exact match after
 * normalization, larger for worse fallbacks, so callers keep the lowest.
 * OS and os.version (compared for Windows only, with Windows' build
 * compatibility rules) must agree, and the candidate's OS features must be
 * a subset of want's. Fallbacks, in order: amd64/vN -> ... -> amd64 ->
 * 386; arm/vN -> ... -> arm/v5; arm64/v9.x -> v9.x-1 ... v9 -> v8.x+5 ...
 * v8 -> arm/v8, v7, v6, v5 (arm64/v8.x likewise from v8.x). With strict,
 * only the exact match (rank 0) counts; aliases still apply. Neither
 * argument needs to be normalized.
 */
GANTRY_API int gantry_platform_match_rank(const struct gantry_platform *want,
                                          const struct gantry_platform *candidate, bool strict);

/* True when a and b are the same platform after normalization. */
GANTRY_API bool gantry_platform_equal(const struct gantry_platform *a,
                                      const struct gantry_platform *b);

/*
 * True for "unknown/unknown" entries (BuildKit attestations): os and
 * architecture each absent, empty or "unknown" (any case). Such entries
 * parse as platforms but are not runnable; callers skip them on pull.
 */
GANTRY_API bool gantry_platform_is_unknown(const struct gantry_platform *p);

#ifdef __cplusplus
}
#endif
#endif
