/*
 * gantry dockerfile: the Dockerfile frontend. Pure functions over bytes:
 * the parser (directives, comments, continuations, JSON and shell forms,
 * heredocs, every instruction), BuildKit's shell-word expansion, the
 * automatic platform ARGs with their scoping, FROM resolution for one
 * target platform, and .dockerignore matching. Nothing here reads files,
 * touches the store or the network: the caller reads the Dockerfile and
 * the .dockerignore (or <Dockerfile>.dockerignore) and hands over bytes.
 *
 * Basic outline of parsing and resolving for one target platform:
 *
 *     struct gantry_dockerfile_parse_opts po = {.name = "Dockerfile"};
 *     struct gantry_dockerfile *df = NULL;
 *     if (gantry_dockerfile_parse(text, len, &po, &df, &err) < 0)
 *         ... "Dockerfile:7: unknown instruction: COPPY (did you mean COPY?)"
 *     struct gantry_dockerfile_resolve_opts ro = {
 *         .build = &host, .target = &want, .build_args = &args};
 *     struct gantry_dockerfile_resolved *res = NULL;
 *     if (gantry_dockerfile_resolve_from(df, &ro, &res, &err) < 0)
 *         ... unknown stage in --from, a stage cycle, a bad FROM ...
 *     for (size_t i = 0; i < res->n_stages; i++)
 *         if (res->stages[i].needed) ... build df->stages[i] on
 *             res->stages[i].base for res->stages[i].platform ...
 *     gantry_dockerfile_resolved_free(res);
 *     gantry_dockerfile_free(df);
 *
 * Expanding a word as BuildKit does (only for the instructions where
 * gantry_dockerfile_instruction_expands() is true; RUN, CMD and ENTRYPOINT
 * are left to the shell):
 *
 *     struct gantry_dockerfile_vars env = GANTRY_DOCKERFILE_VARS_INIT;
 *     gantry_dockerfile_vars_set(&env, "HOME", "/root");
 *     struct gantry_dockerfile_expand_opts xo = {
 *         .lookup = gantry_dockerfile_vars_lookup, .user = &env, .escape = df->escape};
 *     char *out = NULL;
 *     if (gantry_dockerfile_expand(word, strlen(word), &xo, &out, &err) < 0) ...
 *     free(out);
 *     gantry_dockerfile_vars_release(&env);
 *
 * One instruction on its own (`import --change`), no FROM needed:
 *
 *     struct gantry_dockerfile_instruction *in = NULL;
 *     if (gantry_dockerfile_parse_instruction("CMD [\"sh\"]", 12, NULL, &in, &err) < 0) ...
 *     ... in->kind, in->args, in->json, in->kvs ...
 *     gantry_dockerfile_instruction_free(in);
 *
 * .dockerignore, while walking the build context:
 *
 *     struct gantry_dockerignore *ig = NULL;
 *     if (gantry_dockerignore_parse(data, len, &ig, &err) < 0) ...
 *     bool excluded;
 *     if (gantry_dockerignore_matches(ig, "src/a.o", &excluded, &err) < 0) ...
 *     if (excluded && is_dir && !gantry_dockerignore_dir_may_reinclude(ig, "src"))
 *         ... skip the whole directory ...
 *     gantry_dockerignore_free(ig);
 *
 * Every error of the parser reads "<name>:<line>: <what is wrong>" with the
 * first physical line of the instruction (GANTRY_E_PARSE). docs/dockerfile.md
 * lists what is supported and where gantry differs from BuildKit.
 */
#ifndef GANTRY_DOCKERFILE_H
#define GANTRY_DOCKERFILE_H

#include <gantry/core.h>
#include <gantry/platform.h>
#include <gantry/ref.h>

