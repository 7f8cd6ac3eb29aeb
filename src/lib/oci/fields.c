/* Typed member access and tree building over jansson. */
#include "oci_internal.h"

json_t *oci_member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

int oci_get_string(json_t *obj, const char *key, bool required, char **out,
                   struct gantry_error **err)
{
    *out = NULL;
    json_t *v = oci_member(obj, key);
    if (!v)
        return required ? gantry_error_set(err, GANTRY_E_PARSE, 0, "missing '%s'", key) : 0;
    if (!json_is_string(v))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'%s' must be a string", key);
    *out = xstrdup(json_string_value(v));
    return 0;
}

int oci_get_strv(json_t *obj, const char *key, char ***out, size_t *n, struct gantry_error **err)
{
    *out = NULL;
    *n = 0;
    json_t *v = oci_member(obj, key);
    if (!v)
        return 0;
    if (!json_is_array(v))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'%s' must be an array of strings", key);
    size_t count = json_array_size(v);
    _cleanup_strv_ char **arr = xcalloc(count + 1, sizeof(*arr));
    for (size_t i = 0; i < count; i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s))
            return gantry_error_set(err, GANTRY_E_PARSE, 0, "'%s[%zu]' must be a string", key, i);
        arr[i] = xstrdup(json_string_value(s));
    }
    *out = steal_pointer(&arr);
    *n = count;
    return 0;
}

int oci_get_kv(json_t *obj, const char *key, struct gantry_oci_kv **out, size_t *n,
               struct gantry_error **err)
{
    *out = NULL;
    *n = 0;
    json_t *v = oci_member(obj, key);
    if (!v)
        return 0;
    if (!json_is_object(v))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'%s' must be an object of strings", key);
    struct gantry_oci_kv *kv = xcalloc(json_object_size(v), sizeof(*kv));
    size_t i = 0;
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val)
    {
        if (!json_is_string(val)) {
            oci_kv_free(kv, i);
            return gantry_error_set(err, GANTRY_E_PARSE, 0, "'%s' value of '%s' must be a string",
                                    key, k);
        }
        kv[i].key = xstrdup(k);
        kv[i].value = xstrdup(json_string_value(val));
        i++;
    }
    *out = kv;
    *n = i;
    return 0;
}

int oci_get_keys(json_t *obj, const char *key, char ***out, size_t *n, struct gantry_error **err)
{
    *out = NULL;
    *n = 0;
    json_t *v = oci_member(obj, key);
    if (!v)
        return 0;
    if (!json_is_object(v))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'%s' must be an object", key);
    char **arr = xcalloc(json_object_size(v) + 1, sizeof(*arr));
    size_t i = 0;
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val) arr[i++] = xstrdup(k);
    *out = arr;
    *n = i;
    return 0;
}

void oci_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

char **oci_strv_dup(char *const *v, size_t n)
{
    if (!v)
        return NULL;
    char **r = xcalloc(n + 1, sizeof(*r));
    for (size_t i = 0; i < n; i++)
        r[i] = xstrdup(v[i]);
    return r;
}

void oci_strv_push(char ***v, size_t *n, const char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof(**v));
    (*v)[(*n)++] = xstrdup(s);
    (*v)[*n] = NULL;
}

struct gantry_oci_kv *oci_kv_dup(const struct gantry_oci_kv *kv, size_t n)
{
    if (!n)
        return NULL;
    struct gantry_oci_kv *r = xcalloc(n, sizeof(*r));
    for (size_t i = 0; i < n; i++) {
        r[i].key = xstrdup(kv[i].key);
        r[i].value = xstrdup(kv[i].value);
    }
    return r;
}

void oci_kv_free(struct gantry_oci_kv *kv, size_t n)
{
    for (size_t i = 0; kv && i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

static void tree_fail(struct oci_tree *t, const char *key)
{
    if (t->failed)
        return;
    t->failed = true;
    snprintf(t->bad_key, sizeof(t->bad_key), "%s", key);
}

json_t *oci_str(struct oci_tree *t, const char *key, const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    tree_fail(t, key); /* not valid UTF-8 */
    return json_null();
}

void oci_set(struct oci_tree *t, json_t *obj, const char *key, json_t *value)
{
    if (json_object_set_new(obj, key, value) < 0)
        tree_fail(t, key);
}

void oci_set_string(struct oci_tree *t, json_t *obj, const char *key, const char *v)
{
    if (!v) {
        json_object_del(obj, key);
        return;
    }
    oci_set(t, obj, key, oci_str(t, key, v));
}

void oci_set_strv(struct oci_tree *t, json_t *obj, const char *key, char *const *v, size_t n)
{
    if (!v) {
        json_object_del(obj, key);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, oci_str(t, key, v[i]));
    oci_set(t, obj, key, arr);
}

void oci_set_keys(struct oci_tree *t, json_t *obj, const char *key, char *const *v, size_t n)
{
    if (!v) {
        json_object_del(obj, key);
        return;
    }
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        oci_set(t, o, v[i], json_object());
    oci_set(t, obj, key, o);
}

void oci_set_kv(struct oci_tree *t, json_t *obj, const char *key, const struct gantry_oci_kv *kv,
                size_t n)
{
    if (!n) {
        json_object_del(obj, key);
        return;
    }
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        oci_set(t, o, kv[i].key, oci_str(t, kv[i].key, kv[i].value));
    oci_set(t, obj, key, o);
}

int oci_tree_check(const struct oci_tree *t, struct gantry_error **err)
{
    if (!t->failed)
        return 0;
    return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "'%s' is not valid UTF-8", t->bad_key);
}
