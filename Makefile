# athttp — see README.md.  Targets: all check unit e2e demo bench install
# uninstall deps valgrind fuzz (FUZZ_SECONDS per target; mk/fuzz.mk) clean.  Variables: PREFIX DESTDIR LIBDIR INCLUDEDIR
# SANITIZER=address|undefined BUILD CC CPPFLAGS CFLAGS LDFLAGS PKG_CONFIG (AR and OBJCOPY
# default to the ones that go with CC).

PREFIX     ?= /usr/local
DESTDIR    ?=
# Debian passes its multiarch directory (/usr/lib/<triplet>) as LIBDIR; the
# preload library stays in $(PREFIX)/lib/athttp, where the wrapper looks.
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BUILD      ?= build
CC         ?= cc
# The binutils of CC's target (a cross compiler finds its own).
ifeq ($(origin AR),default)
  AR := $(shell $(CC) -print-prog-name=ar)
endif
ifeq ($(origin OBJCOPY),undefined)
  OBJCOPY := $(shell $(CC) -print-prog-name=objcopy)
endif

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
OPT      ?= -O2 -g
CFLAGS   ?=
# 64-bit off_t, ino_t and friends on 32-bit targets too (armhf): without it
# a spooled body stops at 2 GB (pread/pwrite offsets) and stat/readdir fail
# with EOVERFLOW on a file system with 64-bit inode numbers.  Part of the
# flags themselves, not of CPPFLAGS, which the caller (dpkg-buildflags)
# replaces.  glibc then renames open, fcntl, ... to open64, fcntl64: see
# PRELOAD_WRAP and preload/hooks_fd.c.
LARGEFILE  := -D_FILE_OFFSET_BITS=64
ALL_CFLAGS := -std=gnu11 $(OPT) $(WARN) -fPIC -D_GNU_SOURCE $(LARGEFILE) -Iinclude -Isrc $(CPPFLAGS) $(CFLAGS)
LDFLAGS  ?=

ifeq ($(SANITIZER),address)
  ALL_CFLAGS += -fsanitize=address -fno-omit-frame-pointer
  LDFLAGS    += -fsanitize=address
else ifeq ($(SANITIZER),undefined)
  ALL_CFLAGS += -fsanitize=undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  LDFLAGS    += -fsanitize=undefined
else ifneq ($(SANITIZER),)
  $(error SANITIZER must be address or undefined)
endif

# http-parser and mbedTLS ship no .pc file; libserialport and cmocka do.
PKG_CONFIG  ?= pkg-config
SP_LIBS     := $(shell $(PKG_CONFIG) --libs libserialport 2>/dev/null || echo -lserialport)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)
TLS_LIBS    := -lmbedtls -lmbedx509 -lmbedcrypto
ENGINE_DEPS := -lhttp_parser $(TLS_LIBS) -lpthread
ENGINE_LIBS := $(SP_LIBS) $(ENGINE_DEPS)

