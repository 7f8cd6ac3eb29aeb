/* gantry images (ls, list): the named images of the store. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include <gantry/image.h>
#include <gantry/store.h>

#include "cli.h"
#include "output.h"
#include "util.h"

static const char help[] =
    "Usage: gantry images [OPTIONS] [REPOSITORY[:TAG]]\n"
    "\n"
    "List the images of the store, one line per name, sorted by name. With\n"
    "REPOSITORY only the names of that repository are shown (all its tags\n"
    "unless TAG is given).\n"
    "\n"
    "Columns: REPOSITORY, TAG, IMAGE ID (the config digest of a single-platform\n"
    "image, the index digest of a multi-platform one), PLATFORMS (a platform\n"
    "whose manifest, config or layers are not all stored is marked\n"
    "'(missing)'), SIZE (the image's blobs in the store) and CREATED.\n"
    "\n"
    "Options:\n"
    "      --digests         Show the manifest or index digest\n"
    "      --format FORMAT   'table', 'table TEMPLATE', 'json' or a Go template;\n"
    "                        fields: .Repository .Tag .Digest .ID .Platforms\n"
    "                        .Size .CreatedAt .CreatedSince\n"
    "      --no-trunc        Do not shorten image ids\n"
    "  -q, --quiet           Only show image ids\n"
    "  -h, --help            Show this help\n"
    "\n"
    "Aliases: gantry ls, gantry list\n";

static const char table_plain[] = "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.Platforms}}"
                                  "\\t{{.Size}}\\t{{.CreatedSince}}";
static const char table_digests[] = "table {{.Repository}}\\t{{.Tag}}\\t{{.Digest}}\\t{{.ID}}"
                                    "\\t{{.Platforms}}\\t{{.Size}}\\t{{.CreatedSince}}";

struct images_args {
    bool quiet, digests, no_trunc;
    const char *format;
    const char *filter;
};

static int parse_args(int argc, char **argv, struct images_args *a)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"digests", no_argument, NULL, 'd'},
        {"no-trunc", no_argument, NULL, 'n'},
        {"format", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
        if (c == 'q')
            a->quiet = true;
        else if (c == 'd')
            a->digests = true;
        else if (c == 'n')
            a->no_trunc = true;
        else if (c == 'f')
            a->format = optarg;
        else
            return cli_option_error("images", c, argv);
    }
    if (argc - optind > 1)
        return cli_usage_error("images", "'images' takes at most one REPOSITORY[:TAG]");
    a->filter = optind < argc ? argv[optind] : NULL;
    return 0;
}

static char *short_id(const char *id, bool no_trunc)
{
    const char *hex = strchr(id, ':');
    return no_trunc || !hex ? xstrdup(id) : xstrndup(hex + 1, 12);
}

static char *platforms_string(const struct gantry_image_summary *m)
{
    struct gantry_buf b = GANTRY_BUF_INIT;
    for (size_t i = 0; i < m->n_platforms; i++)
        if (gantry_buf_addf(&b, "%s%s%s", i ? "," : "", m->platforms[i].name,
                            m->platforms[i].present ? "" : "(missing)") < 0)
            oom();
    return gantry_buf_detach(&b, NULL);
}

/* The template data of one row: every value is a string, as in docker. */
static json_t *row_json(const struct gantry_image_summary *m, bool no_trunc)
{
    char size[32];
    cli_human_size(m->size, size, sizeof(size));
    _cleanup_free_ char *id = short_id(m->id, no_trunc);
    _cleanup_free_ char *plats = platforms_string(m);
    _cleanup_free_ char *at = cli_time_string(m->created);
    _cleanup_free_ char *since = cli_time_since(m->created);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Repository", m->repository, "Tag",
                     m->tag ? m->tag : "<none>", "Digest", m->digest, "ID", id, "Platforms", plats,
                     "Size", size, "CreatedAt", at, "CreatedSince", since);
}

static int print_rows(const struct gantry_image_list *l, const struct images_args *a)
{
    json_t *headers =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Repository", "REPOSITORY", "Tag",
                  "TAG", "Digest", "DIGEST", "ID", "IMAGE ID", "Platforms", "PLATFORMS", "Size",
                  "SIZE", "CreatedAt", "CREATED AT", "CreatedSince", "CREATED");
    struct cli_output out;
    struct gantry_error *err = NULL;
    int rc =
        cli_output_init(&out, a->format, a->digests ? table_digests : table_plain, headers, &err);
    json_decref(headers);
    for (size_t i = 0; rc == 0 && i < l->n_items; i++) {
        json_t *row = row_json(&l->items[i], a->no_trunc);
        rc = cli_output_row(&out, row, &err);
        json_decref(row);
    }
    cli_output_flush(&out, stdout);
    cli_output_release(&out);
    return rc < 0 ? cli_fail(err) : 0;
}

int cmd_images(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help))
        return 0;
    struct images_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc;
    struct gantry_error *err = NULL;
    struct gantry_store *s = cli_open_store(&err);
    if (!s)
        return cli_fail(err);
    struct gantry_image_list l = {0};
    rc = gantry_image_list(s, a.filter, &l, &err);
    gantry_store_free(s);
    if (rc < 0)
        return cli_fail(err);
    if (a.quiet) {
        for (size_t i = 0; i < l.n_items; i++) {
            _cleanup_free_ char *id = short_id(l.items[i].id, a.no_trunc);
            printf("%s\n", id);
        }
    } else {
        rc = print_rows(&l, &a);
    }
    gantry_image_list_release(&l);
    return rc;
}
