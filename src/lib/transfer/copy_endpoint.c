/*
 * `copy` endpoints: skopeo's transport syntax ("docker://", "oci:DIR:REF",
 * ...) parsed without looking anything up.
 */
#include <ctype.h>

#include <gantry/ref.h>
#include <gantry/transfer.h>

#include "util.h"

#define TRANSPORTS "want docker://, gantry:, oci: or oci-archive:"

/* A reference for a registry or the store: must parse, kept as written. */
static int endpoint_ref(const char *s, size_t len, const char *whole,
                        struct gantry_transfer_endpoint *out, struct gantry_error **err)
{
    if (len == 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "missing image reference in '%s'",
                                whole);
    struct gantry_ref r = GANTRY_REF_INIT;
    if (gantry_ref_parse(s, len, &r, err) < 0)
        return -1;
    gantry_ref_release(&r);
    out->ref = xstrndup(s, len);
    return 0;
}

/* "PATH[:REF]", split at the first ':' as skopeo does. */
static int endpoint_layout(const char *s, size_t len, const char *whole,
                           struct gantry_transfer_endpoint *out, struct gantry_error **err)
{
    const char *colon = memchr(s, ':', len);
    size_t plen = colon ? (size_t)(colon - s) : len;
    if (plen == 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "missing path in '%s'", whole);
    out->path = xstrndup(s, plen);
    if (colon && colon + 1 < s + len)
        out->ref = xstrndup(colon + 1, len - plen - 1);
    return 0;
}

/* The transport word before the first ':' ("" when it is not one). */
static size_t transport_len(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (islower((unsigned char)s[i]) || s[i] == '-'))
        i++;
    return i < len && s[i] == ':' ? i : 0;
}

static int endpoint_bare(const char *s, size_t len, const char *whole,
                         struct gantry_transfer_endpoint *out, struct gantry_error **err)
{
    struct gantry_ref r = GANTRY_REF_INIT;
    struct gantry_error *e = NULL;
    int rc = gantry_ref_parse(s, len, &r, &e);
    gantry_ref_release(&r);
    if (rc == 0) {
        out->kind = GANTRY_TRANSFER_REGISTRY;
        out->ref = xstrndup(s, len);
        return 0;
    }
    size_t t = transport_len(s, len);
    if (t > 0) {
        gantry_error_free(e);
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "unknown transport '%.*s' in '%s' (" TRANSPORTS ")", (int)t, s,
                                whole);
    }
    if (err) {
        gantry_error_free(*err);
        *err = e;
    } else {
        gantry_error_free(e);
    }
    return -1;
}

int gantry_transfer_endpoint_parse(const char *s, size_t len, struct gantry_transfer_endpoint *out,
                                   struct gantry_error **err)
{
    *out = (struct gantry_transfer_endpoint){0};
    _cleanup_free_ char *whole = xstrndup(s, len);
    int rc;
    if (len >= 9 && memcmp(s, "docker://", 9) == 0) {
        out->kind = GANTRY_TRANSFER_REGISTRY;
        rc = endpoint_ref(s + 9, len - 9, whole, out, err);
    } else if (len >= 7 && memcmp(s, "gantry:", 7) == 0) {
        out->kind = GANTRY_TRANSFER_STORE;
        rc = endpoint_ref(s + 7, len - 7, whole, out, err);
    } else if (len >= 4 && memcmp(s, "oci:", 4) == 0) {
        out->kind = GANTRY_TRANSFER_OCI_DIR;
        rc = endpoint_layout(s + 4, len - 4, whole, out, err);
    } else if (len >= 12 && memcmp(s, "oci-archive:", 12) == 0) {
        out->kind = GANTRY_TRANSFER_OCI_ARCHIVE;
        rc = endpoint_layout(s + 12, len - 12, whole, out, err);
    } else {
        rc = endpoint_bare(s, len, whole, out, err);
    }
    if (rc < 0)
        gantry_transfer_endpoint_release(out);
    return rc;
}

void gantry_transfer_endpoint_release(struct gantry_transfer_endpoint *e)
{
    if (!e)
        return;
    free(e->ref);
    free(e->path);
    *e = (struct gantry_transfer_endpoint){0};
}
