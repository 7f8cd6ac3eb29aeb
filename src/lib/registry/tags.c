/*
 * Tag listing with pagination: n= asks for a page size, and each page's
 * Link header (rel="next") names the next one, relative or absolute; it
 * must stay on the registry's own origin.
 */
#include "registry_internal.h"

void gantry_registry_tags_free(char **tags, size_t n)
{
    if (!tags)
        return;
    for (size_t i = 0; i < n; i++)
        free(tags[i]);
    free(tags);
}

/* The next page's URL from Link, or NULL at the end. */
static int next_page(const struct reg_host *h, const struct reg_response *resp, char **next,
                     struct gantry_error **err)
{
    *next = NULL;
    _cleanup_free_ char *target = NULL;
    int r = reg_link_next(resp->link.data, resp->link.len, &target, err);
    if (r <= 0)
        return r;
    if (reg_url_resolve(resp->url, target, next, err) < 0)
        return -1;
    _cleanup_free_ char *o = reg_url_origin(*next);
    if (!o || !h->origin || strcmp(o, h->origin) != 0) {
        gantry_error_set(err, GANTRY_E_DENIED, 0, "refusing a next page on another host '%.*s'",
                         (int)strcspn(*next, "?"), *next);
        free(*next);
        *next = NULL;
        return -1;
    }
    return 0;
}

static int fetch_pages(struct gantry_registry_client *c, struct reg_host *h,
                       const struct gantry_ref *ref, size_t page_size, char ***tags, size_t *n,
                       struct gantry_error **err)
{
    _cleanup_free_ char *base = reg_v2_path(ref, "tags/list");
    _cleanup_free_ char *first = NULL;
    if (page_size) {
        char num[32];
        snprintf(num, sizeof(num), "%zu", page_size);
        first = reg_url_add_query(base, "n", num);
    }
    _cleanup_free_ char *scope = reg_scope_repo(ref->path, "pull");
    _cleanup_free_ char *url = NULL;
    for (size_t page = 0; page < REG_TAG_PAGES_MAX; page++) {
        struct reg_request req = {
            .method = "GET",
            .path = first ? first : base,
            .url = url,
            .scope = scope,
            .follow_redirects = true,
            .body_cap = GANTRY_MANIFEST_MAX,
        };
        struct reg_response resp;
        reg_response_init(&resp);
        int r = reg_request_do(c, h, &req, true, &resp, err);
        if (r == 0 && resp.status != 200)
            r = reg_http_error(&resp, NULL, err);
        if (r == 0)
            r = reg_tags_parse(resp.body.data, resp.body.len, tags, n, err);
        free(url);
        url = NULL;
        if (r == 0)
            r = next_page(h, &resp, &url, err);
        reg_response_release(&resp);
        if (r < 0 || !url)
            return r;
    }
    return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "more than %d pages of tags",
                            REG_TAG_PAGES_MAX);
}

int gantry_registry_list_tags(struct gantry_registry_client *c, const struct gantry_ref *ref,
                              size_t page_size, char ***tags, size_t *n, struct gantry_error **err)
{
    _cleanup_free_ char *repo = gantry_ref_repository(ref);
    *tags = xcalloc(1, sizeof(char *));
    *n = 0;
    struct reg_host *h = reg_host_get(c, ref->domain, err);
    if (h && fetch_pages(c, h, ref, page_size, tags, n, err) == 0)
        return 0;
    gantry_registry_tags_free(*tags, *n);
    *tags = NULL;
    *n = 0;
    return gantry_error_prefix(err, "list tags of '%s'", repo);
}
