# gantry: the two entry points are `make demo` and `make check`.
# Both install what they need first (scripts/deps.sh, Debian 12, apt-get).

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps fixtures build test asan asan-test check demo bench bench-deps bench-build fuzz format format-check clean

all: build

deps:
	bash scripts/deps.sh

fixtures: deps
	bash scripts/fixtures.sh

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: $(BUILD)/Makefile
	cmake --build $(BUILD) -j$(JOBS)

test: build fixtures
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

$(ASAN_BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DGANTRY_SANITIZE=ON $(CMAKE_ARGS)

asan: $(ASAN_BUILD)/Makefile
	cmake --build $(ASAN_BUILD) -j$(JOBS)

asan-test: asan fixtures
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS)

# Every test: deps, each fuzz target briefly (CHECK_FUZZ_SECONDS each),
# the normal build's tests, then the sanitizer build's (ctest's summary
# line closes the output).
CHECK_FUZZ_SECONDS ?= 10
check: deps
	$(MAKE) format-check
	$(MAKE) fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)
	$(MAKE) test
	$(MAKE) asan-test

demo: deps fixtures build
	bash scripts/demo.sh

# Every benchmark (bench/*.sh, each prints its table; docs/performance.md),
# or one: make bench-build. Needs root for buildah (deps.sh --bench).
BENCH_ENV = GANTRY=$(CURDIR)/$(BUILD)/bin/gantry
bench: bench-deps fixtures build
	$(BENCH_ENV) bash bench/import.sh
	$(BENCH_ENV) bash bench/push-pull.sh
	$(BENCH_ENV) bash bench/build.sh

bench-deps:
	bash scripts/deps.sh --bench

bench-build: bench-deps build
	$(BENCH_ENV) bash bench/build.sh

# libFuzzer targets, FUZZ_SECONDS each (build-fuzz, clang; docs/fuzzing.md).
FUZZ_SECONDS ?= 20
fuzz: deps
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
