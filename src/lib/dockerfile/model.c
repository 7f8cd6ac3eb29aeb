/* The parsed model: names, accessors, variables and freeing. */
#include <strings.h>

#include "dockerfile_internal.h"

static const char *const kind_names[] = {
    [GANTRY_DOCKERFILE_ADD] = "ADD",
    [GANTRY_DOCKERFILE_ARG] = "ARG",
    [GANTRY_DOCKERFILE_CMD] = "CMD",
    [GANTRY_DOCKERFILE_COPY] = "COPY",
    [GANTRY_DOCKERFILE_ENTRYPOINT] = "ENTRYPOINT",
    [GANTRY_DOCKERFILE_ENV] = "ENV",
    [GANTRY_DOCKERFILE_EXPOSE] = "EXPOSE",
    [GANTRY_DOCKERFILE_FROM] = "FROM",
    [GANTRY_DOCKERFILE_HEALTHCHECK] = "HEALTHCHECK",
    [GANTRY_DOCKERFILE_LABEL] = "LABEL",
    [GANTRY_DOCKERFILE_MAINTAINER] = "MAINTAINER",
    [GANTRY_DOCKERFILE_ONBUILD] = "ONBUILD",
    [GANTRY_DOCKERFILE_RUN] = "RUN",
    [GANTRY_DOCKERFILE_SHELL] = "SHELL",
    [GANTRY_DOCKERFILE_STOPSIGNAL] = "STOPSIGNAL",
    [GANTRY_DOCKERFILE_USER] = "USER",
    [GANTRY_DOCKERFILE_VOLUME] = "VOLUME",
    [GANTRY_DOCKERFILE_WORKDIR] = "WORKDIR",
};

const char *gantry_dockerfile_kind_name(enum gantry_dockerfile_kind kind)
{
    if ((size_t)kind >= ARRAY_SIZE(kind_names) || !kind_names[kind])
        return "UNKNOWN";
    return kind_names[kind];
}

bool gantry_dockerfile_instruction_expands(enum gantry_dockerfile_kind kind)
{
    switch (kind) {
    case GANTRY_DOCKERFILE_ADD:
    case GANTRY_DOCKERFILE_ARG:
    case GANTRY_DOCKERFILE_COPY:
    case GANTRY_DOCKERFILE_ENV:
    case GANTRY_DOCKERFILE_EXPOSE:
    case GANTRY_DOCKERFILE_FROM:
    case GANTRY_DOCKERFILE_LABEL:
    case GANTRY_DOCKERFILE_STOPSIGNAL:
    case GANTRY_DOCKERFILE_USER:
    case GANTRY_DOCKERFILE_VOLUME:
    case GANTRY_DOCKERFILE_WORKDIR:
        return true;
    default:
        return false;
    }
}

const char *gantry_dockerfile_flag(const struct gantry_dockerfile_instruction *instr,
                                   const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < instr->n_flags; i++)
        if (strcmp(instr->flags[i].name, name) == 0)
            v = instr->flags[i].value;
    return v;
}

const struct gantry_dockerfile_heredoc *
gantry_dockerfile_heredoc_for(const struct gantry_dockerfile_instruction *instr, const char *arg)
{
    struct gantry_dockerfile_heredoc h = {0};
    _cleanup_free_ char *msg = NULL;
    if (df_heredoc_parse_word(arg, &h, &msg) != 1)
        return NULL;
    const struct gantry_dockerfile_heredoc *found = NULL;
    /* BuildKit looks heredocs up by name; the last of a name wins. */
    for (size_t i = 0; i < instr->n_heredocs; i++)
        if (strcmp(instr->heredocs[i].name, h.name) == 0)
            found = &instr->heredocs[i];
    free(h.name);
    return found;
}