ENGINE_SRC  := $(sort $(wildcard src/*.c))
ENGINE_OBJ  := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
PRELOAD_SRC := $(sort $(wildcard preload/*.c))
PRELOAD_OBJ := $(PRELOAD_SRC:%.c=$(BUILD)/%.o)
EMU_SRC     := $(sort $(wildcard emu/*.c))
EMU_OBJ     := $(EMU_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_HELP   := $(filter-out $(UNIT_SRC),$(sort $(wildcard tests/unit/*.c)))
UNIT_HOBJ   := $(UNIT_HELP:%.c=$(BUILD)/%.o)
# Programs the end-to-end suites run (not installed): tests/tools/NAME.c.
TESTTOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TESTTOOL_BIN := $(TESTTOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
BENCH_SRC   := $(sort $(wildcard bench/*.c))
BENCH_BIN   := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
EXAMPLE_BIN := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)

# The engine comes as two kinds of library.  The internal archive holds every
# engine function: the wrapper, the preload library, the unit tests and the
# benches link it, since they use more than the API.  The public libraries
# (installed) show the functions of include/athttp.h and nothing else.
INTERNAL_A := $(BUILD)/internal/libathttp-internal.a
VERSION    := $(shell sed -n 's/^\#define ATHTTP_VERSION "\(.*\)"$$/\1/p' include/athttp.h)
SONAME     := libathttp.so.$(firstword $(subst ., ,$(VERSION)))
API_MAP    := src/libathttp.map
API_SYMS   := $(BUILD)/public/athttp.syms
API_OBJ    := $(BUILD)/public/libathttp.o
API_A      := $(BUILD)/lib/libathttp.a
API_SO     := $(BUILD)/lib/libathttp.so.$(VERSION)
API_LINKS  := $(BUILD)/lib/$(SONAME) $(BUILD)/lib/libathttp.so
PRELOAD    := $(BUILD)/lib/athttp/libathttp-preload.so
WRAPPER    := $(BUILD)/bin/athttp
EMU        := $(BUILD)/bin/athttp-emu

.PHONY: all check unit e2e demo bench install uninstall deps valgrind clean
all: $(INTERNAL_A) $(API_A) $(API_SO) $(API_LINKS) $(PRELOAD) $(WRAPPER) $(EMU) $(EXAMPLE_BIN)

# Objects that only one link uses: kept, so a second make does not redo them.
.SECONDARY: $(patsubst %.c,$(BUILD)/%.o,$(EXAMPLE_SRC) $(BENCH_SRC) $(UNIT_SRC) $(UNIT_HELP) $(TESTTOOL_SRC))

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# The preload library: hooks and engine, only the hooks visible.  The engine
# comes in as an archive so --exclude-libs hides its symbols: a program that
# defines a function of the same name must never take over the engine's calls.
$(BUILD)/preload/%.o: ALL_CFLAGS += -fvisibility=hidden

$(INTERNAL_A): $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# The API's function names, from the header.  The version script must list
# the same ones: a function added to one and not the other stops the build.
$(API_SYMS): include/athttp.h $(API_MAP)
	@mkdir -p $(dir $@)
	@sed -n '/^[A-Za-z]/s/.*\(^\|[^A-Za-z0-9_]\)\(athttp_[a-z0-9_]*\) *(.*/\2/p' include/athttp.h | sort -u >$@.tmp
	@sed -n 's/^[[:space:]]*\(athttp_[a-z0-9_]*\);.*/\1/p' $(API_MAP) | sort -u >$@.map
	@if ! [ -s $@.tmp ] || ! cmp -s $@.tmp $@.map; then \
		echo "$(API_MAP) must list exactly the functions of include/athttp.h (< header, > map):"; \
		diff $@.tmp $@.map; rm -f $@.tmp $@.map; exit 1; fi
	@rm -f $@.map && mv $@.tmp $@

# libathttp.so: the engine with the version script's symbols exported.
$(API_SO): $(ENGINE_OBJ) $(API_MAP) $(API_SYMS)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(API_MAP) -Wl,-z,defs $(LDFLAGS) \
		-o $@ $(ENGINE_OBJ) $(ENGINE_LIBS)
$(BUILD)/lib/$(SONAME): $(API_SO)
	ln -sf $(notdir $(API_SO)) $@
$(BUILD)/lib/libathttp.so: $(BUILD)/lib/$(SONAME)
	ln -sf $(SONAME) $@

# libathttp.a: the engine linked into one object whose only globals are the
# API's; the rest is local to it, so a program's own functions of the same
# names can neither clash with the engine's nor take over its calls.
$(API_OBJ): $(ENGINE_OBJ) $(API_SYMS)
	@mkdir -p $(dir $@)
	$(CC) -r -nostdlib -o $@.all.o $(ENGINE_OBJ)
	$(OBJCOPY) --keep-global-symbols=$(API_SYMS) $@.all.o $@
	@rm -f $@.all.o
$(API_A): $(API_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# The engine's calls to the functions we hook (and to those that make its
# own descriptors) go to preload/engine_libc.c's __wrap_ functions, bound in
# the link: never through the PLT to our exported hooks, or to a program's
# own close() or fcntl().  Under LARGEFILE the engine's objects call
# fcntl64 and open64 (glibc's redirects), which exist on every glibc target
# (aliases where off_t is 64 bits anyway); the plain names stay for any
# object built without it.
PRELOAD_WRAP := close fcntl fcntl64 connect getsockopt setsockopt getsockname getpeername dup dup2 dup3 \
	open open64 sp_open
$(PRELOAD): $(PRELOAD_OBJ) $(INTERNAL_A)
	@mkdir -p $(dir $@)
	$(CC) -shared -fvisibility=hidden -Wl,--exclude-libs,ALL -Wl,-z,defs $(PRELOAD_WRAP:%=-Wl,--wrap=%) \
		$(LDFLAGS) -o $@ $(PRELOAD_OBJ) $(INTERNAL_A) $(ENGINE_LIBS) -ldl

TOOLS_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard tools/*.c)))
$(WRAPPER): $(TOOLS_OBJ) $(INTERNAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(TOOLS_OBJ) $(INTERNAL_A) $(ENGINE_LIBS)

$(EMU): $(EMU_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lhttp_parser $(TLS_LIBS) -lpthread -lutil

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(UNIT_HOBJ) $(INTERNAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(UNIT_HOBJ) $(INTERNAL_A) $(ENGINE_LIBS) $(CMOCKA_LIBS)

# Unit tests of the preload library's plain logic: linked with those objects
# only, never with the hooks (they would interpose inside the test itself).
PRELOAD_PURE_OBJ := $(patsubst %,$(BUILD)/preload/%.o,bypass etchosts fakedns fdtable netaddr)
$(BUILD)/tests/unit/test_preload_%.o: ALL_CFLAGS += -Ipreload
$(BUILD)/tests/test_preload_%: $(BUILD)/tests/unit/test_preload_%.o $(PRELOAD_PURE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) -lpthread

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(INTERNAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(INTERNAL_A) $(ENGINE_LIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< -lpthread

# The handshake benchmark drives the engine's own TLS server.
$(BUILD)/bench/tls_handshake: $(BUILD)/bench/tls_handshake.o $(INTERNAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(INTERNAL_A) $(ENGINE_LIBS)

# The examples use the API alone: linked with the public archive.
$(BUILD)/examples/%: $(BUILD)/examples/%.o $(API_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(API_A) $(ENGINE_LIBS)

deps:
	@sh tools/deps.sh

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(TESTTOOL_BIN)
	@BUILD=$(BUILD) sh tests/run.sh $(UNIT_BIN)

unit: all $(UNIT_BIN)
	@BUILD=$(BUILD) sh tests/run.sh --unit-only $(UNIT_BIN)

e2e: all $(TESTTOOL_BIN)
	@BUILD=$(BUILD) sh tests/run.sh --e2e-only

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) sh tools/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@BUILD=$(BUILD) sh bench/run.sh

# The injection property test's count is make check's business; under
# valgrind a few thousand requests a dialect cover its memory handling.
VALGRIND_INJECT_COUNT ?= 2000
valgrind: all $(UNIT_BIN)
	@for t in $(UNIT_BIN); do ATHTTP_INJECT_COUNT=$(VALGRIND_INJECT_COUNT) \
		valgrind -q --error-exitcode=1 --leak-check=full $$t || exit 1; done

# More that installs or uninstalls (man pages, shell completion, ...): each
# mk/<piece>.mk adds its own targets to these two lists.
INSTALL_HOOKS   :=
UNINSTALL_HOOKS :=
include $(sort $(wildcard mk/*.mk))

# athttp.pc names its directories under ${prefix} where they are under PREFIX.
PC_SUBST = -e 's|@PREFIX@|$(PREFIX)|' \
	-e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|' \
	-e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|' \
	-e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|-lserialport $(ENGINE_DEPS)|'

install: all $(INSTALL_HOOKS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/athttp $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 755 $(WRAPPER) $(EMU) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(PRELOAD) $(DESTDIR)$(PREFIX)/lib/athttp/
	install -m 644 include/athttp.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(API_SO) $(API_A) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(API_SO)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libathttp.so
	sed $(PC_SUBST) athttp.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/athttp.pc

uninstall: $(UNINSTALL_HOOKS)
	rm -f $(DESTDIR)$(PREFIX)/bin/athttp $(DESTDIR)$(PREFIX)/bin/athttp-emu
	rm -rf $(DESTDIR)$(PREFIX)/lib/athttp
	rm -f $(DESTDIR)$(INCLUDEDIR)/athttp.h
	rm -f $(DESTDIR)$(LIBDIR)/libathttp.so $(DESTDIR)$(LIBDIR)/$(SONAME) \
		$(DESTDIR)$(LIBDIR)/$(notdir $(API_SO)) $(DESTDIR)$(LIBDIR)/libathttp.a \
		$(DESTDIR)$(LIBDIR)/pkgconfig/athttp.pc

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
