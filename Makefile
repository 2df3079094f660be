# The two commands a newcomer needs: `make run` and `make test`. Everything else is here too.
PRESET      ?= release
BUILD_DIR   := build/$(PRESET)
BIN         := $(BUILD_DIR)/bin
DATA        ?= var
HTTP_PORT   ?= 8080
# The embedded broker's port. 0 picks a free one: Debian's mosquitto package may already run
# a system broker on 1883, and cameras find ours through /api/v1/device-endpoints anyway.
MQTT_PORT   ?= 0
JOBS        ?= $(shell nproc)
WEB_SOURCES := $(shell find web/src web/index.html web/vite.config.ts web/tsconfig.json web/package.json -type f 2>/dev/null)

.PHONY: all bootstrap build web cpp run run-cluster test test-asan lint bench fuzz clean

all: build

bootstrap:
	@scripts/bootstrap

build: web cpp

web: web/dist/index.html

web/dist/index.html: $(WEB_SOURCES) web/node_modules/.nightjar-lock-stamp
	cd web && npm run --silent build

web/node_modules/.nightjar-lock-stamp: web/package-lock.json
	@scripts/bootstrap

cpp:
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

run: bootstrap build
	@mkdir -p $(DATA)
	$(BIN)/nightjar serve --demo --data $(DATA) --http-port $(HTTP_PORT) --mqtt-port $(MQTT_PORT)

# Three nodes on PostgreSQL, S3 (RADOS Gateway) and one broker, on loopback (scripts/run-cluster).
run-cluster: bootstrap build
	scripts/run-cluster

test: bootstrap build
	@ctest --preset $(PRESET) -j $(JOBS)

test-asan: bootstrap web
	@$(MAKE) --no-print-directory PRESET=asan cpp
	@ctest --preset asan -j $(JOBS)

lint: bootstrap
	@cmake --preset $(PRESET) >/dev/null
	@git ls-files '*.h' '*.cc' | xargs clang-format --dry-run -Werror
	@git ls-files 'src/*.cc' 'cam/*.cc' | grep -v '_test.cc' | xargs -P $(JOBS) -n 4 clang-tidy -p $(BUILD_DIR) --quiet
	cd web && npx --no-install tsc --noEmit

bench: bootstrap build
	@for b in $(BIN)/bench_*; do echo "== $$b"; $$b --benchmark_min_time=0.2; done
	@bench/load/http_load.sh $(BIN)/nightjar
	@bench/load/accounts_load.sh $(BIN)/nightjar

# Long fuzzing with libFuzzer (clang): FUZZ_SECONDS per target, new inputs kept in
# build/fuzz/corpus-<target>. `make test` runs the same targets briefly with any compiler.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := http_request time config account_input rtp_h264 rtp_h265 rtp_aac sdp rtsp_message rtsp_client fmp4_demux recovery device_state device_event device_telemetry device_claim device_rpc device_provision privacy_schedule tzif notify_input
fuzz:
	@scripts/bootstrap --fuzz
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus-$$t; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS)s"; \
	  build/fuzz/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    build/fuzz/corpus-$$t fuzz/corpus/$$t || exit 1; \
	done

clean:
	rm -rf build web/dist
