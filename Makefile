# moma: build, install, test, benchmark.
#
# Every directory tools/NAME/ is a tool: its *.c files (and those of its
# subfolders, one level down) link into bin/NAME
# against libshared.a.  A tool lists the pkg-config packages it needs in
# tools/NAME/tool.mk as NAME_PKGS (and extra libraries as NAME_LIBS).
#
# Variants share one rule set and differ by BUILD directory and flags:
#   make                  build/release   optimised, hardened
#   make asan             build/asan      ASan+UBSan, used by make check
#   make fuzz             build/fuzz      clang libFuzzer targets

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
SYSCONFDIR ?= $(PREFIX)/etc
CC      ?= cc
PKG_CONFIG ?= pkg-config
VERSION := $(shell cat scripts/VERSION)

CFLAGS  ?= -O2 -g
# Our flags are added to the user's, never replace them.
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-unused-parameter -Wvla
HARDEN   = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
MOMA_CPPFLAGS = -std=c11 -D_GNU_SOURCE -Ilibshared -DMOMA_VERSION='"$(VERSION)"'
MOMA_LDFLAGS  = -pie -Wl,-z,relro,-z,now

BUILD   ?= build/release
VARIANT_CFLAGS ?=
VARIANT_LDFLAGS ?=

TOOLS   := $(notdir $(wildcard tools/moma-*))
-include $(wildcard tools/*/tool.mk)

SHARED_SRC := $(wildcard libshared/*.c)
SHARED_OBJ := $(SHARED_SRC:%.c=$(BUILD)/%.o)
SHARED_PKGS := jansson
UNIT_SRC   := $(wildcard tests/unit/*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
UNIT_PKGS  := jansson bitstream libdvbpsi

ALL_CFLAGS  = $(MOMA_CPPFLAGS) $(CPPFLAGS) $(WARN) $(HARDEN) $(CFLAGS) $(VARIANT_CFLAGS)
ALL_LDFLAGS = $(MOMA_LDFLAGS) $(LDFLAGS) $(VARIANT_LDFLAGS)
pkgcflags = $(if $(1),$(shell $(PKG_CONFIG) --cflags $(1)))
pkglibs   = $(if $(1),$(shell $(PKG_CONFIG) --libs $(1)))

BINS := $(TOOLS:%=$(BUILD)/bin/%)
# Built beside the tools, with the build packages alone, never installed:
# the sample-data generator moma-gen (make demo's database through
# scripts/dev/moma-sample, the tests' and the bench's frames).  The unit
# tests and the test tools are built by make check (unit-bins), with the
# test packages.
GEN_BINS := $(patsubst scripts/dev/gen/%.c,$(BUILD)/gen/%,$(wildcard scripts/dev/gen/*.c))

.PHONY: all unit-bins fuzz-bins asan install uninstall clean check check-size unit bats fuzz \
        fuzz-short bench demo deps lint pkgs-build pkgs-unit check-fresh check-systemd
all: $(BINS) $(GEN_BINS)

# Every pkg-config package a build needs is looked for before anything
# compiles: a missing one stops make with its name and the command that
# installs it, not with a link error.  (Order-only: the check runs once a
# make, and never makes a target out of date.)
BUILD_PKGS = $(sort $(SHARED_PKGS) bitstream $(foreach t,$(TOOLS),$($(t)_PKGS)))
pkgs-build:
	@scripts/dev/moma-deps --pkg-config $(BUILD_PKGS)
pkgs-unit:
	@scripts/dev/moma-deps --pkg-config $(UNIT_PKGS)

$(BUILD)/libshared/%.o: libshared/%.c | pkgs-build
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call pkgcflags,$(SHARED_PKGS) bitstream) -MMD -MP -c -o $@ $<

$(BUILD)/libshared.a: $(SHARED_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/tools/%.o: tools/%.c | pkgs-build
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call pkgcflags,$($(firstword $(subst /, ,$*))_PKGS)) -MMD -MP -c -o $@ $<

define TOOL_RULE
$(BUILD)/bin/$(1): $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/$(1)/*.c tools/$(1)/*/*.c)) $(BUILD)/libshared.a
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $$(ALL_LDFLAGS) -o $$@ $$^ $$(call pkglibs,$$($(1)_PKGS) $$(SHARED_PKGS)) $$($(1)_LIBS) -lm
endef
$(foreach t,$(TOOLS),$(eval $(call TOOL_RULE,$(t))))

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libshared.a | pkgs-unit
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call pkgcflags,$(UNIT_PKGS)) $(ALL_LDFLAGS) -MMD -MP -o $@ $< $(BUILD)/libshared.a $(call pkglibs,$(UNIT_PKGS)) -lm

