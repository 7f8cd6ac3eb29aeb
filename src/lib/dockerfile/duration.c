/* Go's time.ParseDuration, for HEALTHCHECK --interval and friends. */
#include "dockerfile_internal.h"

static const struct {
    const char *name;
    uint64_t ns;
} units[] = {
    {"ns", 1ull},           {"us", 1000ull},      {"\xC2\xB5s", 1000ull}, /* U+00B5 micro sign */
    {"\xCE\xBCs", 1000ull},                                               /* U+03BC Greek mu */
    {"ms", 1000000ull},     {"s", 1000000000ull}, {"m", 60000000000ull},  {"h", 3600000000000ull},
};

#define MAX63 (1ull << 63)

/* Leading digits as an integer; false on overflow past 1<<63. */
static bool leading_int(const char **s, const char *end, uint64_t *x)
{
    *x = 0;
    for (; *s < end && **s >= '0' && **s <= '9'; (*s)++) {
        if (*x > MAX63 / 10)
            return false;
        *x = *x * 10 + (uint64_t)(**s - '0');
        if (*x > MAX63)
            return false;
    }
    return true;
}

/* Digits after the '.', as a value and a scale (digits past what fits
 * are ignored, as Go does). */
static void leading_fraction(const char **s, const char *end, uint64_t *x, double *scale)
{
    bool overflow = false;
    *x = 0;
    *scale = 1;
    for (; *s < end && **s >= '0' && **s <= '9'; (*s)++) {
        if (overflow)
            continue;
        if (*x > (MAX63 - 1) / 10) {
            overflow = true;
            continue;
        }
        uint64_t y = *x * 10 + (uint64_t)(**s - '0');
        if (y > MAX63) {
            overflow = true;
            continue;
        }
        *x = y;
        *scale *= 10;
    }
}

static bool unit_of(const char *u, size_t n, uint64_t *ns)
{
    for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0) {
            *ns = units[i].ns;
            return true;
        }
    }
    return false;
}

/* One "<number><unit>" component; adds its nanoseconds to *d. */
static bool component(const char **s, const char *end, uint64_t *d)
{
    if (!(**s == '.' || (**s >= '0' && **s <= '9')))
        return false;
    const char *p0 = *s;
    uint64_t v, f = 0, unit;
    double scale = 1;
    if (!leading_int(s, end, &v))
        return false;
    bool pre = *s != p0, post = false;
    if (*s < end && **s == '.') {
        (*s)++;
        const char *p1 = *s;
        leading_fraction(s, end, &f, &scale);
        post = *s != p1;
    }
    if (!pre && !post)
        return false;
    const char *u = *s;
    while (*s < end && **s != '.' && !(**s >= '0' && **s <= '9'))
        (*s)++;
    if (*s == u || !unit_of(u, (size_t)(*s - u), &unit))
        return false;
    if (v > MAX63 / unit)
        return false;
    v *= unit;
    if (f > 0) {
        v += (uint64_t)((double)f * ((double)unit / scale));
        if (v > MAX63)
            return false;
    }
    *d += v;
    return *d <= MAX63;
}

int gantry_dockerfile_duration_parse(const char *s, size_t len, int64_t *ns,
                                     struct gantry_error **err)
{
    const char *p = s, *end = s + len;
    bool neg = false;
    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    if (end - p == 1 && *p == '0') {
        *ns = 0;
        return 0;
    }
    uint64_t d = 0;
    bool ok = p < end;
    while (ok && p < end)
        ok = component(&p, end, &d);
    if (ok && !neg && d > MAX63 - 1)
        ok = false;
    if (!ok) {
        _cleanup_free_ char *q = df_quote(s, len);
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid duration '%s'", q);
    }
    *ns = neg ? (int64_t)(0 - d) : (int64_t)d;
    return 0;
}
