/*
 * Per-registry TLS material, Docker's layout: <certs_dir>/<host[:port]>/
 * holds CA certificates (*.crt), added to the system CAs, and client
 * certificate pairs (x.cert with x.key).
 */
#include <dirent.h>
#include <sys/stat.h>

#include "registry_internal.h"

#define CA_MAX (16u * 1024u * 1024u)

static void cleanup_dirp(DIR **d)
{
    if (*d)
        closedir(*d);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static const char *system_bundle(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    if (v && v->cainfo && access(v->cainfo, R_OK) == 0)
        return v->cainfo;
    return "/etc/ssl/certs/ca-certificates.crt";
}

static int add_file(struct gantry_buf *b, const char *path, struct gantry_error **err)
{
    if (gantry_buf_read_file(b, path, err) < 0)
        return -1;
    if (b->len && b->data[b->len - 1] != '\n' && gantry_buf_add(b, "\n", 1) < 0)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "'%s': too many certificates", path);
    return 0;
}

/* A client certificate x.cert needs its x.key, as Docker requires. */
static int add_client_pair(struct reg_host *h, const char *dir, const char *name,
                           struct gantry_error **err)
{
    _cleanup_free_ char *cert = xasprintf("%s/%s", dir, name);
    _cleanup_free_ char *key = xasprintf("%s/%.*s.key", dir, (int)(strlen(name) - 5), name);
    if (access(key, R_OK) != 0)
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                                "client certificate '%s' has no key '%s'", cert, key);
    if (!h->client_cert) {
        h->client_cert = steal_pointer(&cert);
        h->client_key = steal_pointer(&key);
    }
    return 0;
}

int reg_host_load_certs(struct reg_host *h, const char *certs_dir, struct gantry_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/%s", certs_dir, h->name);
    __attribute__((cleanup(cleanup_dirp))) DIR *d = opendir(dir);
    if (!d)
        return 0; /* nothing configured for this host */
    _cleanup_buf_ struct gantry_buf ca = GANTRY_BUF_INIT_CAP(CA_MAX);
    bool extra = false;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (ends_with(e->d_name, ".crt")) {
            if (!extra && add_file(&ca, system_bundle(), NULL) < 0)
                gantry_buf_reset(&ca); /* no system bundle: only the host's CAs */
            _cleanup_free_ char *p = xasprintf("%s/%s", dir, e->d_name);
            if (add_file(&ca, p, err) < 0)
                return -1;
            extra = true;
        } else if (ends_with(e->d_name, ".cert") && add_client_pair(h, dir, e->d_name, err) < 0) {
            return -1;
        }
    }
    if (extra)
        h->ca_blob = gantry_buf_detach(&ca, &h->ca_len);
    return 0;
}
