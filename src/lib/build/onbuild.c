/*
 * ONBUILD triggers of a stage's base: the OnBuild strings of the config a
 * stage starts from (an image's, or an earlier stage's) run right after
 * FROM, in order, as if written there, and the stage's own config starts
 * without them (Docker: an image does not inherit its base's triggers).
 * Each trigger is parsed as "ONBUILD <trigger>" by the Dockerfile parser,
 * so the rules of the ONBUILD instruction (no ONBUILD ONBUILD, FROM or
 * MAINTAINER) hold for triggers that another tool wrote too.
 */
#include "build/build_internal.h"

/* "<name>:<FROM line>: ONBUILD trigger N of '<base>'": the trigger's place. */
static char *trigger_place(const struct build_stage *st, size_t index, size_t k)
{
    return xasprintf("%s:%zu: ONBUILD trigger %zu of '%s'", st->ctx->df->name,
                     st->df_stage->from.line, k + 1, st->res->stages[index].base);
}

/*
 * COPY --from inside a trigger would add an edge the stage graph has not
 * seen (the stages would no longer be ordered by it): refused for now.
 */
static int check_trigger(const struct gantry_dockerfile_instruction *t, struct gantry_error **err)
{
    if ((t->kind == GANTRY_DOCKERFILE_COPY || t->kind == GANTRY_DOCKERFILE_ADD) &&
        gantry_dockerfile_flag(t, "from"))
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "%s --from is not supported in ONBUILD triggers yet",
                                gantry_dockerfile_kind_name(t->kind));
    return 0;
}

static int parse_trigger(struct build_stage *st, size_t index, size_t k, const char *text,
                         struct build_triggers *t, struct gantry_error **err)
{
    _cleanup_free_ char *line = xasprintf("ONBUILD %s", text);
    struct gantry_dockerfile_instruction *in = NULL;
    int rc = gantry_dockerfile_parse_instruction(line, strlen(line), NULL, &in, err);
    if (rc == 0) {
        t->items[t->n_items++] = in;
        /* Step errors name the Dockerfile line: the FROM that ran the trigger. */
        in->trigger->line = in->trigger->end_line = st->df_stage->from.line;
        rc = check_trigger(in->trigger, err);
    }
    if (rc < 0) {
        _cleanup_free_ char *place = trigger_place(st, index, k);
        return gantry_error_prefix(err, "%s", place);
    }
    return 0;
}

int build_onbuild_take(struct build_stage *st, size_t index, struct build_triggers *t,
                       struct gantry_error **err)
{
    struct gantry_oci_exec_config *x = &st->config->config;
    char **on = steal_pointer(&x->on_build);
    size_t n = x->n_on_build;
    x->n_on_build = 0;
    *t = (struct build_triggers){.items = xcalloc(n + 1, sizeof *t->items)};
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < n; k++)
        rc = parse_trigger(st, index, k, on[k], t, err);
    if (on)
        gantry_dockerfile_strv_free(on, n);
    return rc;
}

void build_onbuild_error(const struct build_stage *st, size_t index, size_t k,
                         struct gantry_error **err)
{
    if (!err || !*err)
        return;
    /* "<name>:<line>: problem" becomes "<name>:<line>: ONBUILD trigger N of 'x': problem". */
    _cleanup_free_ char *at = xasprintf("%s:%zu: ", st->ctx->df->name, st->df_stage->from.line);
    _cleanup_free_ char *place = trigger_place(st, index, k);
    const char *msg = (*err)->message;
    const char *rest = str_has_prefix(msg, at) ? msg + strlen(at) : msg;
    char *m = xasprintf("%s: %s", place, rest);
    free((*err)->message);
    (*err)->message = m;
}

void build_triggers_release(struct build_triggers *t)
{
    for (size_t k = 0; k < t->n_items; k++)
        gantry_dockerfile_instruction_free(t->items[k]);
    free(t->items);
    *t = (struct build_triggers){0};
}
