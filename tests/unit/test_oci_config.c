/*
 * Unit tests for the Docker extensions of the image config model:
 * Healthcheck (nanosecond durations, omitempty), OnBuild and Shell parse,
 * edit and serialize round trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <gantry/oci.h>

#include "util.h"

#define ROOTFS "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}"
#define HEAD "{\"os\":\"linux\",\"architecture\":\"amd64\"," ROOTFS

static const char docker_doc[] =
    HEAD ",\"config\":{\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"curl -f localhost\"],"
         "\"Interval\":30000000000,\"Timeout\":5000000000,\"StartPeriod\":1000000000,"
         "\"StartInterval\":2000000000,\"Retries\":3,\"X-Extra\":1},"
         "\"OnBuild\":[\"COPY . /app\",\"ENV A=b\"],\"Shell\":[\"/bin/bash\",\"-c\"]}}";

static struct gantry_oci_config *parse_ok(const char *doc)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_config *c = gantry_oci_config_parse(doc, strlen(doc), &err);
    if (!c)
        fail_msg("%s", err->message);
    return c;
}

static void test_oci_config__docker_members_parse(void **state)
{
    (void)state;
    struct gantry_oci_config *c = parse_ok(docker_doc);
    const struct gantry_oci_healthcheck *h = c->config.healthcheck;
    assert_non_null(h);
    assert_int_equal(h->n_test, 2);
    assert_string_equal(h->test[0], "CMD-SHELL");
    assert_string_equal(h->test[1], "curl -f localhost");
    assert_true(h->interval == 30000000000LL);
    assert_true(h->timeout == 5000000000LL);
    assert_true(h->start_period == 1000000000LL);
    assert_true(h->start_interval == 2000000000LL);
    assert_int_equal(h->retries, 3);
    assert_int_equal(c->config.n_on_build, 2);
    assert_string_equal(c->config.on_build[1], "ENV A=b");
    assert_int_equal(c->config.n_shell, 2);
    assert_string_equal(c->config.shell[0], "/bin/bash");
    gantry_oci_config_free(c);
}

static void test_oci_config__absent_and_null(void **state)
{
    (void)state;
    struct gantry_oci_config *c =
        parse_ok(HEAD ",\"config\":{\"Healthcheck\":null,\"OnBuild\":null,\"Shell\":null}}");
    assert_null(c->config.healthcheck);
    assert_null(c->config.on_build);
    assert_null(c->config.shell);
    gantry_oci_config_free(c);
}

static void expect_parse_error(const char *doc, const char *want)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_config *c = gantry_oci_config_parse(doc, strlen(doc), &err);
    assert_null(c);
    assert_int_equal(err->code, GANTRY_E_PARSE);
    if (!strstr(err->message, want))
        fail_msg("'%s' does not contain '%s'", err->message, want);
}

static void test_oci_config__bad_members(void **state)
{
    (void)state;
    expect_parse_error(HEAD ",\"config\":{\"Healthcheck\":[]}}", "'Healthcheck' must be an object");
    expect_parse_error(HEAD ",\"config\":{\"Healthcheck\":{\"Interval\":\"30s\"}}}",
                       "config: Healthcheck: 'Interval' must be an integer");
    expect_parse_error(HEAD ",\"config\":{\"Healthcheck\":{\"Test\":\"CMD\"}}}",
                       "'Test' must be an array of strings");
    expect_parse_error(HEAD ",\"config\":{\"OnBuild\":[1]}}", "OnBuild");
    expect_parse_error(HEAD ",\"config\":{\"Shell\":\"sh\"}}", "Shell");
}

/* Parse, serialize, parse: every member survives; unknown members stay. */
static void test_oci_config__round_trip(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_config *c = parse_ok(docker_doc);
    assert_int_equal(gantry_oci_config_serialize(c, &err), 0);
    assert_non_null(strstr(c->raw, "\"X-Extra\":1"));
    struct gantry_oci_config *d = parse_ok(c->raw);
    assert_true(d->config.healthcheck->interval == 30000000000LL);
    assert_int_equal(d->config.healthcheck->retries, 3);
    assert_string_equal(d->config.on_build[0], "COPY . /app");
    assert_string_equal(d->config.shell[1], "-c");
    gantry_oci_config_free(c);
    gantry_oci_config_free(d);
}

/* Set from scratch as the builder does: zero durations are left out. */
static void test_oci_config__set_and_omit_zero(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_config *c = gantry_oci_config_new("linux", "amd64", NULL);
    struct gantry_oci_healthcheck h = {.interval = 10000000000LL, .retries = 0};
    char none[] = "NONE";
    char *test[] = {none, NULL};
    h.test = test;
    h.n_test = 1;
    c->config.healthcheck = gantry_oci_healthcheck_dup(&h);
    c->config.shell = xcalloc(3, sizeof(char *));
    c->config.shell[0] = xstrdup("pwsh");
    c->config.shell[1] = xstrdup("-Command");
    c->config.n_shell = 2;
    c->config.on_build = xcalloc(2, sizeof(char *));
    c->config.on_build[0] = xstrdup("RUN make");
    c->config.n_on_build = 1;
    assert_int_equal(gantry_oci_config_serialize(c, &err), 0);
    assert_non_null(
        strstr(c->raw, "\"Healthcheck\":{\"Interval\":10000000000,\"Test\":[\"NONE\"]}"));
    assert_non_null(strstr(c->raw, "\"OnBuild\":[\"RUN make\"]"));
    assert_non_null(strstr(c->raw, "\"Shell\":[\"pwsh\",\"-Command\"]"));
    /* and removed again */
    gantry_oci_healthcheck_free(c->config.healthcheck);
    c->config.healthcheck = NULL;
    assert_int_equal(gantry_oci_config_serialize(c, &err), 0);
    assert_null(strstr(c->raw, "Healthcheck"));
    assert_null(gantry_oci_healthcheck_dup(NULL));
    gantry_oci_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oci_config__docker_members_parse),
        cmocka_unit_test(test_oci_config__absent_and_null),
        cmocka_unit_test(test_oci_config__bad_members),
        cmocka_unit_test(test_oci_config__round_trip),
        cmocka_unit_test(test_oci_config__set_and_omit_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
