/*
 * The host platform (uname, or GANTRY_HOST_PLATFORM) and Windows OS
 * version compatibility.
 */
#include <stdbool.h>
#include <sys/utsname.h>

#include "platform-internal.h"
#include "util.h"

/* uname -m to Go's GOARCH (and GOARM as a variant). */
static const struct {
    const char *machine;
    const char *arch;
    const char *variant;
} machines[] = {
    {"x86_64", "amd64", NULL},    {"amd64", "amd64", NULL},
    {"i386", "386", NULL},        {"i486", "386", NULL},
    {"i586", "386", NULL},        {"i686", "386", NULL},
    {"aarch64", "arm64", NULL},   {"arm64", "arm64", NULL},
    {"armv8l", "arm", "v8"},      {"armv7l", "arm", "v7"},
    {"armv7", "arm", "v7"},       {"armv6l", "arm", "v6"},
    {"armv5tel", "arm", "v5"},    {"armv5tejl", "arm", "v5"},
    {"armv5l", "arm", "v5"},      {"ppc64le", "ppc64le", NULL},
    {"ppc64", "ppc64", NULL},     {"s390x", "s390x", NULL},
    {"riscv64", "riscv64", NULL}, {"loongarch64", "loong64", NULL},
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    {"mips64", "mips64le", NULL}, {"mips", "mipsle", NULL},
#else
    {"mips64", "mips64", NULL},   {"mips", "mips", NULL},
#endif
};

void platform_from_uname(const char *sysname, const char *machine, struct gantry_platform *out)
{
    *out = (struct gantry_platform)GANTRY_PLATFORM_INIT;
    out->os = xstrdup(sysname && *sysname ? sysname : "linux");
    out->architecture = xstrdup(machine && *machine ? machine : "unknown");
    for (size_t i = 0; i < ARRAY_SIZE(machines); i++) {
        if (machine && strcmp(machine, machines[i].machine) == 0) {
            free(out->architecture);
            out->architecture = xstrdup(machines[i].arch);
            out->variant = machines[i].variant ? xstrdup(machines[i].variant) : NULL;
            break;
        }
    }
    gantry_platform_normalize(out);
}

int gantry_platform_host(struct gantry_platform *out, struct gantry_error **err)
{
    struct utsname u;
    _cleanup_platform_ struct gantry_platform un = GANTRY_PLATFORM_INIT;
    *out = (struct gantry_platform)GANTRY_PLATFORM_INIT;
    if (uname(&u) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "uname");
    platform_from_uname(u.sysname, u.machine, &un);
    const char *env = getenv(GANTRY_HOST_PLATFORM_ENV);
    if (!env || !*env) {
        *out = un;
        un = (struct gantry_platform)GANTRY_PLATFORM_INIT;
        return 0;
    }
    if (platform_parse_with_host(env, strlen(env), &un, out, err) < 0)
        return gantry_error_prefix(err, "environment variable %s", GANTRY_HOST_PLATFORM_ENV);
    return 0;
}

void platform_host_lenient(struct gantry_platform *out)
{
    struct utsname u;
    if (gantry_platform_host(out, NULL) == 0)
        return;
    if (uname(&u) == 0)
        platform_from_uname(u.sysname, u.machine, out);
    else
        platform_from_uname("linux", NULL, out);
}

struct windows_version {
    unsigned major, minor, build;
};

static bool parse_uint(const char **s, unsigned max, unsigned *out)
{
    unsigned long v = 0;
    const char *p = *s;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > max)
            return false;
    }
    *s = p;
    *out = (unsigned)v;
    return true;
}

/* "major.minor.build[.revision]" (uint8, uint8, uint16); all zero if not. */
static struct windows_version windows_version(const char *v)
{
    struct windows_version w = {0, 0, 0};
    if (!v || !parse_uint(&v, 255, &w.major) || *v++ != '.' || !parse_uint(&v, 255, &w.minor) ||
        *v++ != '.' || !parse_uint(&v, 65535, &w.build) || (*v && *v != '.'))
        return (struct windows_version){0, 0, 0};
    return w;
}

/*
 * containerd's checkWindowsHostAndContainerCompat: same major.minor; a
 * host before Windows Server 2022 (build 20348) runs only its own build,
 * later hosts run builds from 20348 up to their own (stable ABI).
 */
bool platform_windows_compatible(const char *host_version, const char *ctr_version)
{
    enum { LTSC2022 = 20348 };
    struct windows_version h = windows_version(host_version);
    if ((h.major == 0 && h.minor == 0 && h.build == 0) || !ctr_version || !*ctr_version)
        return true;
    struct windows_version c = windows_version(ctr_version);
    if (h.major != c.major || h.minor != c.minor)
        return false;
    if (h.build < LTSC2022)
        return h.build == c.build;
    return c.build >= LTSC2022 && c.build <= h.build;
}
