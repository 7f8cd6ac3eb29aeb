/* Entry rules shared by the reader and the writer: names, whiteouts, locale. */
#include <pthread.h>

#include "layer_internal.h"
#include "util.h"

/* How much of a hostile name goes into an error message. */
#define NAME_QUOTE_MAX 256

static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_locale_init(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (!utf8_locale)
        utf8_locale = newlocale(LC_CTYPE_MASK, "C.utf8", (locale_t)0);
}

locale_t layer_locale_enter(void)
{
    pthread_once(&utf8_once, utf8_locale_init);
    if (!utf8_locale)
        return (locale_t)0;
    return uselocale(utf8_locale);
}

int layer_check_name(const char *what, const char *name, struct gantry_error **err)
{
    if (!name || !*name)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "empty %s in tar entry", what);
    size_t len = strlen(name);
    if (len > GANTRY_LAYER_PATH_MAX)
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "%s too long: %zu bytes, limit %d ('%.64s...')", what, len,
                                GANTRY_LAYER_PATH_MAX, name);
    return 0;
}

static bool is_dots(const char *s, size_t len)
{
    return len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.');
}

int gantry_layer_whiteout_classify(const char *path, size_t len, enum gantry_whiteout *kind,
                                   struct gantry_error **err)
{
    static const char prefix[] = ".wh.";
    static const char opaque[] = ".wh..wh..opq";
    size_t full = len;
    while (len > 0 && path[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && path[start - 1] != '/')
        start--;
    const char *base = path + start;
    size_t blen = len - start;
    *kind = GANTRY_WHITEOUT_NONE;
    if (blen < 4 || memcmp(base, prefix, 4) != 0)
        return 0;
    if (is_dots(base + 4, blen - 4))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid whiteout '%.*s'",
                                (int)(full > NAME_QUOTE_MAX ? NAME_QUOTE_MAX : full), path);
    if (blen == sizeof(opaque) - 1 && memcmp(base, opaque, blen) == 0)
        *kind = GANTRY_WHITEOUT_OPAQUE;
    else if (blen >= 8 && memcmp(base + 4, prefix, 4) == 0)
        *kind = GANTRY_WHITEOUT_META;
    else
        *kind = GANTRY_WHITEOUT_FILE;
    return 0;
}
