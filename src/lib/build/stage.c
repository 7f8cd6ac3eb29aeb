/*
 * A build stage's state: its variables, the image config being assembled
 * and its layers, set up from FROM (scratch, an earlier stage, a local
 * image or one pulled for the stage's platform).
 */
#include <gantry/image.h>
#include <gantry/ref.h>
#include <gantry/transfer.h>

#include "build/build_internal.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

bool build_stage_lookup(void *user, const char *name, const char **value)
{
    struct build_stage *st = user;
    size_t nl = strlen(name);
    const struct gantry_oci_exec_config *x = &st->config->config;
    for (size_t i = x->n_env; i-- > 0;)
        if (strncmp(x->env[i], name, nl) == 0 && x->env[i][nl] == '=') {
            *value = x->env[i] + nl + 1;
            return true;
        }
    return gantry_dockerfile_vars_lookup(&st->args, name, value);
}

int build_stage_expand(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                       const char *word, char **out, struct gantry_error **err)
{
    struct gantry_dockerfile_expand_opts xo = {
        .lookup = build_stage_lookup, .user = st, .escape = st->ctx->df->escape};
    if (gantry_dockerfile_expand(word, strlen(word), &xo, out, err) < 0)
        return gantry_error_prefix(err, "%s:%zu", st->ctx->df->name, in->line);
    return 0;
}

/*
 * Parse a copy of a config (through its canonical bytes). c is only read:
 * stages built on the same stage set up in parallel.
 */
struct gantry_oci_config *build_config_dup(const struct gantry_oci_config *c,
                                           struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (gantry_oci_config_to_json(c, &b, err) < 0)
        return NULL;
    return gantry_oci_config_parse(b.data, b.len, err);
}

static void set_layers(struct build_stage *st, const struct gantry_oci_descriptor *l, size_t n)
{
    st->layers = xcalloc(n, sizeof *st->layers);
    for (size_t i = 0; i < n; i++)
        gantry_oci_descriptor_copy(&st->layers[i], &l[i]);
    st->n_layers = n;
}

static int init_scratch(struct build_stage *st, const struct gantry_platform *p)
{
    st->config = gantry_oci_config_new(p->os, p->architecture, p->variant);
    st->config->config.env = xcalloc(2, sizeof(char *));
    st->config->config.env[0] = xstrdup(DEFAULT_PATH);
    st->config->config.n_env = 1;
    return 0;
}

/* Find the image locally, or pull it when its name spells out a registry. */
static int find_image(struct build_stage *st, const char *ref, const struct gantry_platform *p,
                      struct gantry_oci_descriptor *top, struct gantry_error **err)
{
    struct gantry_error *e = NULL;
    if (gantry_image_resolve(st->ctx->store, ref, top, NULL, &e) == 0)
        return 0;
    if (e->code != GANTRY_E_NOT_FOUND || !st->ctx->opts->client ||
        !gantry_ref_names_registry(ref)) {
        *err = e;
        return -1;
    }
    gantry_error_free(e);
    struct gantry_transfer_pull_opts po = {.platform = p};
    struct gantry_transfer_result r = {0};
    if (gantry_transfer_pull(st->ctx->store, st->ctx->opts->client, ref, &po, &r, err) < 0)
        return -1;
    gantry_transfer_result_release(&r);
    return gantry_image_resolve(st->ctx->store, ref, top, NULL, err);
}

static int read_doc(struct gantry_store *s, const char *digest, struct gantry_buf *b,
                    struct gantry_error **err)
{
    return gantry_store_read_blob(s, digest, b, err);
}

int build_stage_init_image(struct build_stage *st, const char *ref, const struct gantry_platform *p,
                           struct gantry_error **err)
{
    _cleanup_descriptor_ struct gantry_oci_descriptor top = GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_descriptor_ struct gantry_oci_descriptor man = GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_buf_ struct gantry_buf mb = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    _cleanup_buf_ struct gantry_buf cb = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (find_image(st, ref, p, &top, err) < 0 ||
        gantry_image_select_platform(st->ctx->store, &top, p, false, &man, err) < 0 ||
        read_doc(st->ctx->store, man.digest, &mb, err) < 0)
        return -1;
    _cleanup_manifest_ struct gantry_oci_manifest *m =
        gantry_oci_manifest_parse(mb.data, mb.len, man.media_type, err);
    if (!m || read_doc(st->ctx->store, m->config.digest, &cb, err) < 0)
        return -1;
    st->config = gantry_oci_config_parse(cb.data, cb.len, err);
    if (!st->config)
        return -1;
    set_layers(st, m->layers, m->n_layers);
    return 0;
}

int build_stage_init_base(struct build_stage *st, size_t index, struct gantry_error **err)
{
    const struct gantry_dockerfile_resolved_stage *rs = &st->res->stages[index];
    int rc;
    if (rs->scratch) {
        rc = init_scratch(st, &rs->platform);
    } else if (rs->base_stage != GANTRY_DOCKERFILE_NO_STAGE) {
        struct build_stage *b = &st->all[rs->base_stage];
        st->config = build_config_dup(b->config, err);
        rc = st->config ? 0 : -1;
        if (rc == 0)
            set_layers(st, b->layers, b->n_layers);
    } else {
        /* rs->base as written: a bare name must not reach a registry. */
        rc = build_stage_init_image(st, rs->base, &rs->platform, err);
    }
    if (rc < 0)
        return gantry_error_prefix(err, "%s:%zu: FROM %s", st->ctx->df->name,
                                   st->df_stage->from.line, rs->base);
    return 0;
}

void build_stage_release(struct build_stage *st)
{
    gantry_oci_config_free(st->config);
    for (size_t i = 0; i < st->n_layers; i++)
        gantry_oci_descriptor_release(&st->layers[i]);
    free(st->layers);
    gantry_dockerfile_vars_release(&st->args);
    gantry_dockerfile_strv_free(st->shell, st->n_shell);
    st->shell = NULL;
    st->config = NULL;
    st->layers = NULL;
    st->n_layers = 0;
}

void build_stage_add_layer(struct build_stage *st, const struct gantry_oci_descriptor *desc,
                           const char *diff_id, const char *created_by)
{
    _cleanup_free_ char *when = build_format_time(st->ctx->created);
    struct gantry_oci_history_spec h = {
        .created = when, .created_by = created_by, .comment = "buildkit.dockerfile.v0"};
    gantry_oci_config_add_layer(st->config, diff_id, &h);
    st->layers = xrealloc(st->layers, (st->n_layers + 1) * sizeof *st->layers);
    memset(&st->layers[st->n_layers], 0, sizeof *st->layers);
    gantry_oci_descriptor_copy(&st->layers[st->n_layers++], desc);
}

void build_stage_add_history(struct build_stage *st, const char *created_by)
{
    _cleanup_free_ char *when = build_format_time(st->ctx->created);
    struct gantry_oci_history_spec h = {.created = when,
                                        .created_by = created_by,
                                        .comment = "buildkit.dockerfile.v0",
                                        .empty_layer = true};
    gantry_oci_config_add_history(st->config, &h);
}
