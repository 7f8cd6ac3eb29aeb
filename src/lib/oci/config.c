/* Image configs (image-spec config.md, Docker container image v1). */
#include "oci_internal.h"

static void history_entry_release(struct gantry_oci_history *h)
{
    free(h->created);
    free(h->created_by);
    free(h->author);
    free(h->comment);
}

struct gantry_oci_healthcheck *gantry_oci_healthcheck_dup(const struct gantry_oci_healthcheck *h)
{
    if (!h)
        return NULL;
    struct gantry_oci_healthcheck *d = xmalloc(sizeof(*d));
    *d = *h;
    d->test = h->test ? oci_strv_dup(h->test, h->n_test) : NULL;
    return d;
}

void gantry_oci_healthcheck_free(struct gantry_oci_healthcheck *h)
{
    if (!h)
        return;
    oci_strv_free(h->test);
    free(h);
}

static void exec_release(struct gantry_oci_exec_config *e)
{
    gantry_oci_healthcheck_free(e->healthcheck);
    oci_strv_free(e->on_build);
    oci_strv_free(e->shell);
    free(e->user);
    oci_strv_free(e->env);
    oci_strv_free(e->entrypoint);
    oci_strv_free(e->cmd);
    free(e->working_dir);
    oci_kv_free(e->labels, e->n_labels);
    oci_strv_free(e->exposed_ports);
    oci_strv_free(e->volumes);
    free(e->stop_signal);
}

void gantry_oci_config_free(struct gantry_oci_config *c)
{
    if (!c)
        return;
    free(c->architecture);
    free(c->os);
    free(c->variant);
    free(c->os_version);
    oci_strv_free(c->os_features);
    free(c->created);
    free(c->author);
    exec_release(&c->config);
    oci_strv_free(c->diff_ids);
    for (size_t i = 0; i < c->n_history; i++)
        history_entry_release(&c->history[i]);
    free(c->history);
    free(c->raw);
    json_decref(c->json);
    free(c);
}

static void cleanup_configp(struct gantry_oci_config **c)
{
    gantry_oci_config_free(*c);
}
#define _cleanup_config_ __attribute__((cleanup(cleanup_configp)))

/* A Healthcheck integer member (nanoseconds, retries); absent is 0. */
static int get_int(json_t *o, const char *key, int64_t *out, struct gantry_error **err)
{
    json_t *v = oci_member(o, key);
    *out = 0;
    if (!v)
        return 0;
    if (!json_is_integer(v))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'%s' must be an integer", key);
    *out = (int64_t)json_integer_value(v);
    return 0;
}

static int healthcheck_from_json(json_t *o, struct gantry_oci_healthcheck **out,
                                 struct gantry_error **err)
{
    json_t *v = oci_member(o, "Healthcheck");
    if (!v)
        return 0;
    if (!json_is_object(v))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'Healthcheck' must be an object");
    struct gantry_oci_healthcheck *h = xcalloc(1, sizeof(*h));
    *out = h;
    if (oci_get_strv(v, "Test", &h->test, &h->n_test, err) < 0 ||
        get_int(v, "Interval", &h->interval, err) < 0 ||
        get_int(v, "Timeout", &h->timeout, err) < 0 ||
        get_int(v, "StartPeriod", &h->start_period, err) < 0 ||
        get_int(v, "StartInterval", &h->start_interval, err) < 0 ||
        get_int(v, "Retries", &h->retries, err) < 0)
        return gantry_error_prefix(err, "Healthcheck");
    return 0;
}

