# zab - plain GNU make.
#
#   make                  static + shared library and the examples
#   make check            every test (Check framework)
#   make run              the demo
#   make bench            the benchmarks
#   make install PREFIX=/usr/local [DESTDIR=...]
#
# CC=clang and SANITIZE=1 (ASan + UBSan) select separate build directories,
# so one tree can hold every flavour side by side.

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
BINDIR ?= $(PREFIX)/bin
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

VERSION := 0.1.0
SOVERSION := 0

CC ?= cc
OPT ?= -O2 -g
STD := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wno-unused-parameter
SAN :=
ifeq ($(SANITIZE),1)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
CFLAGS_ALL := $(STD) $(WARN) $(OPT) $(SAN) $(CFLAGS)
LDFLAGS_ALL := $(SAN) $(LDFLAGS)

BUILD := build/$(notdir $(firstword $(CC)))$(if $(filter 1,$(SANITIZE)),-san)

LIB_SRC := $(sort $(wildcard lib/*.c lib/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_PIC := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)

STATIC := $(BUILD)/libzab.a
SHARED := $(BUILD)/libzab.so.$(VERSION)

EXAMPLES_SRC := $(sort $(wildcard examples/*.c))
EXAMPLES := $(EXAMPLES_SRC:examples/%.c=$(BUILD)/examples/%)
# zabd, the ZooKeeper-compatible server: every file of examples/zabd/, once
# it has its main (zabd.c).
ZABD_SRC := $(sort $(wildcard examples/zabd/*.c))
ZABD_DEPS := $(ZABD_SRC) $(wildcard examples/zabd/*.h)
ZABD := $(if $(wildcard examples/zabd/zabd.c),$(BUILD)/zabd)

TEST_SRC := $(sort $(wildcard tests/test_*.c))
TESTS := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_HELPERS := $(sort $(wildcard tests/helpers/*.c))
TEST_HELPER_OBJ := $(TEST_HELPERS:%.c=$(BUILD)/%.o)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/*.c))
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
BENCHES := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

LIB_CFLAGS := -Iinclude -Ilib -DZAB_BUILDING -fvisibility=hidden
TEST_CFLAGS := -Iinclude -Ilib -Itests

.PHONY: all lib examples check run bench install uninstall clean fuzz valgrind soak

all: lib examples

lib: $(STATIC) $(SHARED)

$(BUILD)/%.o: %.c $(wildcard include/*.h) $(wildcard lib/*.h lib/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LIB_CFLAGS) -c $< -o $@

$(BUILD)/pic/%.o: %.c $(wildcard include/*.h) $(wildcard lib/*.h lib/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LIB_CFLAGS) -fPIC -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(SHARED): $(LIB_PIC)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libzab.so.$(SOVERSION) $(LDFLAGS_ALL) -o $@ $^ -lpthread
	ln -sf libzab.so.$(VERSION) $(BUILD)/libzab.so.$(SOVERSION)
	ln -sf libzab.so.$(SOVERSION) $(BUILD)/libzab.so

examples: $(EXAMPLES) $(ZABD)

$(BUILD)/zabd: $(ZABD_DEPS) $(STATIC) $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iinclude $(ZABD_SRC) -o $@ $(LDFLAGS_ALL) $(STATIC) -lpthread

$(BUILD)/examples/%: examples/%.c $(STATIC) $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iinclude $< -o $@ $(LDFLAGS_ALL) $(STATIC) -lpthread

$(BUILD)/tests/helpers/%.o: tests/helpers/%.c $(wildcard tests/*.h tests/helpers/*.h) $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(TEST_CFLAGS) $(CHECK_CFLAGS) -c $< -o $@

# Tests of zabd include its sources: they rebuild when those change.
$(BUILD)/tests/%: tests/%.c $(STATIC) $(TEST_HELPER_OBJ) $(wildcard tests/*.h tests/helpers/*.h) \
                  $(ZABD_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(TEST_CFLAGS) $(CHECK_CFLAGS) $< $(TEST_HELPER_OBJ) -o $@ \
	    $(LDFLAGS_ALL) $(STATIC) $(CHECK_LIBS) -lpthread -lm

$(BUILD)/bench/%: tests/bench/%.c $(STATIC) $(wildcard tests/bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(TEST_CFLAGS) $< -o $@ $(LDFLAGS_ALL) $(STATIC) -lpthread -lm

# Every test binary runs; the summary counts them all before failing.
check: all $(TESTS)
	@BUILD=$(BUILD) CC="$(CC)" sh tests/run.sh $(TESTS)

# libFuzzer binaries (clang): build/fuzz/<target>; run e.g.
#   build/fuzz/fuzz_snapshot -max_total_time=60
# The same targets run over seeded corpora in `make check`.
# The library is compiled into each fuzzer so its code is coverage-guided.
fuzz:
	@mkdir -p build/fuzz
	for f in $(FUZZ_SRC); do \
	    clang $(STD) -g -O1 -Iinclude -Ilib -Itests -DZAB_LIBFUZZER -DZAB_BUILDING \
	        -fsanitize=fuzzer,address,undefined $$f $(LIB_SRC) \
	        -o build/fuzz/$$(basename $$f .c) -lpthread || exit 1; \
	done

valgrind: all $(TESTS)
	@BUILD=$(BUILD) CC="$(CC)" VALGRIND=1 sh tests/run.sh $(TESTS)

# Many more randomized ensemble runs than `make check` does (SOAK seeds).
SOAK ?= 500
soak: $(BUILD)/tests/test_sim_random $(BUILD)/tests/test_linearizable
	ZAB_SOAK=$(SOAK) CK_DEFAULT_TIMEOUT=0 $(BUILD)/tests/test_sim_random
	ZAB_LIN_SEEDS=$(SOAK) CK_DEFAULT_TIMEOUT=0 $(BUILD)/tests/test_linearizable

run: examples
	$(BUILD)/examples/hello_cluster

bench: $(BENCHES)
	@for b in $(BENCHES); do $$b || exit 1; done

install: lib $(ZABD)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7
	install -m 644 include/zab.h include/zab_zk.h include/zab_sim.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libzab.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libzab.so.$(SOVERSION)
	ln -sf libzab.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libzab.so
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    pkgconfig/zab.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/zab.pc
	$(if $(ZABD),install -d $(DESTDIR)$(BINDIR) && install -m 755 $(ZABD) $(DESTDIR)$(BINDIR)/zabd)
	$(if $(wildcard man/man1/*.1),install -m 644 man/man1/*.1 $(DESTDIR)$(MANDIR)/man1/)
	install -m 644 man/man3/*.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 man/man7/*.7 $(DESTDIR)$(MANDIR)/man7/

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/zab.h $(DESTDIR)$(INCLUDEDIR)/zab_sim.h $(DESTDIR)$(INCLUDEDIR)/zab_zk.h $(DESTDIR)$(LIBDIR)/libzab.* \
	    $(DESTDIR)$(PKGCONFIGDIR)/zab.pc $(DESTDIR)$(BINDIR)/zabd
	for f in man/man1/*.1; do rm -f $(DESTDIR)$(MANDIR)/man1/$$(basename $$f); done
	for f in man/man3/*.3; do rm -f $(DESTDIR)$(MANDIR)/man3/$$(basename $$f); done
	for f in man/man7/*.7; do rm -f $(DESTDIR)$(MANDIR)/man7/$$(basename $$f); done

clean:
	rm -rf build
