/*
 * Internal helpers of the oci module: loading documents with the I-JSON
 * rules, typed member access, tree building. jansson stays inside oci/.
 */
#ifndef GANTRY_OCI_INTERNAL_H
#define GANTRY_OCI_INTERNAL_H

#include <jansson.h>

#include <gantry/oci.h>

#include "util.h"

static inline void cleanup_jsonp(json_t **j)
{
    json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

/* Free a NULL-terminated string array (NULL is a no-op). */
void oci_strv_free(char **v);
static inline void cleanup_strvp(char ***v)
{
    oci_strv_free(*v);
}
#define _cleanup_strv_ __attribute__((cleanup(cleanup_strvp)))

/* load.c: documents */

/*
 * Parse bytes as one JSON value: at most GANTRY_MANIFEST_MAX bytes, no
 * BOM, valid UTF-8, no escaped NUL, no duplicate keys, nesting within jansson's
 * JSON_PARSER_MAX_DEPTH, nothing after the value.
 */
json_t *oci_load_value(const char *data, size_t len, struct gantry_error **err);
/* oci_load_value, and the value must be an object. */
json_t *oci_load(const char *data, size_t len, struct gantry_error **err);
/*
 * Work out the kind of a loaded document (see gantry_oci_detect). *type is
 * the effective media type (borrowed from root or expected) or NULL.
 */
int oci_classify(json_t *root, const char *expected, enum gantry_oci_kind *kind, const char **type,
                 struct gantry_error **err);
int oci_check_schema_version(json_t *root, struct gantry_error **err);
/* Append the canonical (compact, sorted keys) JSON of root to out. */
int oci_dump(const json_t *root, struct gantry_buf *out, struct gantry_error **err);
/*
 * Append the compact JSON of root to out with extra jansson dump flags:
 * 0 keeps members in insertion order (a format with a fixed member order).
 */
int oci_dump_flags(const json_t *root, size_t flags, struct gantry_buf *out,
                   struct gantry_error **err);
/* Copy a media type without parameters or surrounding blanks. */
char *oci_mt_dup(const char *media_type);
/* Keep a copy of the exact bytes and their sha256. */
void oci_keep_raw(const char *data, size_t len, char **raw, size_t *raw_len,
                  char digest[GANTRY_DIGEST_MAX]);
/* Change the code of *err (if any) and return -1. */
int oci_recode(struct gantry_error **err, enum gantry_error_code code);

/* fields.c: typed access; absent and null members are the same */

json_t *oci_member(json_t *obj, const char *key);
int oci_get_string(json_t *obj, const char *key, bool required, char **out,
                   struct gantry_error **err);
int oci_get_strv(json_t *obj, const char *key, char ***out, size_t *n, struct gantry_error **err);
int oci_get_kv(json_t *obj, const char *key, struct gantry_oci_kv **out, size_t *n,
               struct gantry_error **err);
int oci_get_keys(json_t *obj, const char *key, char ***out, size_t *n, struct gantry_error **err);

char **oci_strv_dup(char *const *v, size_t n);
void oci_strv_push(char ***v, size_t *n, const char *s);
struct gantry_oci_kv *oci_kv_dup(const struct gantry_oci_kv *kv, size_t n);
void oci_kv_free(struct gantry_oci_kv *kv, size_t n);

/*
 * Tree building. Setters never fail midway: a string that is not valid
 * UTF-8 marks the builder failed (with the key), checked once at the end.
 */
struct oci_tree {
    bool failed;
    char bad_key[64];
};
json_t *oci_str(struct oci_tree *t, const char *key, const char *s);
void oci_set(struct oci_tree *t, json_t *obj, const char *key, json_t *value);
/* v NULL deletes the member. */
void oci_set_string(struct oci_tree *t, json_t *obj, const char *key, const char *v);
/* v NULL deletes the member; otherwise an array (maybe empty). */
void oci_set_strv(struct oci_tree *t, json_t *obj, const char *key, char *const *v, size_t n);
/* v NULL deletes the member; otherwise an object with {} values. */
void oci_set_keys(struct oci_tree *t, json_t *obj, const char *key, char *const *v, size_t n);
/* n == 0 deletes the member. */
void oci_set_kv(struct oci_tree *t, json_t *obj, const char *key, const struct gantry_oci_kv *kv,
                size_t n);
/* Fails with GANTRY_E_INVALID_ARG when t->failed. */
int oci_tree_check(const struct oci_tree *t, struct gantry_error **err);

/* descriptor.c */

int oci_descriptor_from_json(json_t *obj, struct gantry_oci_descriptor *out,
                             struct gantry_error **err);
int oci_descriptors_from_json(json_t *arr, const char *key, struct gantry_oci_descriptor **out,
                              size_t *n, struct gantry_error **err);
json_t *oci_descriptor_to_tree(struct oci_tree *t, const struct gantry_oci_descriptor *d);
json_t *oci_descriptors_to_tree(struct oci_tree *t, const struct gantry_oci_descriptor *d,
                                size_t n);
void oci_descriptors_free(struct gantry_oci_descriptor *d, size_t n);
void oci_descriptor_push(struct gantry_oci_descriptor **v, size_t *n,
                         const struct gantry_oci_descriptor *d);

/*
 * The members shared by manifests and indexes: artifactType, subject,
 * annotations. Read from root, and written back into a tree.
 */
struct oci_common {
    char **artifact_type;
    struct gantry_oci_descriptor **subject;
    struct gantry_oci_kv **annotations;
    size_t *n_annotations;
};
int oci_common_from_json(json_t *root, const struct oci_common *c, struct gantry_error **err);
/*
 * oci_load, and the document must be of kind want (an index or a
 * manifest): the parse of both. *type as for oci_classify, borrowed from
 * the returned value or expected.
 */
json_t *oci_load_kind(const char *data, size_t len, const char *expected, enum gantry_oci_kind want,
                      const char **type, struct gantry_error **err);
/*
 * Append the canonical JSON of tree, built with t, to b: the rendering of
 * manifests, indexes and configs. Errors (a string the tree refused, b's
 * cap) are prefixed with what ("manifest").
 */
int oci_render_tree(const struct oci_tree *t, const json_t *tree, const char *what,
                    struct gantry_buf *b, struct gantry_error **err);
/* Append the bytes of b to out (GANTRY_E_TOO_LARGE past out->cap). */
int oci_buf_append(struct gantry_buf *out, const struct gantry_buf *b, struct gantry_error **err);
void oci_common_to_tree(struct oci_tree *t, json_t *root, const char *artifact_type,
                        const struct gantry_oci_descriptor *subject,
                        const struct gantry_oci_kv *annotations, size_t n_annotations);

#endif