void df_instruction_release(struct gantry_dockerfile_instruction *in)
{
    if (!in)
        return;
    free(in->keyword);
    free(in->original);
    for (size_t i = 0; i < in->n_flags; i++) {
        free(in->flags[i].name);
        free(in->flags[i].value);
    }
    free(in->flags);
    gantry_dockerfile_strv_free(in->args, in->n_args);
    for (size_t i = 0; i < in->n_kvs; i++) {
        free(in->kvs[i].key);
        free(in->kvs[i].value);
    }
    free(in->kvs);
    for (size_t i = 0; i < in->n_heredocs; i++) {
        free(in->heredocs[i].name);
        free(in->heredocs[i].content);
    }
    free(in->heredocs);
    if (in->trigger) {
        df_instruction_release(in->trigger);
        free(in->trigger);
    }
    memset(in, 0, sizeof(*in));
}

void gantry_dockerfile_instruction_free(struct gantry_dockerfile_instruction *in)
{
    df_instruction_release(in);
    free(in);
}

static void stage_release(struct gantry_dockerfile_stage *st)
{
    free(st->base);
    free(st->alias);
    free(st->platform);
    df_instruction_release(&st->from);
    for (size_t i = 0; i < st->n_instructions; i++)
        df_instruction_release(&st->instructions[i]);
    free(st->instructions);
}

void gantry_dockerfile_free(struct gantry_dockerfile *df)
{
    if (!df)
        return;
    free(df->name);
    free(df->syntax);
    free(df->check);
    for (size_t i = 0; i < df->n_global_args; i++)
        df_instruction_release(&df->global_args[i]);
    free(df->global_args);
    for (size_t i = 0; i < df->n_stages; i++)
        stage_release(&df->stages[i]);
    free(df->stages);
    gantry_dockerfile_strv_free(df->warnings, df->n_warnings);
    free(df);
}

/* ---- variables ---- */

void gantry_dockerfile_vars_set(struct gantry_dockerfile_vars *vars, const char *key,
                                const char *value)
{
    for (size_t i = 0; i < vars->n_items; i++) {
        if (strcmp(vars->items[i].key, key) == 0) {
            char *v = xstrdup(value);
            free(vars->items[i].value);
            vars->items[i].value = v;
            return;
        }
    }
    vars->items = xrealloc(vars->items, (vars->n_items + 1) * sizeof(*vars->items));
    vars->items[vars->n_items].key = xstrdup(key);
    vars->items[vars->n_items].value = xstrdup(value);
    vars->n_items++;
}

const char *gantry_dockerfile_vars_get(const struct gantry_dockerfile_vars *vars, const char *key)
{
    if (!vars)
        return NULL;
    for (size_t i = 0; i < vars->n_items; i++)
        if (strcmp(vars->items[i].key, key) == 0)
            return vars->items[i].value;
    return NULL;
}

void gantry_dockerfile_vars_copy(struct gantry_dockerfile_vars *dst,
                                 const struct gantry_dockerfile_vars *src)
{
    dst->items = NULL;
    dst->n_items = 0;
    for (size_t i = 0; src && i < src->n_items; i++)
        gantry_dockerfile_vars_set(dst, src->items[i].key, src->items[i].value);
}

void gantry_dockerfile_vars_release(struct gantry_dockerfile_vars *vars)
{
    if (!vars)
        return;
    for (size_t i = 0; i < vars->n_items; i++) {
        free(vars->items[i].key);
        free(vars->items[i].value);
    }
    free(vars->items);
    vars->items = NULL;
    vars->n_items = 0;
}

bool gantry_dockerfile_vars_lookup(void *user, const char *name, const char **value)
{
    const char *v = gantry_dockerfile_vars_get(user, name);
    if (!v)
        return false;
    *value = v;
    return true;
}

size_t df_edit_distance(const char *a, const char *b, size_t cap)
{
    size_t la = strlen(a), lb = strlen(b);
    if ((la > lb ? la - lb : lb - la) > cap)
        return cap + 1;
    /* Two rows of the classic table; names here are short. */
    _cleanup_free_ size_t *prev = xcalloc(lb + 1, sizeof(size_t));
    _cleanup_free_ size_t *cur = xcalloc(lb + 1, sizeof(size_t));
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            size_t m = sub < del ? sub : del;
            cur[j] = m < ins ? m : ins;
        }
        memcpy(prev, cur, (lb + 1) * sizeof(size_t));
    }
    return prev[lb] > cap ? cap + 1 : prev[lb];
}
