/*
 * The small JSON documents of the registry protocol and of Docker's client
 * config: token responses, OCI error bodies, tag lists, credential helper
 * messages, config.json. These are not OCI image-spec documents, so they
 * do not go through oci/; jansson is used here and nowhere else in
 * registry/ (like image/inspect.c), keeping one seam to replace.
 */
#include <jansson.h>

#include "registry_internal.h"

static inline void cleanup_jsonp(json_t **j)
{
    json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

static json_t *load_object(const char *data, size_t len, const char *what,
                           struct gantry_error **err)
{
    json_error_t je;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid %s: %s (line %d)", what, je.text,
                         je.line);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid %s: not a JSON object", what);
        return NULL;
    }
    return root;
}

static const char *get_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static char *dup_nonempty(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

int reg_token_parse(const char *data, size_t len, struct reg_token *out, struct gantry_error **err)
{
    memset(out, 0, sizeof(*out));
    _cleanup_json_ json_t *root = load_object(data, len, "token response", err);
    if (!root)
        return -1;
    const char *tok = get_str(root, "token");
    if (!tok || !*tok)
        tok = get_str(root, "access_token");
    if (!tok || !*tok)
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "invalid token response: no 'token' or 'access_token'");
    for (const char *p = tok; *p; p++)
        if ((unsigned char)*p < 0x21 || *p == 0x7f)
            return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                    "invalid token response: token has a control character");
    json_t *exp = json_object_get(root, "expires_in");
    out->expires_in = json_is_integer(exp) && json_integer_value(exp) > 0 &&
                              json_integer_value(exp) < 365L * 86400
                          ? (long)json_integer_value(exp)
                          : 60;
    out->token = xstrdup(tok);
    return 0;
}

void reg_token_release(struct reg_token *t)
{
    if (!t)
        return;
    free(t->token);
    memset(t, 0, sizeof(*t));
}

/* Append s to b without control characters, stopping at the bound. */
static void add_clean(struct gantry_buf *b, const char *s, size_t bound)
{
    for (; *s && b->len < bound; s++) {
        char ch = (unsigned char)*s < 0x20 ? ' ' : *s;
        if (gantry_buf_add(b, &ch, 1) < 0)
            oom();
    }
}

char *reg_errors_render(const char *data, size_t len)
{
    json_t *root = json_loadb(data, len, 0, NULL);
    _cleanup_json_ json_t *guard = root;
    json_t *errors = json_is_object(root) ? json_object_get(root, "errors") : NULL;
    if (!json_is_array(errors) || json_array_size(errors) == 0)
        return NULL;
    struct gantry_buf b = GANTRY_BUF_INIT;
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        const char *code = get_str(e, "code");
        const char *msg = get_str(e, "message");
        if (!code && !msg)
            continue;
        if (b.len && gantry_buf_addstr(&b, "; ") < 0)
            oom();
        add_clean(&b, code ? code : "", 400);
        if (code && msg && gantry_buf_addstr(&b, ": ") < 0)
            oom();
        add_clean(&b, msg ? msg : "", 400);
        if (b.len >= 400)
            break;
    }
    if (!b.len)
        return NULL;
    return gantry_buf_detach(&b, NULL);
}

int reg_tags_parse(const char *data, size_t len, char ***tags, size_t *n, struct gantry_error **err)
{
    _cleanup_json_ json_t *root = load_object(data, len, "tag list", err);
    if (!root)
        return -1;
    json_t *arr = json_object_get(root, "tags");
    if (json_is_null(arr) || !arr)
        return 0;
    if (!json_is_array(arr))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid tag list: 'tags' is not an array");
    size_t i;
    json_t *t;
    json_array_foreach(arr, i, t)
    {
        if (!json_is_string(t))
            return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                    "invalid tag list: a tag is not a string");
    }
    *tags = xrealloc(*tags, (*n + json_array_size(arr) + 1) * sizeof(char *));
    json_array_foreach(arr, i, t)
    {
        (*tags)[(*n)++] = xstrdup(json_string_value(t));
    }
    (*tags)[*n] = NULL;
    return 0;
}

int reg_helper_parse(const char *data, size_t len, struct gantry_registry_credentials *out,
                     struct gantry_error **err)
{
    memset(out, 0, sizeof(*out));
    _cleanup_json_ json_t *root = load_object(data, len, "credential helper output", err);
    if (!root)
        return -1;
    const char *user = get_str(root, "Username");
    const char *secret = get_str(root, "Secret");
    if (!secret)
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "invalid credential helper output: no 'Secret'");
    if (user && strcmp(user, "<token>") == 0) {
        out->identity_token = dup_nonempty(secret);
        return 0;
    }
    out->username = dup_nonempty(user);
    out->password = dup_nonempty(secret);
    return 0;
}

char *reg_helper_store_input(const char *server_url, const struct gantry_registry_credentials *c)
{
    bool token = c->identity_token != NULL;
    _cleanup_json_ json_t *o =
        json_pack("{s:s, s:s, s:s}", "ServerURL", server_url, "Username",
                  token ? "<token>" : (c->username ? c->username : ""), "Secret",
                  token ? c->identity_token : (c->password ? c->password : ""));
    if (!o)
        oom();
    char *s = json_dumps(o, JSON_COMPACT);
    if (!s)
        oom();
    return s;
}

/* Does a config key (any form Docker accepts) name the server of key? */
static bool key_matches(const char *config_key, const char *key)
{
    _cleanup_free_ char *k = gantry_registry_server_key(config_key, NULL);
    return k && strcmp(k, key) == 0;
}

