# libFuzzer targets (fuzz/fuzz_*.c), read by the Makefile's include of
# mk/*.mk.  `make fuzz-build` builds them with clang under ASan and UBSan
# into $(BUILD)/fuzz/ (flags of their own, whatever SANITIZER says);
# `make fuzz` runs each for FUZZ_SECONDS (fuzz/run.sh: execs, coverage,
# finds; a crash fails it and leaves its reproducer), then the AT
# injection property test at ATHTTP_INJECT_COUNT=10000000 when
# tests/unit/test_at_injection.c is there.  tests/e2e/test_fuzz.sh runs
# the targets briefly inside `make check`.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=gnu11 -O1 -g $(WARN) -D_GNU_SOURCE $(LARGEFILE) -Iinclude -Isrc -Ifuzz $(CPPFLAGS) \
	-fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_SRC     := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_HELP    := $(filter-out $(FUZZ_SRC),$(sort $(wildcard fuzz/*.c)))
FUZZ_BIN     := $(FUZZ_SRC:fuzz/%.c=$(FUZZ_DIR)/bin/%)
FUZZ_ENGINE  := $(ENGINE_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_HOBJ    := $(FUZZ_HELP:%.c=$(FUZZ_DIR)/obj/%.o)
INJECT_SRC   := $(wildcard tests/unit/test_at_injection.c)

.PHONY: fuzz fuzz-build
.SECONDARY: $(FUZZ_SRC:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_HOBJ) $(FUZZ_ENGINE)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/bin/%: $(FUZZ_DIR)/obj/fuzz/%.o $(FUZZ_HOBJ) $(FUZZ_ENGINE)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_HOBJ) $(FUZZ_ENGINE) $(ENGINE_LIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build $(INJECT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) sh fuzz/run.sh $(FUZZ_BIN)
ifneq ($(INJECT_SRC),)
	ATHTTP_INJECT_COUNT=10000000 $(BUILD)/tests/test_at_injection
endif

# The same targets compiled as plain objects (CC, SANITIZER as for the
# rest), each entry point renamed <target>_one, for
# tests/unit/test_fuzz_regressions.c: it replays every input under
# fuzz/regressions/<target>/ (the crashes fuzzing found, kept once fixed).
FUZZ_PLAIN_OBJ := $(patsubst fuzz/%.c,$(BUILD)/fuzz/plain/%.o,$(FUZZ_SRC) $(FUZZ_HELP))
$(BUILD)/fuzz/plain/%.o: fuzz/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ifuzz -DLLVMFuzzerTestOneInput=$*_one -MMD -MP -c $< -o $@
# (Its readdir needs ALL_CFLAGS' LARGEFILE: a 32-bit build, armhf under
# qemu-user on a 64-bit host, otherwise gets EOVERFLOW for the host's inode
# numbers and sees an empty directory.)
$(BUILD)/tests/unit/test_fuzz_regressions.o: ALL_CFLAGS += -Ifuzz -DFUZZ_REGRESSIONS='"$(CURDIR)/fuzz/regressions"'
$(BUILD)/tests/test_fuzz_regressions: $(BUILD)/tests/unit/test_fuzz_regressions.o $(FUZZ_PLAIN_OBJ) $(UNIT_HOBJ) $(INTERNAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(FUZZ_PLAIN_OBJ) $(UNIT_HOBJ) $(INTERNAL_A) $(ENGINE_LIBS) $(CMOCKA_LIBS)
.SECONDARY: $(FUZZ_PLAIN_OBJ)