static int exec_from_json(json_t *o, struct gantry_oci_exec_config *e, struct gantry_error **err)
{
    if (!json_is_object(o))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'config' must be an object");
    if (oci_get_string(o, "User", false, &e->user, err) < 0 ||
        oci_get_strv(o, "Env", &e->env, &e->n_env, err) < 0 ||
        oci_get_strv(o, "Entrypoint", &e->entrypoint, &e->n_entrypoint, err) < 0 ||
        oci_get_strv(o, "Cmd", &e->cmd, &e->n_cmd, err) < 0 ||
        oci_get_string(o, "WorkingDir", false, &e->working_dir, err) < 0 ||
        oci_get_kv(o, "Labels", &e->labels, &e->n_labels, err) < 0 ||
        oci_get_keys(o, "ExposedPorts", &e->exposed_ports, &e->n_exposed_ports, err) < 0 ||
        oci_get_keys(o, "Volumes", &e->volumes, &e->n_volumes, err) < 0 ||
        oci_get_string(o, "StopSignal", false, &e->stop_signal, err) < 0 ||
        healthcheck_from_json(o, &e->healthcheck, err) < 0 ||
        oci_get_strv(o, "OnBuild", &e->on_build, &e->n_on_build, err) < 0 ||
        oci_get_strv(o, "Shell", &e->shell, &e->n_shell, err) < 0)
        return gantry_error_prefix(err, "config");
    return 0;
}

static int history_entry_from_json(json_t *o, struct gantry_oci_history *h,
                                   struct gantry_error **err)
{
    if (!json_is_object(o))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "entry must be an object");
    json_t *empty = oci_member(o, "empty_layer");
    if (empty && !json_is_boolean(empty))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'empty_layer' must be a boolean");
    h->empty_layer = json_is_true(empty);
    if (oci_get_string(o, "created", false, &h->created, err) < 0 ||
        oci_get_string(o, "created_by", false, &h->created_by, err) < 0 ||
        oci_get_string(o, "author", false, &h->author, err) < 0 ||
        oci_get_string(o, "comment", false, &h->comment, err) < 0) {
        history_entry_release(h);
        return -1;
    }
    return 0;
}

static int history_from_json(json_t *arr, struct gantry_oci_config *c, struct gantry_error **err)
{
    if (!json_is_array(arr))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'history' must be an array");
    c->history = xcalloc(json_array_size(arr), sizeof(*c->history));
    for (size_t i = 0; i < json_array_size(arr); i++) {
        if (history_entry_from_json(json_array_get(arr, i), &c->history[i], err) < 0)
            return gantry_error_prefix(err, "history[%zu]", i);
        c->n_history++;
    }
    return 0;
}

static int rootfs_from_json(json_t *root, struct gantry_oci_config *c, struct gantry_error **err)
{
    json_t *r = oci_member(root, "rootfs");
    if (!r)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "missing 'rootfs'");
    if (!json_is_object(r))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'rootfs' must be an object");
    _cleanup_free_ char *type = NULL;
    if (oci_get_string(r, "type", false, &type, err) < 0 ||
        oci_get_strv(r, "diff_ids", &c->diff_ids, &c->n_diff_ids, err) < 0)
        return gantry_error_prefix(err, "rootfs");
    if (!c->diff_ids)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "rootfs: missing 'diff_ids'");
    for (size_t i = 0; i < c->n_diff_ids; i++) {
        const char *d = c->diff_ids[i];
        if (gantry_digest_validate(d, strlen(d), NULL, err) < 0) {
            gantry_error_prefix(err, "rootfs: diff_ids[%zu]", i);
            return oci_recode(err, GANTRY_E_PARSE);
        }
    }
    return 0;
}

static int config_fields(json_t *root, struct gantry_oci_config *c, struct gantry_error **err)
{
    if (oci_get_string(root, "architecture", true, &c->architecture, err) < 0 ||
        oci_get_string(root, "os", true, &c->os, err) < 0 ||
        oci_get_string(root, "variant", false, &c->variant, err) < 0 ||
        oci_get_string(root, "os.version", false, &c->os_version, err) < 0 ||
        oci_get_strv(root, "os.features", &c->os_features, &c->n_os_features, err) < 0 ||
        oci_get_string(root, "created", false, &c->created, err) < 0 ||
        oci_get_string(root, "author", false, &c->author, err) < 0)
        return -1;
    json_t *exec = oci_member(root, "config");
    if (exec && exec_from_json(exec, &c->config, err) < 0)
        return -1;
    if (rootfs_from_json(root, c, err) < 0)
        return -1;
    json_t *history = oci_member(root, "history");
    return history ? history_from_json(history, c, err) : 0;
}