static int auth_entry(json_t *e, const char *name, struct gantry_registry_credentials *out,
                      struct gantry_error **err)
{
    if (!json_is_object(e))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "auths entry '%s' is not an object", name);
    const char *auth = get_str(e, "auth");
    if (auth && *auth) {
        size_t n;
        _cleanup_free_ char *dec = reg_base64_decode(auth, strlen(auth), &n);
        char *colon = dec ? memchr(dec, ':', n) : NULL;
        if (!colon || strlen(dec) != n)
            return gantry_error_set(
                err, GANTRY_E_PARSE, 0,
                "auths entry '%s': invalid 'auth' (want base64 of user:password)", name);
        *colon = '\0';
        out->username = dup_nonempty(dec);
        out->password = dup_nonempty(colon + 1);
        explicit_bzero(dec, n);
    } else {
        out->username = dup_nonempty(get_str(e, "username"));
        out->password = dup_nonempty(get_str(e, "password"));
    }
    out->identity_token = dup_nonempty(get_str(e, "identitytoken"));
    return 0;
}

static void lookup_helper(json_t *root, const char *key, struct reg_config_entry *out)
{
    json_t *helpers = json_object_get(root, "credHelpers");
    const char *k;
    json_t *v;
    if (json_is_object(helpers)) {
        json_object_foreach(helpers, k, v)
        {
            if (json_is_string(v) && *json_string_value(v) && key_matches(k, key)) {
                out->helper = xstrdup(json_string_value(v));
                break;
            }
        }
    }
    if (!out->helper)
        out->helper = dup_nonempty(get_str(root, "credsStore"));
    if (out->helper)
        out->helper_key = xstrdup(key);
}

int reg_config_lookup(const char *data, size_t len, const char *key, struct reg_config_entry *out,
                      struct gantry_error **err)
{
    memset(out, 0, sizeof(*out));
    if (len == 0)
        return 0;
    _cleanup_json_ json_t *root = load_object(data, len, "Docker config", err);
    if (!root)
        return -1;
    lookup_helper(root, key, out);
    json_t *auths = json_object_get(root, "auths");
    if (auths && !json_is_object(auths) && !json_is_null(auths)) {
        reg_config_entry_release(out);
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'auths' is not an object");
    }
    /* An exact key first, then any key naming the same host (Docker). */
    json_t *e = json_is_object(auths) ? json_object_get(auths, key) : NULL;
    const char *name = key;
    if (!e && json_is_object(auths)) {
        const char *k;
        json_t *v;
        json_object_foreach(auths, k, v)
        {
            if (key_matches(k, key)) {
                e = v;
                name = k;
                break;
            }
        }
    }
    if (e && auth_entry(e, name, &out->auth, err) < 0) {
        reg_config_entry_release(out);
        return -1;
    }
    return 0;
}

void reg_config_entry_release(struct reg_config_entry *e)
{
    if (!e)
        return;
    free(e->helper);
    free(e->helper_key);
    gantry_registry_credentials_release(&e->auth);
    memset(e, 0, sizeof(*e));
}

static json_t *auth_object(const struct gantry_registry_credentials *c)
{
    json_t *o = json_object();
    if (!o)
        oom();
    if (c->username || c->password) {
        _cleanup_free_ char *pair =
            xasprintf("%s:%s", c->username ? c->username : "", c->password ? c->password : "");
        char *b = reg_base64_encode(pair, strlen(pair));
        json_object_set_new(o, "auth", json_string(b));
        explicit_bzero(pair, strlen(pair));
        explicit_bzero(b, strlen(b));
        free(b);
    }
    if (c->identity_token)
        json_object_set_new(o, "identitytoken", json_string(c->identity_token));
    return o;
}

/* Remove every auths entry naming the server of key. */
static bool remove_matching(json_t *auths, const char *key)
{
    bool found = false;
    const char *k;
    void *tmp;
    json_t *v;
    json_object_foreach_safe(auths, tmp, k, v)
    {
        if (strcmp(k, key) == 0 || key_matches(k, key)) {
            json_object_del(auths, k);
            found = true;
        }
    }
    return found;
}

/* jansson indents with spaces; Docker's file uses one tab per level. */
static int dump_tabs(json_t *root, struct gantry_buf *out, struct gantry_error **err)
{
    _cleanup_free_ char *s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    if (!s)
        return gantry_error_set(err, GANTRY_E_INTERNAL, 0, "cannot serialize the Docker config");
    bool line_start = true;
    for (const char *p = s; *p; p++) {
        char ch = *p;
        if (line_start && ch == ' ')
            ch = '\t';
        else
            line_start = ch == '\n';
        if (gantry_buf_add(out, &ch, 1) < 0)
            return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "Docker config too large");
    }
    if (gantry_buf_add(out, "\n", 1) < 0)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "Docker config too large");
    return 0;
}

int reg_config_edit(const char *data, size_t len, const char *key,
                    const struct gantry_registry_credentials *cred, struct gantry_buf *out,
                    bool *found, struct gantry_error **err)
{
    _cleanup_json_ json_t *root =
        len ? load_object(data, len, "Docker config", err) : json_object();
    if (!root)
        return -1;
    json_t *auths = json_object_get(root, "auths");
    if (auths && !json_is_object(auths) && !json_is_null(auths))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'auths' is not an object");
    if (!json_is_object(auths)) {
        auths = json_object();
        json_object_set_new(root, "auths", auths);
    }
    bool had = remove_matching(auths, key);
    if (found)
        *found = had;
    if (cred)
        json_object_set_new(auths, key, auth_object(cred));
    return dump_tabs(root, out, err);
}
