/*
 * The os/arch pairs `manifest annotate` accepts: the union of the docker
 * CLI's list (cli/command/manifest/util.go, which keeps a few pairs Go has
 * since dropped: darwin/386, darwin/arm) and Go's own `go tool dist list`.
 */
#include "manifest_internal.h"

struct os_arch {
    const char *os;
    const char *arch;
};

static const struct os_arch valid_pairs[] = {
    {"aix", "ppc64"},     {"android", "386"},     {"android", "amd64"},   {"android", "arm"},
    {"android", "arm64"}, {"darwin", "386"},      {"darwin", "amd64"},    {"darwin", "arm"},
    {"darwin", "arm64"},  {"dragonfly", "amd64"}, {"freebsd", "386"},     {"freebsd", "amd64"},
    {"freebsd", "arm"},   {"freebsd", "arm64"},   {"freebsd", "riscv64"}, {"illumos", "amd64"},
    {"ios", "amd64"},     {"ios", "arm64"},       {"js", "wasm"},         {"linux", "386"},
    {"linux", "amd64"},   {"linux", "arm"},       {"linux", "arm64"},     {"linux", "loong64"},
    {"linux", "mips"},    {"linux", "mips64"},    {"linux", "mips64le"},  {"linux", "mipsle"},
    {"linux", "ppc64"},   {"linux", "ppc64le"},   {"linux", "riscv64"},   {"linux", "s390x"},
    {"netbsd", "386"},    {"netbsd", "amd64"},    {"netbsd", "arm"},      {"netbsd", "arm64"},
    {"openbsd", "386"},   {"openbsd", "amd64"},   {"openbsd", "arm"},     {"openbsd", "arm64"},
    {"openbsd", "ppc64"}, {"openbsd", "riscv64"}, {"plan9", "386"},       {"plan9", "amd64"},
    {"plan9", "arm"},     {"solaris", "amd64"},   {"wasip1", "wasm"},     {"windows", "386"},
    {"windows", "amd64"}, {"windows", "arm"},     {"windows", "arm64"},
};

bool gantry_manifest_os_arch_valid(const char *os, const char *arch)
{
    if (!os || !arch)
        return false;
    for (size_t i = 0; i < ARRAY_SIZE(valid_pairs); i++)
        if (strcmp(valid_pairs[i].os, os) == 0 && strcmp(valid_pairs[i].arch, arch) == 0)
            return true;
    return false;
}
