# athttp — see README.md.  Targets: all check demo bench install uninstall
# deps valgrind clean.  Variables: PREFIX DESTDIR SANITIZER=address|undefined
# CC CFLAGS CPPFLAGS LDFLAGS.

PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
CC       ?= cc

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
OPT      ?= -O2 -g
CFLAGS   ?=
ALL_CFLAGS := -std=gnu11 $(OPT) $(WARN) -fPIC -D_GNU_SOURCE -Iinclude -Isrc $(CFLAGS)
LDFLAGS  ?=
# dpkg-buildflags puts -D_FORTIFY_SOURCE in CPPFLAGS.
CPPFLAGS ?=
ALL_CFLAGS += $(CPPFLAGS)

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
ENGINE_LIBS := $(SP_LIBS) -lhttp_parser $(TLS_LIBS) -lpthread

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
BENCH_SRC   := $(sort $(wildcard bench/*.c))
BENCH_BIN   := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
EXAMPLE_BIN := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)

LIB      := $(BUILD)/lib/libathttp.a
PRELOAD  := $(BUILD)/lib/athttp/libathttp-preload.so
WRAPPER  := $(BUILD)/bin/athttp
EMU      := $(BUILD)/bin/athttp-emu

.PHONY: all check unit e2e demo bench install uninstall deps valgrind clean
all: $(LIB) $(PRELOAD) $(WRAPPER) $(EMU) $(EXAMPLE_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# The preload library: hooks and engine, only the hooks visible.  The engine
# comes in as an archive so --exclude-libs hides its symbols: a program that
# defines a function of the same name must never take over the engine's calls.
$(BUILD)/preload/%.o: ALL_CFLAGS += -fvisibility=hidden

$(LIB): $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(PRELOAD): $(PRELOAD_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -shared -fvisibility=hidden -Wl,--exclude-libs,ALL -Wl,-z,defs $(LDFLAGS) -o $@ $(PRELOAD_OBJ) $(LIB) $(ENGINE_LIBS) -ldl

TOOLS_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard tools/*.c)))
$(WRAPPER): $(TOOLS_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(TOOLS_OBJ) $(LIB) $(ENGINE_LIBS)

$(EMU): $(EMU_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lhttp_parser $(TLS_LIBS) -lpthread -lutil

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(UNIT_HOBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(UNIT_HOBJ) $(LIB) $(ENGINE_LIBS) $(CMOCKA_LIBS)

# Unit tests of the preload library's plain logic: linked with those objects
# only, never with the hooks (they would interpose inside the test itself).
PRELOAD_PURE_OBJ := $(patsubst %,$(BUILD)/preload/%.o,bypass etchosts fakedns fdtable netaddr)
$(BUILD)/tests/unit/test_preload_%.o: ALL_CFLAGS += -Ipreload
$(BUILD)/tests/test_preload_%: $(BUILD)/tests/unit/test_preload_%.o $(PRELOAD_PURE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) -lpthread

$(BUILD)/bench/%: $(BUILD)/bench/%.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< -lpthread

# The handshake benchmark drives the engine's own TLS server.
$(BUILD)/bench/tls_handshake: $(BUILD)/bench/tls_handshake.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(ENGINE_LIBS)

$(BUILD)/examples/%: $(BUILD)/examples/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(ENGINE_LIBS)

deps:
	@sh tools/deps.sh

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@BUILD=$(BUILD) sh tests/run.sh $(UNIT_BIN)

unit: all $(UNIT_BIN)
	@BUILD=$(BUILD) sh tests/run.sh --unit-only $(UNIT_BIN)

e2e: all
	@BUILD=$(BUILD) sh tests/run.sh --e2e-only

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) sh tools/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@BUILD=$(BUILD) sh bench/run.sh

valgrind: all $(UNIT_BIN)
	@for t in $(UNIT_BIN); do valgrind -q --error-exitcode=1 --leak-check=full $$t || exit 1; done

# More that installs or uninstalls (man pages, shell completion, ...): each
# mk/<piece>.mk adds its own targets to these two lists.
INSTALL_HOOKS   :=
UNINSTALL_HOOKS :=
include $(sort $(wildcard mk/*.mk))

install: all $(INSTALL_HOOKS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/athttp $(DESTDIR)$(PREFIX)/include
	install -m 755 $(WRAPPER) $(EMU) $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(PRELOAD) $(DESTDIR)$(PREFIX)/lib/athttp/
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/athttp/
	install -m 644 include/athttp.h $(DESTDIR)$(PREFIX)/include/

uninstall: $(UNINSTALL_HOOKS)
	rm -f $(DESTDIR)$(PREFIX)/bin/athttp $(DESTDIR)$(PREFIX)/bin/athttp-emu
	rm -rf $(DESTDIR)$(PREFIX)/lib/athttp
	rm -f $(DESTDIR)$(PREFIX)/include/athttp.h

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