struct gantry_oci_config *gantry_oci_config_parse(const char *data, size_t len,
                                                  struct gantry_error **err)
{
    _cleanup_json_ json_t *root = oci_load(data, len, err);
    if (!root) {
        gantry_error_prefix(err, "invalid image config");
        return NULL;
    }
    _cleanup_config_ struct gantry_oci_config *c = xcalloc(1, sizeof(*c));
    if (config_fields(root, c, err) < 0) {
        gantry_error_prefix(err, "invalid image config");
        return NULL;
    }
    oci_keep_raw(data, len, &c->raw, &c->raw_len, c->digest);
    c->json = steal_pointer(&root);
    return steal_pointer(&c);
}

struct gantry_oci_config *gantry_oci_config_new(const char *os, const char *architecture,
                                                const char *variant)
{
    struct gantry_oci_config *c = xcalloc(1, sizeof(*c));
    c->os = xstrdup(os);
    c->architecture = xstrdup(architecture);
    c->variant = xstrdup_or_null(variant);
    c->diff_ids = xcalloc(1, sizeof(*c->diff_ids));
    c->raw = xstrdup("");
    return c;
}

static void history_push(struct gantry_oci_config *c, const struct gantry_oci_history_spec *h,
                         bool empty_layer)
{
    c->history = xrealloc(c->history, (c->n_history + 1) * sizeof(*c->history));
    struct gantry_oci_history *n = &c->history[c->n_history++];
    n->created = xstrdup_or_null(h->created);
    n->created_by = xstrdup_or_null(h->created_by);
    n->author = xstrdup_or_null(h->author);
    n->comment = xstrdup_or_null(h->comment);
    n->empty_layer = empty_layer;
}

void gantry_oci_config_add_layer(struct gantry_oci_config *c, const char *diff_id,
                                 const struct gantry_oci_history_spec *h)
{
    oci_strv_push(&c->diff_ids, &c->n_diff_ids, diff_id);
    if (h)
        history_push(c, h, false);
}

void gantry_oci_config_add_history(struct gantry_oci_config *c,
                                   const struct gantry_oci_history_spec *h)
{
    history_push(c, h, h->empty_layer);
}

static void set_int(json_t *o, const char *key, int64_t v)
{
    if (v)
        json_object_set_new(o, key, json_integer((json_int_t)v));
    else
        json_object_del(o, key);
}

/* Docker's Healthcheck: members of base kept, zero numbers left out. */
static json_t *healthcheck_tree(struct oci_tree *t, json_t *base,
                                const struct gantry_oci_healthcheck *h)
{
    json_t *o = json_is_object(base) ? json_deep_copy(base) : json_object();
    oci_set_strv(t, o, "Test", h->test, h->n_test);
    set_int(o, "Interval", h->interval);
    set_int(o, "Timeout", h->timeout);
    set_int(o, "StartPeriod", h->start_period);
    set_int(o, "StartInterval", h->start_interval);
    set_int(o, "Retries", h->retries);
    return o;
}

