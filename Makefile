# gridline — plain Makefile with pkg-config.
#
#   make            build build/gridlined and build/gridlinectl
#   make check      install missing -dev packages, build, run every test
#   make demo       build and run the daemon on the spool provider with seeds/
#   make asan       the test suite under AddressSanitizer + UBSan (build-asan/)
#   make valgrind   the unit tests under valgrind
#   make clean
#
# WERROR=1 turns warnings into errors (CI sets it).

PREFIX   ?= /usr/local
BUILD    ?= build
CC       ?= cc
CFLAGS   ?= -O2 -g
PKG_CONFIG ?= pkg-config

# pkg-config name -> Debian package that provides it. The daemon and
# gridlinectl link CORE_PKGS; the network module gridline-net.so (src/net/,
# loaded only for a network provider) links NET_PKGS as well.
CORE_PKGS = sqlite3 libconfig libsystemd jansson
NET_PKGS  = libcurl libcrypto
PKGS      = $(CORE_PKGS) $(NET_PKGS)
TEST_PKGS = cmocka
deb_libcurl    = libcurl4-openssl-dev
deb_sqlite3    = libsqlite3-dev
deb_libconfig  = libconfig-dev
deb_libsystemd = libsystemd-dev
deb_jansson    = libjansson-dev
deb_libcrypto  = libssl-dev
deb_cmocka     = libcmocka-dev

WARN = -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
       -Wno-unused-parameter -Wvla -Wpointer-arith -Wundef
ifeq ($(WERROR),1)
WARN += -Werror
endif

# Recursive (=) so pkg-config runs after the deps step has installed things.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
CORE_LIBS  = $(shell $(PKG_CONFIG) --libs $(CORE_PKGS) 2>/dev/null)
NET_LIBS   = $(shell $(PKG_CONFIG) --libs $(NET_PKGS) jansson libsystemd 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
TEST_LIBS  = $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)
ALL_CFLAGS = -std=gnu17 $(WARN) $(CFLAGS) -Iinclude $(PKG_CFLAGS) -MMD -MP \
             -DGRIDLINE_VERSION=\"$(VERSION)\" -DGRIDLINE_MODULEDIR=\"$(MODULEDIR)\"
MODULEDIR ?= $(PREFIX)/lib/gridline
# The module resolves the daemon's own functions against the executable.
EXPORT    = -Wl,--export-dynamic
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

MAINS    = src/gridlined.c src/gridlinectl.c
LIB_SRC  = $(filter-out $(MAINS),$(wildcard src/*.c))
LIB_OBJ  = $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
NET_SRC  = $(wildcard src/net/*.c)
NET_OBJ  = $(NET_SRC:src/net/%.c=$(BUILD)/obj/net/%.o)
NET_MOD  = $(BUILD)/gridline-net.so
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
DEPS     = $(BUILD)/.deps-ok

.PHONY: all deps check unit integration demo asan valgrind bench bench-scale clean install FORCE
all: $(BUILD)/gridlined $(BUILD)/gridlinectl $(NET_MOD)

# Install what pkg-config cannot find (as root), or say exactly how.
$(DEPS):
	@missing=""; \
	command -v $(PKG_CONFIG) >/dev/null 2>&1 || missing="pkg-config"; \
	command -v python3 >/dev/null 2>&1 || missing="$$missing python3"; \
	command -v faketime >/dev/null 2>&1 || missing="$$missing faketime"; \
	for p in $(PKGS) $(TEST_PKGS); do \
	  $(PKG_CONFIG) --exists $$p 2>/dev/null || case $$p in \
	    libcurl) missing="$$missing $(deb_libcurl)";; sqlite3) missing="$$missing $(deb_sqlite3)";; \
	    libconfig) missing="$$missing $(deb_libconfig)";; libsystemd) missing="$$missing $(deb_libsystemd)";; \
	    jansson) missing="$$missing $(deb_jansson)";; libcrypto) missing="$$missing $(deb_libcrypto)";; \
	    cmocka) missing="$$missing $(deb_cmocka)";; esac; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null || \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; } || exit 1; \
	  else \
	    echo "missing build dependencies; run:"; \
	    echo "  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi
	@mkdir -p $(BUILD) && touch $@

$(BUILD)/obj/%.o: src/%.c | $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# provider.o holds MODULEDIR: rebuild it when that changes (make install PREFIX=...).
$(BUILD)/.moduledir: FORCE | $(DEPS)
	@echo '$(MODULEDIR)' | cmp -s - $@ || echo '$(MODULEDIR)' > $@
$(BUILD)/obj/provider.o: $(BUILD)/.moduledir
FORCE:

$(BUILD)/obj/net/%.o: src/net/%.c | $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(BUILD)/libgridline.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/libgridline-net.a: $(NET_OBJ)
	$(AR) rcs $@ $^

$(NET_MOD): $(NET_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -o $@ $^ $(NET_LIBS)

$(BUILD)/gridlined: $(BUILD)/obj/gridlined.o $(BUILD)/libgridline.a
	$(CC) $(CFLAGS) $(LDFLAGS) $(EXPORT) -o $@ $^ $(CORE_LIBS) -lm

$(BUILD)/gridlinectl: $(BUILD)/obj/gridlinectl.o $(BUILD)/libgridline.a
	$(CC) $(CFLAGS) $(LDFLAGS) $(EXPORT) -o $@ $^ $(CORE_LIBS) -lm

# Unit tests link the network code in (whole, so provider.c finds its table
# without loading the module).
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libgridline.a $(BUILD)/libgridline-net.a | $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< \
	  -Wl,--whole-archive $(BUILD)/libgridline-net.a -Wl,--no-whole-archive \
	  $(BUILD)/libgridline.a $(PKG_LIBS) $(TEST_LIBS) -lm

# Every test; the runner ends with "N passed, N failed".
check: all $(UNIT_BIN)
	@BUILD=$(BUILD) python3 tests/run.py

unit: all $(UNIT_BIN)
	@BUILD=$(BUILD) python3 tests/run.py --unit

integration: all
	@BUILD=$(BUILD) python3 tests/run.py --integration

asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	        LDFLAGS="-fsanitize=address,undefined" check

valgrind: all $(UNIT_BIN)
	@BUILD=$(BUILD) VALGRIND=1 python3 tests/run.py --unit

demo: all
	@BUILD=$(BUILD) sh seeds/demo.sh

bench: all
	@BUILD=$(BUILD) sh bench/run.sh

bench-scale: all
	@BUILD=$(BUILD) python3 bench/scale.py

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MODULEDIR) $(DESTDIR)/etc/gridline \
	  $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(BUILD)/gridlined $(BUILD)/gridlinectl $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(NET_MOD) $(DESTDIR)$(MODULEDIR)/
	install -m 644 docs/gridlined.8 docs/gridlinectl.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	test -e $(DESTDIR)/etc/gridline/gridline.conf || install -m 640 conf/gridline.conf $(DESTDIR)/etc/gridline/

clean:
	rm -rf build build-asan

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/obj/net/*.d $(BUILD)/tests/*.d)