#ifdef __cplusplus
extern "C" {
#endif

/* BuildKit's bufio limit: a physical line longer than this is an error. */
#define GANTRY_DOCKERFILE_LINE_MAX 65535
/* "No stage" in stage indexes. */
#define GANTRY_DOCKERFILE_NO_STAGE ((size_t)-1)

enum gantry_dockerfile_kind {
    GANTRY_DOCKERFILE_ADD,
    GANTRY_DOCKERFILE_ARG,
    GANTRY_DOCKERFILE_CMD,
    GANTRY_DOCKERFILE_COPY,
    GANTRY_DOCKERFILE_ENTRYPOINT,
    GANTRY_DOCKERFILE_ENV,
    GANTRY_DOCKERFILE_EXPOSE,
    GANTRY_DOCKERFILE_FROM,
    GANTRY_DOCKERFILE_HEALTHCHECK,
    GANTRY_DOCKERFILE_LABEL,
    GANTRY_DOCKERFILE_MAINTAINER,
    GANTRY_DOCKERFILE_ONBUILD,
    GANTRY_DOCKERFILE_RUN,
    GANTRY_DOCKERFILE_SHELL,
    GANTRY_DOCKERFILE_STOPSIGNAL,
    GANTRY_DOCKERFILE_USER,
    GANTRY_DOCKERFILE_VOLUME,
    GANTRY_DOCKERFILE_WORKDIR,
};

/*
 * A "--name[=value]" flag. Boolean flags always carry "true" or "false"
 * ("--link" alone is "true"). Flags that may repeat (--mount, --exclude)
 * appear once per use, in order.
 */
struct gantry_dockerfile_flag {
    char *name;
    char *value;
};

/* A name and a value; value is NULL for "ARG NAME" without a default. */
struct gantry_dockerfile_kv {
    char *key;
    char *value;
};

/*
 * A heredoc body: "<<EOF", "<<-EOF" (chomp: leading tabs already removed
 * from every line of content), "<<'EOF'" or "<<\"EOF\"" (expand false: a
 * quoted delimiter turns expansion off), "3<<EOF" (fd 3). content holds
 * every line up to the delimiter, newlines included.
 */
struct gantry_dockerfile_heredoc {
    char *name;
    char *content;
    bool expand;
    bool chomp;
    unsigned fd;
};

/*
 * One instruction. All strings are raw (not expanded, quotes kept), as the
 * builder expands them in the scope of the step:
 *   RUN, CMD, ENTRYPOINT, SHELL: json true: the array elements; otherwise
 *       one argument, the command line after the flags.
 *   ADD, COPY, VOLUME: the sources and the destination (JSON or words).
 *   FROM: image [AS name]; EXPOSE: the words.
 *   HEALTHCHECK: "NONE" or "CMD" then the command as for CMD.
 *   ENV, LABEL: key, value, key, value...; also in kvs.
 *   ARG: the words "NAME" or "NAME=default"; also in kvs.
 *   MAINTAINER, STOPSIGNAL, USER, WORKDIR: one argument (the rest of the
 *       line).
 *   ONBUILD: the trigger's keyword and arguments; trigger holds it parsed.
 * original is the logical line (continuations joined, comment lines
 * dropped). line is the first physical line (1-based), end_line the last
 * one, heredoc bodies included.
 */
struct gantry_dockerfile_instruction {
    enum gantry_dockerfile_kind kind;
    char *keyword; /* as written: "copy", "COPY"... */
    char *original;
    size_t line;
    size_t end_line;
    struct gantry_dockerfile_flag *flags;
    size_t n_flags;
    char **args;
    size_t n_args;
    bool json;
    struct gantry_dockerfile_kv *kvs;
    size_t n_kvs;
    struct gantry_dockerfile_heredoc *heredocs;
    size_t n_heredocs;
    struct gantry_dockerfile_instruction *trigger; /* ONBUILD only */
};

/*
 * A build stage: its FROM and the instructions after it. base and platform
 * are raw (expand them with gantry_dockerfile_resolve_from()); alias is
 * lower-case, NULL without "AS".
 */
struct gantry_dockerfile_stage {
    size_t index;
    char *base;
    char *alias;
    char *platform;
    struct gantry_dockerfile_instruction from;
    struct gantry_dockerfile_instruction *instructions;
    size_t n_instructions;
};

/* A parsed Dockerfile. Free with gantry_dockerfile_free(). */
struct gantry_dockerfile {
    char *name;   /* used in messages: "Dockerfile" */
    char escape;  /* '\\' or '`' (the escape directive) */
    char *syntax; /* "# syntax=" value, or NULL */
    char *check;  /* "# check=" value, or NULL */
    size_t n_lines;
    /* ARG instructions before the first FROM (the global scope). */
    struct gantry_dockerfile_instruction *global_args;
    size_t n_global_args;
    struct gantry_dockerfile_stage *stages;
    size_t n_stages;
    /* "<name>:<line>: empty continuation line", as BuildKit warns. */
    char **warnings;
    size_t n_warnings;
};

struct gantry_dockerfile_parse_opts {
    const char *name; /* for messages; NULL means "Dockerfile" */
};

/*
 * Parse the Dockerfile text[0..len) (need not be NUL-terminated) into *out
 * (caller frees with gantry_dockerfile_free()). opts may be NULL.
 * Errors (GANTRY_E_PARSE, "<name>:<line>: ..."): file with no instructions
 * (empty or only comments), a line longer than 65535 bytes, a NUL byte,
 * unknown instruction (with a suggestion), unknown or repeated or
 * malformed flags, wrong argument counts, ENV without a value, JSON arrays
 * of non-strings, SHELL not in JSON form, unterminated heredocs, heredoc as
 * a destination, ONBUILD ONBUILD/FROM/MAINTAINER, bad stage names, duplicate
 * stage names, an instruction before the first FROM (other than ARG), no
 * FROM at all, repeated or invalid parser directives, invalid HEALTHCHECK
 * durations or retries, RUN --network/--security values, and quoting or
 * ${} syntax errors in words that the builder will expand.
 */
GANTRY_API int gantry_dockerfile_parse(const char *text, size_t len,
                                       const struct gantry_dockerfile_parse_opts *opts,
                                       struct gantry_dockerfile **out,
                                       struct gantry_error **err) GANTRY_WUR;

/* Free a parsed Dockerfile; NULL is a no-op. */
GANTRY_API void gantry_dockerfile_free(struct gantry_dockerfile *df);

/*
 * Parse one instruction on its own, text[0..len) (need not be
 * NUL-terminated), as `docker import --change` and `docker commit
 * --change` take them: the rules of gantry_dockerfile_parse() for one
 * logical line, with the backslash escape, and no FROM needed. There are
 * no directives, comments, continuations or heredoc bodies (heredocs stay
 * empty); leading and trailing white space is ignored. *out: caller frees
 * with gantry_dockerfile_instruction_free(); line and end_line are 1.
 * opts may be NULL. Messages read "<name>:1: ..." when opts->name is set,
 * and are the bare problem otherwise (the caller adds its own context).
 * Errors (GANTRY_E_PARSE): empty text ("no instruction"), a line break
 * inside, a NUL byte, more than 65535 bytes, and every error of
 * gantry_dockerfile_parse() about one instruction (unknown instruction,
 * flags, argument counts, JSON arrays, quoting and ${} syntax...).
 */
GANTRY_API int gantry_dockerfile_parse_instruction(const char *text, size_t len,
                                                   const struct gantry_dockerfile_parse_opts *opts,
                                                   struct gantry_dockerfile_instruction **out,
                                                   struct gantry_error **err) GANTRY_WUR;

/* Free an instruction from gantry_dockerfile_parse_instruction(); NULL is a no-op. */
GANTRY_API void gantry_dockerfile_instruction_free(struct gantry_dockerfile_instruction *in);

/* "ADD", "ARG"... for a kind. Static string. */
GANTRY_API const char *gantry_dockerfile_kind_name(enum gantry_dockerfile_kind kind);

/*
 * True for the instructions whose arguments the builder expands with
 * gantry_dockerfile_expand(): ADD, ARG (defaults, as BuildKit), COPY, ENV,
 * EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, and ONBUILD
 * triggers of those kinds when they run downstream. False for RUN, CMD,
 * ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER and ONBUILD itself.
 */
GANTRY_API bool gantry_dockerfile_instruction_expands(enum gantry_dockerfile_kind kind);

/*
 * The value of the last flag called name ("from", "chown"...), or NULL
 * when absent. Borrowed from instr.
 */
GANTRY_API const char *gantry_dockerfile_flag(const struct gantry_dockerfile_instruction *instr,
                                              const char *name);

/*
 * When arg (an ADD/COPY source) names a heredoc of instr ("<<EOF",
 * "<<-'EOF'"...), that heredoc; else NULL. Borrowed from instr.
 */
GANTRY_API const struct gantry_dockerfile_heredoc *
gantry_dockerfile_heredoc_for(const struct gantry_dockerfile_instruction *instr, const char *arg);

/*
 * Parse a Go duration ("30s", "1m30s", "1.5h", "300ms", "0") into
 * nanoseconds, as HEALTHCHECK's flags. GANTRY_E_INVALID_ARG
 * "invalid duration 'S'" on failure (empty, missing or unknown unit,
 * overflow).
 */
GANTRY_API int gantry_dockerfile_duration_parse(const char *s, size_t len, int64_t *ns,
                                                struct gantry_error **err) GANTRY_WUR;

/* ---- variables ---- */

/*
 * An ordered set of variables (name -> value, values never NULL). The
 * struct owns its strings; release with gantry_dockerfile_vars_release().
 */
struct gantry_dockerfile_vars {
    struct gantry_dockerfile_kv *items;
    size_t n_items;
};

#define GANTRY_DOCKERFILE_VARS_INIT                                                                \
    {                                                                                              \
        NULL, 0                                                                                    \
    }

/* Set key to value (copies both), replacing an existing entry in place. */
GANTRY_API void gantry_dockerfile_vars_set(struct gantry_dockerfile_vars *vars, const char *key,
                                           const char *value);
/* The value of key (borrowed), or NULL when unset. */
GANTRY_API const char *gantry_dockerfile_vars_get(const struct gantry_dockerfile_vars *vars,
                                                  const char *key);
/* Deep copy src into dst (dst is overwritten, not released). */
GANTRY_API void gantry_dockerfile_vars_copy(struct gantry_dockerfile_vars *dst,
                                            const struct gantry_dockerfile_vars *src);
/* Free the strings and reset to GANTRY_DOCKERFILE_VARS_INIT; NULL is a no-op. */
GANTRY_API void gantry_dockerfile_vars_release(struct gantry_dockerfile_vars *vars);

/*
 * Variable lookup for expansion: true and *value (borrowed until the next
 * change of the caller's data) when name is set, even to "", false when
 * unset. Names are case-sensitive.
 */
typedef bool (*gantry_dockerfile_lookup_fn)(void *user, const char *name, const char **value);

/* A lookup over a struct gantry_dockerfile_vars passed as user. */
GANTRY_API bool gantry_dockerfile_vars_lookup(void *user, const char *name, const char **value);

/* ---- expansion (BuildKit frontend/dockerfile/shell) ---- */

/*
 * Options of an expansion. The defaults (all zero) are what the builder
 * wants for ENV, COPY, WORKDIR...: backslash escape, quotes removed,
 * escapes processed, unset variables empty.
 */
struct gantry_dockerfile_expand_opts {
    gantry_dockerfile_lookup_fn lookup; /* NULL: every variable is unset */
    void *user;
    char escape;      /* the Dockerfile's escape character; 0 means '\\' */
    bool raw_quotes;  /* keep the quote characters in the result */
    bool raw_escapes; /* keep the escape characters in the result */
    bool skip_quotes; /* quotes are plain characters (heredoc bodies) */
    bool skip_unset;  /* write references to unset variables back as written */
};

/*
 * Expand word[0..len): $V, ${V}, ${V:-w}, ${V-w}, ${V:+w}, ${V+w},
 * ${V:?msg}, ${V?msg}, ${V#pat}, ${V##pat}, ${V%pat}, ${V%%pat},
 * ${V/pat/repl}, ${V//pat/repl}, single quotes (literal), double quotes
 * (only $, " and the escape character are special), escapes. The result
 * (caller frees with free()) keeps the whitespace of the word. opts may be
 * NULL. Errors: GANTRY_E_PARSE "failed to process 'WORD': <why>" for
 * unterminated quotes, "syntax error: bad substitution" (${}, ${{x},
 * ${:-x}), "syntax error: missing '}'", "unsupported modifier (:=) in
 * substitution", invalid patterns; GANTRY_E_INVALID_ARG for ${V?msg} and
 * ${V:?msg} ("V: is not allowed to be unset", or msg). A NUL byte in word
 * is an error.
 */
GANTRY_API int gantry_dockerfile_expand(const char *word, size_t len,
                                        const struct gantry_dockerfile_expand_opts *opts,
                                        char **out, struct gantry_error **err) GANTRY_WUR;

/*
 * Same, then split into words as BuildKit's ProcessWords (EXPOSE): white
 * space from expanded variables splits, quoted text never does, empty
 * quoted strings make no word. *words is an array of *n_words strings;
 * free with gantry_dockerfile_strv_free().
 */
GANTRY_API int gantry_dockerfile_expand_words(const char *word, size_t len,
                                              const struct gantry_dockerfile_expand_opts *opts,
                                              char ***words, size_t *n_words,
                                              struct gantry_error **err) GANTRY_WUR;

/* Free an array of n strings; NULL is a no-op. */
GANTRY_API void gantry_dockerfile_strv_free(char **v, size_t n);

/* ---- ARG scoping and the automatic platform ARGs ---- */

/*
 * Set BUILDPLATFORM, BUILDOS, BUILDARCH, BUILDVARIANT from build and
 * TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT from target in *out
 * (added or replaced). Platforms are formatted as gantry_platform_format()
 * does ("linux/arm/v7"); an absent variant is "". Never fails.
 */
GANTRY_API void gantry_dockerfile_platform_args(const struct gantry_platform *build,
                                                const struct gantry_platform *target,
                                                struct gantry_dockerfile_vars *out);

/*
 * The global scope, usable in FROM lines: the automatic platform ARGs
 * (a --build-arg of the same name overrides one), then every ARG before
 * the first FROM in order: its --build-arg when given, else its default
 * expanded in the scope so far (so "ARG TARGETARCH=amd64" overrides the
 * automatic value), else unchanged. Build args that no global ARG declares
 * stay out. build_args may be NULL. *out is overwritten; release it.
 * Errors: expansion errors with "<name>:<line>: ".
 */
GANTRY_API int gantry_dockerfile_global_scope(const struct gantry_dockerfile *df,
                                              const struct gantry_platform *build,
                                              const struct gantry_platform *target,
                                              const struct gantry_dockerfile_vars *build_args,
                                              struct gantry_dockerfile_vars *out,
                                              struct gantry_error **err) GANTRY_WUR;

/* What an ARG inside a stage sees (see gantry_dockerfile_stage_arg()). */
struct gantry_dockerfile_arg_opts {
    const struct gantry_dockerfile_vars *global;     /* gantry_dockerfile_global_scope() */
    const struct gantry_dockerfile_vars *build_args; /* --build-arg; may be NULL */
    gantry_dockerfile_lookup_fn lookup;              /* the stage's variables so far */
    void *user;
    char escape; /* the Dockerfile's escape character */
};

/*
 * The value of one "ARG NAME[=default]" inside a stage (an entry of the
 * instruction's kvs), BuildKit's rule: the --build-arg NAME when given;
 * else the default expanded with the stage's variables; else, for a bare
 * "ARG NAME", the global scope's NAME (a global ARG or an automatic
 * platform ARG: they are visible inside a stage only this way). *value
 * (caller frees) is NULL when the ARG has no value at all.
 * Errors: expansion errors of the default.
 */
GANTRY_API int gantry_dockerfile_stage_arg(const struct gantry_dockerfile_kv *arg,
                                           const struct gantry_dockerfile_arg_opts *opts,
                                           char **value, struct gantry_error **err) GANTRY_WUR;

/* ---- FROM resolution for one target platform ---- */

struct gantry_dockerfile_resolve_opts {
    const struct gantry_platform *build;             /* the build host; required */
    const struct gantry_platform *target;            /* the platform being built; required */
    const struct gantry_dockerfile_vars *build_args; /* may be NULL */
    const char *target_stage;                        /* --target; NULL means the last stage */
};

/* A COPY --from or RUN --mount from= source of a stage. */
struct gantry_dockerfile_source {
    size_t line;  /* the instruction's line */
    size_t stage; /* the stage it names, or GANTRY_DOCKERFILE_NO_STAGE */
    char *image;  /* the expanded image reference when not a stage */
};

struct gantry_dockerfile_resolved_stage {
    char *base;                      /* FROM expanded in the global scope */
    size_t base_stage;               /* an earlier stage it builds on, or NO_STAGE */
    bool scratch;                    /* FROM scratch */
    struct gantry_ref base_ref;      /* parsed base when an image */
    char *platform_expr;             /* --platform expanded, or NULL */
    struct gantry_platform platform; /* --platform parsed, else the target */
    struct gantry_dockerfile_source *sources;
    size_t n_sources;
    size_t *deps; /* stages needed first: base and sources, sorted, unique */
    size_t n_deps;
    bool needed; /* the target stage or one it depends on */
};

struct gantry_dockerfile_resolved {
    struct gantry_dockerfile_vars global;            /* the scope FROM lines saw */
    struct gantry_dockerfile_resolved_stage *stages; /* one per df stage */
    size_t n_stages;
    size_t target;   /* index of the target stage */
    char **warnings; /* e.g. a --from that looks like a misspelt stage */
    size_t n_warnings;
};

/*
 * Expand every FROM (base and --platform) in the global scope for the
 * given platforms and build args, find what each stage builds on (an
 * earlier stage by name, case-insensitive; "scratch"; or an image
 * reference), resolve COPY --from and RUN --mount from= (a stage name, a
 * stage index, or else an image), check the stage graph and mark the
 * stages the target needs. *out: caller frees with
 * gantry_dockerfile_resolved_free().
 * Errors ("<name>:<line>: ..."): expansion errors, "base name ... should
 * not be blank", an invalid image reference, an empty or invalid
 * --platform, an unknown stage index in --from (GANTRY_E_INVALID_ARG),
 * "circular dependency detected on stage 'x'" (GANTRY_E_INVALID_ARG), and
 * GANTRY_E_NOT_FOUND "target stage 'x' could not be found".
 */
GANTRY_API int gantry_dockerfile_resolve_from(const struct gantry_dockerfile *df,
                                              const struct gantry_dockerfile_resolve_opts *opts,
                                              struct gantry_dockerfile_resolved **out,
                                              struct gantry_error **err) GANTRY_WUR;

/* Free a resolution; NULL is a no-op. */
GANTRY_API void gantry_dockerfile_resolved_free(struct gantry_dockerfile_resolved *res);

/* ---- .dockerignore (moby/patternmatcher rules) ---- */

struct gantry_dockerignore;

/*
 * Read a .dockerignore: one pattern a line; lines starting with '#' are
 * comments; blank lines skipped; surrounding white space trimmed; a
 * leading '!' makes an exception (re-include); each pattern is cleaned as
 * Go's path.Clean and a leading '/' dropped ("./a" and "/a" are "a").
 * Patterns: '*' (any run of non-'/' characters), '?' (one non-'/'
 * character), '[...]' classes ('^' negates, ranges, '\' escapes), '**'
 * (any number of directories), '\' escapes. The last matching pattern
 * wins; a pattern matching a parent directory matches everything inside.
 * *out: free with gantry_dockerignore_free(). Errors (GANTRY_E_PARSE):
 * ".dockerignore:<line>: ..." for a line over 65535 bytes, a NUL byte, a
 * lone "!", a malformed pattern ("syntax error in pattern 'P'", also for a
 * reversed range such as "[z-a]").
 */
GANTRY_API int gantry_dockerignore_parse(const char *data, size_t len,
                                         struct gantry_dockerignore **out,
                                         struct gantry_error **err) GANTRY_WUR;

/*
 * A matcher from patterns given one by one (COPY --exclude), with
 * patternmatcher.New's rules (trimmed, cleaned, '!' exceptions, empty ones
 * skipped, no comment handling). Same errors, without a line number.
 */
GANTRY_API int gantry_dockerignore_new(const char *const *patterns, size_t n,
                                       struct gantry_dockerignore **out,
                                       struct gantry_error **err) GANTRY_WUR;

/* Free a matcher; NULL is a no-op. */
GANTRY_API void gantry_dockerignore_free(struct gantry_dockerignore *ig);

/* Number of patterns kept, and pattern i (borrowed, without its '!'). */
GANTRY_API size_t gantry_dockerignore_count(const struct gantry_dockerignore *ig);
GANTRY_API const char *gantry_dockerignore_pattern(const struct gantry_dockerignore *ig, size_t i,
                                                   bool *exception);

/*
 * Whether path (relative to the build context, '/'-separated; a leading
 * "/" or "./" is ignored, and it is cleaned) is excluded from the context:
 * the patterns in order, each tested on path and on its parent
 * directories, the last one that matches decides. The context root itself
 * is never excluded. Fails (GANTRY_E_INVALID_ARG) when path leaves the
 * context ("../x").
 */
GANTRY_API int gantry_dockerignore_matches(const struct gantry_dockerignore *ig, const char *path,
                                           bool *excluded, struct gantry_error **err) GANTRY_WUR;

/*
 * For an excluded directory dir: false when no exception pattern can
 * match anything inside it, so a walker may skip the whole directory;
 * true (conservative) when one might.
 */
GANTRY_API bool gantry_dockerignore_dir_may_reinclude(const struct gantry_dockerignore *ig,
                                                      const char *dir);

#ifdef __cplusplus
}
#endif
#endif
