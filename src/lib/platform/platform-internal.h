/* Shared by the platform module's files and its unit tests; not installed. */
#ifndef GANTRY_PLATFORM_INTERNAL_H
#define GANTRY_PLATFORM_INTERNAL_H

#include <gantry/platform.h>

static inline void platform_cleanup(struct gantry_platform *p)
{
    gantry_platform_release(p);
}
#define _cleanup_platform_ __attribute__((cleanup(platform_cleanup)))

/*
 * gantry_platform_parse with an explicit host for the parts a one-component
 * specifier leaves out; host == NULL means gantry_platform_host().
 */
int platform_parse_with_host(const char *s, size_t len, const struct gantry_platform *host,
                             struct gantry_platform *out, struct gantry_error **err) GANTRY_WUR;

/* A copy of src into dst, normalized: what comparisons work on. */
void platform_copy_normalized(struct gantry_platform *dst, const struct gantry_platform *src);

/* uname's sysname and machine to a normalized platform ("Linux", "armv7l"). */
void platform_from_uname(const char *sysname, const char *machine, struct gantry_platform *out);

/*
 * The host platform for places that cannot fail (normalizing an absent
 * OS): GANTRY_HOST_PLATFORM if it parses, else uname, else linux.
 */
void platform_host_lenient(struct gantry_platform *out);

/* Windows OS versions compatible per containerd's rules (host runs ctr). */
bool platform_windows_compatible(const char *host_version, const char *ctr_version);

#endif
