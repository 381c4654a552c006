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
	   libsodium yaml-0.1 libcrypt
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

.PHONY: all bins deps up down destroy check test-unit test-integration bench format \
	check-format lint clean fuzz fuzz-build fuzz-check fuzz-report
all: $(BINS) $(TEST_BINS)
bins: $(BINS)

# The compiler flags are a prerequisite of every object, so that a change
# of them (CI=true adds -Werror) rebuilds what they built.
FLAGS_FILE := $(BUILD)/cflags
$(FLAGS_FILE): FORCE
	@mkdir -p $(dir $@)
	@echo '$(ALL_CFLAGS)' | cmp -s - $@ 2>/dev/null || \
	    echo '$(ALL_CFLAGS)' >$@
FORCE:

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
	@$(MAKE) --no-print-directory $(if $(filter 1,$(V)),,-s QUIET=1) bins
	@bash deploy/local/stack.sh up

down:
	@bash deploy/local/stack.sh down

# Stops the stack and deletes its data (a new stack at the next make up).
destroy:
	@bash deploy/local/stack.sh destroy

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory lint check-format
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory fuzz-check
	@$(MAKE) --no-print-directory test-integration

test-unit: $(TEST_BINS)
	@sh tests/unit/run.sh $(TEST_BINS)

test-integration: $(BINS)
	@BUILD=$(BUILD) SAN=$(SAN) sh tests/integration/run.sh

bench: $(BINS)
	@BUILD=$(BUILD) sh tests/bench/run.sh

FORMAT_FILES = $(shell find libcommon services tests -name '*.[ch]' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

check-format:
	@clang-format --dry-run --Werror $(FORMAT_FILES)

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
