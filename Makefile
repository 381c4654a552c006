# OpenServerHub - one non-recursive build. Output goes under build/
# (build/san/ with SAN=1). See README.md for the targets.

CC	?= cc
SAN	?= 0
CI	?=
BUILD	:= build$(if $(filter 1,$(SAN)),/san)
# Quiet build lines (" CC file"); V=1 prints the whole commands, QUIET=1
# (make up) none at all: errors and warnings still show.
V	?= 0
QUIET	?= 0
# make up and make check build on every processor (JOBS=1: one at a time).
JOBS	?= $(shell nproc 2>/dev/null || echo 2)
ifeq ($(V),1)
Q	:=
msg	= @:
else ifeq ($(QUIET),1)
Q	:= @
msg	= @:
else
Q	:= @
msg	= @printf '  %-6s %s\n'
endif

PKGS	:= libevent libevent_openssl openssl libcurl json-c libpq hiredis libjwt \
	   libsodium yaml-0.1 libcrypt zlib
WARN	:= -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wmissing-declarations -Wold-style-definition \
	   -Wpointer-arith -Wcast-qual -Wwrite-strings -Wformat=2 -Wvla \
	   -Wundef -Wimplicit-fallthrough -Wnull-dereference -fno-common
ifeq ($(CI),true)
WARN	+= -Werror
endif
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=undefined
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lfreeipmi -lpthread -lm
CFLAGS	?= -O2 -g
ALL_CFLAGS = $(CFLAGS) $(WARN) $(SANFLAGS) -D_GNU_SOURCE -Ilibcommon/include \
	     $(PKG_CFLAGS) -MMD -MP
LDFLAGS_ALL = $(LDFLAGS) $(SANFLAGS)

