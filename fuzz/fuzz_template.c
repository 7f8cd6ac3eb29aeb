/*
 * libFuzzer target for the template module: arbitrary bytes are parsed as
 * a --format template and, when they parse, executed over a small
 * Docker-inspect-shaped value with a capped output buffer. Any crash,
 * sanitizer report, or an error without a message is a bug.
 *
 * Build (clang only): cmake -DCMAKE_C_COMPILER=clang ... --target fuzz_template
 * Run: ./fuzz_template -max_len=256 corpus/
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <gantry/template.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Arrays hold at most two elements and inputs are capped at 256 bytes, so
 * nested ranges stay cheap: 2^12 iterations at worst, not 3^100.
 */
static const char sample_json[] =
    "{\"Id\":\"sha256:0545\",\"RepoTags\":[\"alpine:3.19\",\"alpine:latest\"],"
    "\"RepoDigests\":[],\"Size\":7377670,\"Ratio\":1.5e9,\"Small\":1e-7,\"Variant\":\"\","
    "\"Architecture\":\"amd64\",\"Os\":\"linux\",\"Null\":null,\"Yes\":true,"
    "\"Config\":{\"Env\":[\"PATH=/bin\",\"A=<&>\"],\"Cmd\":[\"/bin/sh\"],\"Entrypoint\":null,"
    "\"Labels\":{\"org.opencontainers.image.source\":\"https://x\",\"b\":\"\\u00e9\\u2028\"}},"
    "\"RootFS\":{\"Type\":\"layers\",\"Layers\":[\"sha256:d4fc\",{\"n\":[1,2.5]}]}}";

static json_t *sample(void)
{
    static json_t *v;
    if (!v)
        v = json_loads(sample_json, 0, NULL);
    if (!v)
        abort();
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    struct gantry_error *err = NULL;
    struct gantry_template *t = gantry_template_parse((const char *)data, size, &err);
    if (!t) {
        if (!err || !err->message || strncmp(err->message, "template: ", 10) != 0)
            abort();
        gantry_error_free(err);
        return 0;
    }
    if (err)
        abort();
    struct gantry_buf out = GANTRY_BUF_INIT_CAP(1u << 20);
    int r = gantry_template_execute(t, sample(), &out, &err);
    if ((r < 0) != (err != NULL) || (err && !err->message))
        abort();
    if (out.data[out.len] != '\0')
        abort();
    gantry_buf_release(&out);
    gantry_error_free(err);
    gantry_template_free(t);
    return 0;
}
