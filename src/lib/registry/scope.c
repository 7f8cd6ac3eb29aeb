/*
 * Token scopes (distribution token-scope docs): "type:name:actions" items
 * separated by spaces, actions separated by commas. The name may itself
 * hold a ':' (a registry with a port in some tools), so the type is up to
 * the first ':' and the actions after the last one.
 */
#include "registry_internal.h"

struct item {
    const char *type;
    size_t type_len;
    const char *name;
    size_t name_len;
    const char *actions;
    size_t actions_len;
};

/* Split one item; false when it has no two colons. */
static bool split_item(const char *s, size_t len, struct item *it)
{
    const char *c1 = memchr(s, ':', len);
    if (!c1)
        return false;
    const char *c2 = NULL;
    for (const char *p = s + len; p > c1 + 1; p--)
        if (p[-1] == ':') {
            c2 = p - 1;
            break;
        }
    if (!c2)
        return false;
    it->type = s;
    it->type_len = (size_t)(c1 - s);
    it->name = c1 + 1;
    it->name_len = (size_t)(c2 - c1 - 1);
    it->actions = c2 + 1;
    it->actions_len = (size_t)(s + len - c2 - 1);
    return true;
}

static bool has_action(const struct item *it, const char *a, size_t alen)
{
    const char *p = it->actions, *end = it->actions + it->actions_len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        size_t n = (size_t)(stop - p);
        if ((n == alen && memcmp(p, a, n) == 0) || (n == 1 && *p == '*'))
            return true;
        p = stop + (comma ? 1 : 0);
    }
    return false;
}

static bool actions_cover(const struct item *have, const struct item *want)
{
    const char *p = want->actions, *end = want->actions + want->actions_len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (stop > p && !has_action(have, p, (size_t)(stop - p)))
            return false;
        p = stop + (comma ? 1 : 0);
    }
    return true;
}

static bool same_resource(const struct item *a, const struct item *b)
{
    return a->type_len == b->type_len && memcmp(a->type, b->type, a->type_len) == 0 &&
           a->name_len == b->name_len && memcmp(a->name, b->name, a->name_len) == 0;
}

/* Is the single item want[0..len) granted by some item of have? */
static bool item_covered(const char *have, const char *want, size_t len)
{
    struct item w;
    if (!split_item(want, len, &w))
        return false;
    const char *p = have;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        struct item h;
        if (n && split_item(p, n, &h) && same_resource(&h, &w) && actions_cover(&h, &w))
            return true;
        p += n;
    }
    return false;
}

bool reg_scope_covers(const char *have, const char *want)
{
    if (!want || !*want)
        return true;
    if (!have)
        return false;
    const char *p = want;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n && !item_covered(have, p, n))
            return false;
        p += n;
    }
    return true;
}

char *reg_scope_repo(const char *path, const char *actions)
{
    return xasprintf("repository:%s:%s", path, actions);
}

char *reg_scope_merge(const char *want, const char *extra)
{
    struct gantry_buf b = GANTRY_BUF_INIT;
    if (want && gantry_buf_addstr(&b, want) < 0)
        oom();
    const char *p = extra ? extra : "";
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n && !(b.len && item_covered(b.data, p, n))) {
            if ((b.len && gantry_buf_add(&b, " ", 1) < 0) || gantry_buf_add(&b, p, n) < 0)
                oom();
        }
        p += n;
    }
    return gantry_buf_detach(&b, NULL);
}