# libcommon
LIB_SRC	:= $(wildcard libcommon/src/*.c)
LIB_OBJ	:= $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB	:= $(BUILD)/libcommon.a

# services: services/<name>/*.c (+ migrations) -> $(BUILD)/osh-<name>
SERVICES := $(notdir $(wildcard services/*))
BINS	:= $(SERVICES:%=$(BUILD)/osh-%)

# the simulated BMCs' chassis module (see its rule below)
SIM_MODULE := build/sim/osh_chassis.so

# unit tests: tests/unit/test_<x>.c -> $(BUILD)/tests/test_<x>
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BINS := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# fuzz targets: tests/fuzz/fuzz_<name>.c -> build/fuzz/fuzz_<name> (clang,
# libFuzzer); see tests/fuzz/README.md.
FUZZ_CC	?= clang
FUZZ_SECONDS ?= 60
FUZZ_CHECK_RUNS ?= 20000
FUZZ_CHECK_SECONDS ?= 5
FUZZ_DIR := build/fuzz
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_BINS := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	    -fno-omit-frame-pointer
FUZZ_CFLAGS = -g -O1 $(FUZZ_SAN) $(WARN) -D_GNU_SOURCE -Ilibcommon/include \
	      $(PKG_CFLAGS) -MMD -MP
FUZZ_LIB := $(FUZZ_DIR)/libcommon.a

.PHONY: all bins deps up down destroy check test-unit test-integration bench bench-poller format \
	check-format lint clean fuzz fuzz-build fuzz-check fuzz-report rules-check \
	deploy-check compose-secrets ui ui-test bench-ui install-admin
all: $(BINS) $(TEST_BINS) $(SIM_MODULE)
bins: $(BINS) $(SIM_MODULE)

# The simulated BMCs' chassis inside ipmi_sim (deploy/sim/chassis_module.c,
# loaded by osh-sim's lan.conf): test tooling, built without sanitizers
# (ipmi_sim is not) and outside $(BUILD), so that SAN=1 builds share it.
$(SIM_MODULE): deploy/sim/chassis_module.c
	@mkdir -p $(dir $@)
	$(msg) CC $<
	$(Q)$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE -fPIC -shared $< -o $@

# The compiler flags are a prerequisite of every object, so that a change
# of them (CI=true adds -Werror) rebuilds what they built.
FLAGS_FILE := $(BUILD)/cflags
$(FLAGS_FILE): FORCE
	@mkdir -p $(dir $@)
	@echo '$(ALL_CFLAGS)' | cmp -s - $@ 2>/dev/null || \
	    echo '$(ALL_CFLAGS)' >$@
FORCE:

# What the binaries say they were built from (osh-ipmi-exporter's
# ipmi_exporter_build_info and --version): the project's version, and the
# git revision and branch when built in a checkout ("unknown" elsewhere;
# make OSH_REVISION=... sets them, as the container build does). Only
# buildinfo.o sees them, and it is rebuilt when they change.
OSH_VERSION ?= 0.1.0
ifeq ($(origin OSH_REVISION),undefined)
OSH_REVISION := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
endif
ifeq ($(origin OSH_BRANCH),undefined)
OSH_BRANCH := $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
endif
safe_str = $(shell printf '%s' '$(subst ','',$(1))' | tr -cd 'A-Za-z0-9._+/~-')
BUILDINFO_VALUES := $(call safe_str,$(OSH_VERSION)) \
	$(call safe_str,$(OSH_REVISION)) $(call safe_str,$(OSH_BRANCH))
BUILDINFO_FILE := $(BUILD)/buildinfo
$(BUILDINFO_FILE): FORCE
	@mkdir -p $(dir $@)
	@echo '$(BUILDINFO_VALUES)' | cmp -s - $@ 2>/dev/null || \
	    echo '$(BUILDINFO_VALUES)' >$@
$(BUILD)/obj/services/ipmi-exporter/buildinfo.o: \
    services/ipmi-exporter/buildinfo.c $(FLAGS_FILE) $(BUILDINFO_FILE)
	@mkdir -p $(dir $@)
	$(msg) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) \
	    -DOSH_VERSION='"$(word 1,$(BUILDINFO_VALUES))"' \
	    -DOSH_REVISION='"$(word 2,$(BUILDINFO_VALUES))"' \
	    -DOSH_BRANCH='"$(word 3,$(BUILDINFO_VALUES))"' -c $< -o $@

$(BUILD)/obj/%.o: %.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(msg) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(msg) AR $@
	$(Q)ar rcs $@ $^

# Per-service rules, generated for each folder under services/.
define service_rules
$(1)_SRC := $$(wildcard services/$(1)/*.c)
$(1)_OBJ := $$($(1)_SRC:%.c=$(BUILD)/obj/%.o)
$(1)_MIG := $$(sort $$(wildcard services/$(1)/migrations/*.sql))
$(BUILD)/gen/$(1)_migrations.c: $$($(1)_MIG) libcommon/tools/embed-migrations.sh
	@mkdir -p $$(dir $$@)
	$$(msg) GEN $$@
	$(Q)sh libcommon/tools/embed-migrations.sh $(subst -,_,$(1)) services/$(1)/migrations > $$@.tmp
	$(Q)mv $$@.tmp $$@
$(BUILD)/obj/gen/$(1)_migrations.o: $(BUILD)/gen/$(1)_migrations.c
	@mkdir -p $$(dir $$@)
	$$(msg) CC $$<
	$(Q)$(CC) $(ALL_CFLAGS) -c $$< -o $$@
$(1)_GEN := $$(if $$($(1)_MIG),$(BUILD)/obj/gen/$(1)_migrations.o)
$(BUILD)/osh-$(1): $$($(1)_OBJ) $$($(1)_GEN) $(LIB)
	$$(msg) LINK $$@
	$(Q)$(CC) $(LDFLAGS_ALL) -o $$@ $$^ $(PKG_LIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call service_rules,$(s))))

# A unit test links libcommon and, when named test_<service>_*.c, that
# service's objects except main.o (prerequisites too, so it relinks).
test_objs = $(foreach s,$(SERVICES),$(if $(findstring test_$(subst -,_,$(s))_,$(1)),$(filter-out %/main.o,$($(s)_OBJ))))
.SECONDEXPANSION:
$(BUILD)/tests/%: tests/unit/%.c $(LIB) $$(call test_objs,$$*)
	@mkdir -p $(dir $@)
	$(msg) TEST $@
	$(Q)$(CC) $(ALL_CFLAGS) -Iservices -o $@ $< \
	    $(call test_objs,$*) \
	    $(LIB) $(LDFLAGS_ALL) $(PKG_LIBS) -lcmocka
# ... and is relinked when those objects change.
$(foreach s,$(SERVICES),$(eval $(filter $(BUILD)/tests/test_$(subst -,_,$(s))_%,\
	$(TEST_BINS)): $(filter-out %/main.o,$($(s)_OBJ))))

# Fuzz builds: libcommon and the services' objects instrumented for
# libFuzzer in a tree of their own; a target named fuzz_<service>_*.c links
# that service's objects except main.o, like unit tests.
$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(msg) FUZZCC $<
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_LIB): $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
	@rm -f $@
	$(msg) AR $@
	$(Q)ar rcs $@ $^

fuzz_svc_obj = $(foreach s,$(SERVICES),$(if $(filter $(subst -,_,$(s))_%,$(1)),\
	$(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(filter-out %/main.c,$($(s)_SRC)))))
define fuzz_rules
$(FUZZ_DIR)/fuzz_$(1): tests/fuzz/fuzz_$(1).c $(call fuzz_svc_obj,$(1)) $(FUZZ_LIB)
	$$(msg) FUZZ $$@
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Iservices -o $$@ \
	    $$(filter %.c %.o %.a,$$^) $(LDFLAGS) $(PKG_LIBS)
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call fuzz_rules,$(n))))

fuzz-build: $(FUZZ_BINS)

# Runs each of FUZZ_TARGETS for FUZZ_SECONDS; a crash fails (its input is
# left under build/fuzz/crashes/<name>/).
fuzz: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) \
	    sh tests/fuzz/run.sh fuzz $(FUZZ_TARGETS)

# Regression run for make check: the committed corpus, then a short fixed
# run of each target.
fuzz-check: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_CHECK_RUNS=$(FUZZ_CHECK_RUNS) \
	    FUZZ_CHECK_SECONDS=$(FUZZ_CHECK_SECONDS) \
	    sh tests/fuzz/run.sh check $(FUZZ_TARGETS)

# Totals per target of every make fuzz run recorded in build/fuzz/report.txt.
fuzz-report:
	@FUZZ_DIR=$(FUZZ_DIR) sh tests/fuzz/run.sh report

deps:
	@sh deploy/local/install-deps.sh

up: deps
	@echo "building OpenServerHub (make up V=1 shows the commands)"
	@$(MAKE) --no-print-directory -j$(JOBS) $(if $(filter 1,$(V)),,-s QUIET=1) bins ui
	@bash deploy/local/stack.sh up

down:
	@bash deploy/local/stack.sh down

# Stops the stack and deletes its data (a new stack at the next make up).
destroy:
	@bash deploy/local/stack.sh destroy

check: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all fuzz-build ui
	@$(MAKE) --no-print-directory lint check-format rules-check
	@$(MAKE) --no-print-directory deploy-check DEPLOY_NATIVE=0
	@$(MAKE) --no-print-directory test-unit ui-test
	@$(MAKE) --no-print-directory fuzz-check
	@$(MAKE) --no-print-directory test-integration

# The unit tests run side by side (tests/unit/run.sh), the slowest (those
# that wait on simulators, servers and timers) first.
SLOW_TESTS := $(filter %_live %_http_server %_ipmi_probe,$(TEST_BINS))
test-unit: $(TEST_BINS)
	@sh tests/unit/run.sh $(SLOW_TESTS) $(filter-out $(SLOW_TESTS),$(TEST_BINS))

# The web UI's browser test (tests/integration/test_ui.py) drives the UI
# built here through the test stack's nginx. Two test stacks side by side
# (tests/integration/shards.py; OSH_TEST_SHARDS=1 for one).
test-integration: $(BINS) ui
	@BUILD=$(BUILD) SAN=$(SAN) /usr/bin/python3 tests/integration/shards.py

# The web UI (ui/, README.md "Web UI"): npm ci (no install scripts) when
# the lock file changed, then esbuild into build/ui/dist, which nginx
# serves at /. ui-test runs the UI's pure-logic tests (node --test).
UI_SRC	:= $(shell find ui/src -type f 2>/dev/null) ui/build.mjs
UI_DIST	:= build/ui/dist
UI_DEPS	:= ui/node_modules/.package-lock.json
ui: $(UI_DIST)/index.html
$(UI_DEPS): ui/package-lock.json ui/package.json
	$(msg) NPM ui/package-lock.json
	$(Q)cd ui && npm ci --ignore-scripts --no-audit --no-fund \
	    --loglevel=error >/dev/null
	$(Q)touch $@
$(UI_DIST)/index.html: $(UI_DEPS) $(UI_SRC)
	$(Q)node ui/build.mjs $(UI_DIST)
ui-test: $(UI_DEPS)
	$(msg) TEST ui/test/unit
	$(Q)out=$$(node --test ui/test/unit/ 2>&1) || { echo "$$out" >&2; exit 1; }; \
	    echo "$$out" | grep -E '^# (pass|fail)' | tr '\n' ' '; echo

bench: $(BINS) ui
	@BUILD=$(BUILD) sh tests/bench/run.sh

# The web UI alone (tests/bench/ui/): size, first render, scrolling.
bench-ui: ui
	@sh tests/bench/ui.sh

# The poller at 10,000 servers: a stack and 693 simulators of its own,
# about ten minutes and 5 GB, so not in bench.
bench-poller: $(BINS)
	@BUILD=$(BUILD) /usr/bin/python3 tests/bench/poller.py

FORMAT_FILES = $(shell find libcommon services tests -name '*.[ch]' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

check-format:
	@clang-format --dry-run --Werror $(FORMAT_FILES)

# Alert rules: promtool checks them and runs their unit tests
# (deploy/prometheus/rules/tests/); amtool checks the Alertmanager
# configuration, its template filled in as stack.sh fills it. Quiet unless
# something fails.
RULES := $(wildcard deploy/prometheus/rules/*.yml)
RULE_TESTS := $(wildcard deploy/prometheus/rules/tests/*.yml)
rules-check:
	$(msg) PROMTOOL $(RULES)
	$(Q)out=$$(promtool check rules $(RULES) 2>&1) || \
	    { echo "$$out" >&2; exit 1; }
	$(Q)out=$$(promtool test rules $(RULE_TESTS) 2>&1) || \
	    { echo "$$out" >&2; exit 1; }
	$(msg) AMTOOL deploy/alertmanager/alertmanager.yml.in
	$(Q)mkdir -p $(BUILD)
	$(Q)sed -e 's|@GROUP_WAIT@|10s|' -e 's|@GROUP_INTERVAL@|1m|' \
	    -e 's|@REPEAT_INTERVAL@|4h|' -e 's|@ALERT_WEBHOOK_PORT@|8105|' \
	    -e 's|@WEBHOOK_SECRET_FILE@|/nonexistent/alert-webhook-secret|' \
	    deploy/alertmanager/alertmanager.yml.in >$(BUILD)/alertmanager-check.yml
	$(Q)out=$$(amtool check-config $(BUILD)/alertmanager-check.yml 2>&1) || \
	    { echo "$$out" >&2; exit 1; }


# Deployments, checked without a container engine (README.md, "Deployment"):
# compose.yaml validates (docker-compose config), every kustomize overlay
# renders, tests/deploy/ checks the rendered objects, then
# tests/integration/test_compose_native.py runs compose.yaml's services
# natively on a test stack (make check runs that one with the integration
# tests: DEPLOY_NATIVE=0 here).
DEPLOY_NATIVE ?= 1
deploy-check: $(BINS)
	$(msg) COMPOSE compose.yaml
	$(Q)out=$$(docker-compose --profile sim --profile admin config -q 2>&1) || \
	    { echo "$$out" >&2; exit 1; }
	$(msg) KUSTOMIZE deploy/k8s
	$(Q)command -v kubectl >/dev/null || { echo "deploy-check: kubectl" \
	    "is needed (kubectl kustomize; not a Debian package)" >&2; exit 1; }
	$(Q)for o in deploy/k8s/base deploy/k8s/admin deploy/k8s/overlays/*/; do \
	    out=$$(kubectl kustomize $$o 2>&1 >/dev/null) || \
	    { echo "$$o: $$out" >&2; exit 1; }; done
	$(msg) TEST tests/deploy
	$(Q)out=$$(BUILD=$(BUILD) /usr/bin/python3 -m pytest -p no:cacheprovider \
	    -q tests/deploy 2>&1) || { echo "$$out" >&2; exit 1; }
ifneq ($(DEPLOY_NATIVE),0)
	@BUILD=$(BUILD) SAN=$(SAN) \
	    TESTS=tests/integration/test_compose_native.py \
	    sh tests/integration/run.sh
endif

# osh-admin (backup, restore, key rotation: README, Operations).
PREFIX ?= /usr/local
install-admin:
	install -D -m 0755 deploy/admin/osh-admin $(DESTDIR)$(PREFIX)/bin/osh-admin

# The secret files compose.yaml uses, under ./secrets (kept when present).
compose-secrets:
	@sh deploy/docker/compose-secrets.sh secrets

BANNED := 'sprintf|strcpy|strcat|strtok|atoi|gmtime|localtime'
lint:
	@! grep -nE '(^|[^_[:alnum:]])($(subst ','',$(BANNED)))[[:space:]]*\(' \
	    $(FORMAT_FILES) || { echo "lint: banned function used" >&2; exit 1; }
	$(msg) LINT cppcheck
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --inline-suppr --suppress=missingIncludeSystem -D_GNU_SOURCE \
	    -Ilibcommon/include libcommon/src services tests/fuzz

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