static json_t *exec_tree(struct oci_tree *t, json_t *base, const struct gantry_oci_exec_config *e)
{
    json_t *o = json_is_object(base) ? json_deep_copy(base) : json_object();
    oci_set_string(t, o, "User", e->user);
    oci_set_strv(t, o, "Env", e->env, e->n_env);
    oci_set_strv(t, o, "Entrypoint", e->entrypoint, e->n_entrypoint);
    oci_set_strv(t, o, "Cmd", e->cmd, e->n_cmd);
    oci_set_string(t, o, "WorkingDir", e->working_dir);
    oci_set_kv(t, o, "Labels", e->labels, e->n_labels);
    oci_set_keys(t, o, "ExposedPorts", e->exposed_ports, e->n_exposed_ports);
    oci_set_keys(t, o, "Volumes", e->volumes, e->n_volumes);
    oci_set_string(t, o, "StopSignal", e->stop_signal);
    if (e->healthcheck)
        oci_set(t, o, "Healthcheck",
                healthcheck_tree(t, json_object_get(o, "Healthcheck"), e->healthcheck));
    else
        json_object_del(o, "Healthcheck");
    oci_set_strv(t, o, "OnBuild", e->on_build, e->n_on_build);
    oci_set_strv(t, o, "Shell", e->shell, e->n_shell);
    return o;
}

static json_t *rootfs_tree(struct oci_tree *t, json_t *base, const struct gantry_oci_config *c)
{
    static char *const none[] = {NULL};
    json_t *r = json_is_object(base) ? json_deep_copy(base) : json_object();
    if (!json_is_string(json_object_get(r, "type")))
        oci_set(t, r, "type", json_string("layers"));
    oci_set_strv(t, r, "diff_ids", c->diff_ids ? c->diff_ids : none, c->n_diff_ids);
    return r;
}

static json_t *history_tree(struct oci_tree *t, const struct gantry_oci_config *c)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < c->n_history; i++) {
        const struct gantry_oci_history *h = &c->history[i];
        json_t *o = json_object();
        oci_set_string(t, o, "created", h->created);
        oci_set_string(t, o, "created_by", h->created_by);
        oci_set_string(t, o, "author", h->author);
        oci_set_string(t, o, "comment", h->comment);
        if (h->empty_layer)
            oci_set(t, o, "empty_layer", json_true());
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *config_tree(struct oci_tree *t, const struct gantry_oci_config *c)
{
    json_t *o = c->json ? json_deep_copy(c->json) : json_object();
    oci_set_string(t, o, "architecture", c->architecture);
    oci_set_string(t, o, "os", c->os);
    oci_set_string(t, o, "variant", c->variant);
    oci_set_string(t, o, "os.version", c->os_version);
    oci_set_strv(t, o, "os.features", c->os_features, c->n_os_features);
    oci_set_string(t, o, "created", c->created);
    oci_set_string(t, o, "author", c->author);
    oci_set(t, o, "config", exec_tree(t, json_object_get(o, "config"), &c->config));
    oci_set(t, o, "rootfs", rootfs_tree(t, json_object_get(o, "rootfs"), c));
    if (c->history)
        oci_set(t, o, "history", history_tree(t, c));
    else
        json_object_del(o, "history");
    return o;
}

/* Canonical bytes of c's fields into b, checked by parsing them back. */
static struct gantry_oci_config *config_render(const struct gantry_oci_config *c,
                                               struct gantry_buf *b, struct gantry_error **err)
{
    struct oci_tree t = {0};
    _cleanup_json_ json_t *tree = config_tree(&t, c);
    if (oci_render_tree(&t, tree, "image config", b, err) < 0)
        return NULL;
    struct gantry_oci_config *r = gantry_oci_config_parse(b->data, b->len, err);
    if (!r)
        oci_recode(err, GANTRY_E_INVALID_ARG);
    return r;
}

int gantry_oci_config_to_json(const struct gantry_oci_config *c, struct gantry_buf *out,
                              struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    _cleanup_config_ struct gantry_oci_config *r = config_render(c, &b, err);
    if (!r)
        return -1;
    return oci_buf_append(out, &b, err);
}

int gantry_oci_config_serialize(struct gantry_oci_config *c, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    _cleanup_config_ struct gantry_oci_config *r = config_render(c, &b, err);
    if (!r)
        return -1;
    struct gantry_oci_config old = *c;
    *c = *r;
    *r = old;
    return 0;
}

struct json_t *gantry_oci_config_json(const struct gantry_oci_config *c)
{
    return c->json;
}
