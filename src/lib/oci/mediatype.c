/* Media type classification: OCI image-spec, Docker v2 schema 2, schema 1. */
#include <strings.h>

#include "oci_internal.h"

/* Start and length of the type/subtype part, without parameters or blanks. */
static const char *mt_base(const char *mt, size_t *len)
{
    while (*mt == ' ' || *mt == '\t')
        mt++;
    size_t n = strcspn(mt, ";");
    while (n > 0 && (mt[n - 1] == ' ' || mt[n - 1] == '\t'))
        n--;
    *len = n;
    return mt;
}

bool gantry_oci_media_type_equal(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    size_t la, lb;
    a = mt_base(a, &la);
    b = mt_base(b, &lb);
    return la == lb && strncasecmp(a, b, la) == 0;
}

char *oci_mt_dup(const char *media_type)
{
    size_t n;
    const char *b = mt_base(media_type, &n);
    return xstrndup(b, n);
}

static bool mt_in(const char *mt, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (gantry_oci_media_type_equal(mt, list[i]))
            return true;
    return false;
}

bool gantry_oci_is_index_type(const char *media_type)
{
    static const char *const types[] = {GANTRY_MT_OCI_INDEX, GANTRY_MT_DOCKER_MANIFEST_LIST};
    return mt_in(media_type, types, ARRAY_SIZE(types));
}

bool gantry_oci_is_manifest_type(const char *media_type)
{
    static const char *const types[] = {GANTRY_MT_OCI_MANIFEST, GANTRY_MT_DOCKER_MANIFEST};
    return mt_in(media_type, types, ARRAY_SIZE(types));
}

bool gantry_oci_is_config_type(const char *media_type)
{
    static const char *const types[] = {GANTRY_MT_OCI_CONFIG, GANTRY_MT_DOCKER_CONFIG};
    return mt_in(media_type, types, ARRAY_SIZE(types));
}

bool gantry_oci_is_schema1_type(const char *media_type)
{
    static const char *const types[] = {GANTRY_MT_DOCKER_SCHEMA1, GANTRY_MT_DOCKER_SCHEMA1_SIGNED};
    return mt_in(media_type, types, ARRAY_SIZE(types));
}

enum gantry_oci_compression gantry_oci_layer_compression(const char *media_type)
{
    static const char *const tar[] = {GANTRY_MT_OCI_LAYER, GANTRY_MT_OCI_LAYER_ND,
                                      GANTRY_MT_DOCKER_LAYER};
    static const char *const gzip[] = {GANTRY_MT_OCI_LAYER_GZIP, GANTRY_MT_OCI_LAYER_ND_GZIP,
                                       GANTRY_MT_DOCKER_LAYER_GZIP, GANTRY_MT_DOCKER_LAYER_FOREIGN};
    static const char *const zstd[] = {GANTRY_MT_OCI_LAYER_ZSTD, GANTRY_MT_OCI_LAYER_ND_ZSTD,
                                       GANTRY_MT_DOCKER_LAYER_ZSTD};
    if (mt_in(media_type, tar, ARRAY_SIZE(tar)))
        return GANTRY_OCI_COMPRESSION_NONE;
    if (mt_in(media_type, gzip, ARRAY_SIZE(gzip)))
        return GANTRY_OCI_COMPRESSION_GZIP;
    if (mt_in(media_type, zstd, ARRAY_SIZE(zstd)))
        return GANTRY_OCI_COMPRESSION_ZSTD;
    return GANTRY_OCI_COMPRESSION_UNKNOWN;
}

bool gantry_oci_is_layer_type(const char *media_type)
{
    return gantry_oci_layer_compression(media_type) != GANTRY_OCI_COMPRESSION_UNKNOWN;
}