# Test tools: small programs the bats suite runs (generators, independent
# decoders); built like unit tests, never installed.
TTOOL_SRC := $(wildcard tests/tools/*.c)
TTOOL_BIN := $(TTOOL_SRC:tests/tools/%.c=$(BUILD)/testtools/%)
$(BUILD)/testtools/%: tests/tools/%.c $(BUILD)/libshared.a | pkgs-unit
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call pkgcflags,$(UNIT_PKGS)) $(ALL_LDFLAGS) -MMD -MP -o $@ $< $(BUILD)/libshared.a $(call pkglibs,$(UNIT_PKGS)) -lm

unit-bins: $(UNIT_BIN) $(TTOOL_BIN)

$(BUILD)/gen/%: scripts/dev/gen/%.c $(BUILD)/libshared.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -MMD -MP -o $@ $< $(BUILD)/libshared.a -lm

# Only this variant's dependency files: another variant's name other objects.
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- sanitizer build, used by check --------------------------------------
ASAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
asan:
	$(MAKE) BUILD=build/asan VARIANT_CFLAGS="$(ASAN_FLAGS)" \
	        VARIANT_LDFLAGS="-fsanitize=address,undefined" HARDEN="-fPIE" all unit-bins

# ---- tests ---------------------------------------------------------------
# check: the whole suite under ASan+UBSan; TAP from unit tests and bats is
# summarised into one closing line "N passed, N failed".
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1:exitcode=86
# check installs what it needs first, as make demo does (scripts/dev/moma-deps:
# as root with apt-get, waiting for the dpkg lock; as anyone else it stops
# with the exact command).  TESTS=tests/FILE.bats... runs those files only.
TESTS ?=
check:
	@scripts/dev/moma-deps build test
	@scripts/dev/check-size
	@$(MAKE) --no-print-directory asan fuzz-bins
	@scripts/dev/run-tests build/asan $(TESTS)

# The fresh-machine checks (root; CI runs them): make demo in a freshly
# installed Debian 12 holding a clean clone of HEAD, and the systemd units
# started under a booted systemd there (scripts/dev/check-fresh).
check-fresh:
	@scripts/dev/check-fresh 'make demo'
check-systemd:
	@scripts/dev/check-fresh --systemd tests/systemd/run

# No C file of tools/ or libshared/ over 900 lines, no function over 100.
check-size:
	@scripts/dev/check-size

# Fuzz targets: clang + libFuzzer; check runs each briefly, `make fuzz`
# runs each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 300
FUZZ_SRC := $(wildcard tests/fuzz/*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/fuzz/%)
FUZZ_CFLAGS = -O1 -g -fsanitize=fuzzer-no-link,address,undefined
build/fuzz/fuzz/%: tests/fuzz/%.c $(SHARED_SRC) $(wildcard libshared/*.h)
	$(MAKE) CC=clang BUILD=build/fuzz VARIANT_CFLAGS="$(FUZZ_CFLAGS)" HARDEN="-fPIE" build/fuzz/libshared.a
	@mkdir -p $(@D)
	clang $(MOMA_CPPFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined $(call pkgcflags,jansson) \
	      -o $@ $< build/fuzz/libshared.a $(call pkglibs,jansson) -lm
# A target that includes a tool's file depends on it too.
build/fuzz/fuzz/fuzz_dump_storables: tools/moma-dump/storables.c tools/moma-dump/moma-dump.h
build/fuzz/fuzz/fuzz_splice: tools/moma-splice/moma-splice.c tools/cli.h
fuzz-bins: $(FUZZ_BIN)
fuzz: fuzz-bins
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n; \
	  echo "fuzz $$n for $(FUZZ_SECONDS) s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=8192 build/fuzz/corpus/$$n tests/fuzz/seeds/$$n || exit 1; done

# ---- install -------------------------------------------------------------
# The systemd units get the install paths substituted; configuration files
# (zones.conf, moma.env) are installed only where none exists yet, and
# uninstall leaves them.
MAN1 := $(wildcard man/*.1)
MAN5 := $(wildcard man/*.5)
MAN7 := $(wildcard man/*.7)
SCRIPTS := scripts/moma-zone scripts/moma-all
SHAREDIR ?= $(PREFIX)/share/moma
# moma-zone and moma-all source moma-lib.sh from $(BINDIR)/../lib/moma.
MOMALIBDIR = $(BINDIR)/../lib/moma
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
UNITS_IN := $(wildcard systemd/*.service.in)
UNITS := $(UNITS_IN:systemd/%.in=%) $(notdir $(wildcard systemd/*.timer))
SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	           $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(SYSCONFDIR)/moma $(DESTDIR)$(SHAREDIR) \
	           $(DESTDIR)$(SYSTEMDDIR)
	install -m 755 $(BINS) $(SCRIPTS) $(DESTDIR)$(BINDIR)
	install -d $(DESTDIR)$(MOMALIBDIR)
	install -m 644 scripts/moma-lib.sh scripts/moma-incr.sh scripts/VERSION $(DESTDIR)$(MOMALIBDIR)
	[ -e $(DESTDIR)$(SYSCONFDIR)/moma/zones.conf ] || \
	    install -m 644 scripts/zones.conf $(DESTDIR)$(SYSCONFDIR)/moma/zones.conf
	[ -e $(DESTDIR)$(SYSCONFDIR)/moma/moma.env ] || \
	    install -m 600 systemd/moma.env $(DESTDIR)$(SYSCONFDIR)/moma/moma.env
	install -m 644 scripts/schema.sql scripts/moma-tracking.sql scripts/moma-tracking-off.sql $(DESTDIR)$(SHAREDIR)
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5
	install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7
	for u in $(UNITS_IN); do \
	    $(SUBST) $$u > $(DESTDIR)$(SYSTEMDDIR)/$$(basename $$u .in) && \
	    chmod 644 $(DESTDIR)$(SYSTEMDDIR)/$$(basename $$u .in) || exit 1; done
	install -m 644 $(wildcard systemd/*.timer) $(DESTDIR)$(SYSTEMDDIR)
uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%) $(SCRIPTS:scripts/%=$(DESTDIR)$(BINDIR)/%) \
	      $(MAN1:man/%=$(DESTDIR)$(MANDIR)/man1/%) $(MAN5:man/%=$(DESTDIR)$(MANDIR)/man5/%) \
	      $(MAN7:man/%=$(DESTDIR)$(MANDIR)/man7/%) $(DESTDIR)$(SHAREDIR)/schema.sql \
	      $(DESTDIR)$(SHAREDIR)/moma-tracking.sql $(DESTDIR)$(SHAREDIR)/moma-tracking-off.sql \
	      $(UNITS:%=$(DESTDIR)$(SYSTEMDDIR)/%) $(DESTDIR)$(MOMALIBDIR)/moma-lib.sh \
	      $(DESTDIR)$(MOMALIBDIR)/moma-incr.sh $(DESTDIR)$(MOMALIBDIR)/VERSION
	-rmdir $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(MOMALIBDIR) 2>/dev/null

lint:
	mandoc -Tlint -Wwarning $(MAN1) $(MAN5) $(MAN7)

deps:
	@scripts/dev/moma-deps

bench:
	@scripts/dev/moma-deps build test bench
	@$(MAKE) --no-print-directory all unit-bins
	@tests/bench/run

demo:
	@scripts/dev/moma-deps build demo
	@$(MAKE) -s all
	@scripts/dev/moma-demo

clean:
	rm -rf build
