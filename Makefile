# jwt: JSON Web Tokens for PostgreSQL (PGXS build)

EXTENSION = jwt
# The version lives in jwt.control only; this reads it from there.
EXTVERSION = $(shell grep -oP "^default_version\s*=\s*'\K[^']+" $(srcdir)/jwt.control)

MODULE_big = jwt
CORE_OBJS = src/core/alg.o src/core/b64url.o src/core/claims.o src/core/json.o \
	src/core/jwk_out.o src/core/jws.o src/core/key.o src/core/pkey.o \
	src/core/sig.o src/core/status.o
OBJS = $(CORE_OBJS) src/admin.o src/alg.o src/decode.o src/errors.o src/jsonout.o \
	src/issue.o src/jsonbkey.o src/jwt.o src/keycache.o src/keys.o src/logins.o src/registry.o src/rotation.o src/session.o \
	src/settings.o src/sign.o src/verify.o

# Every install and update script of every version ever shipped: the library
# serves them all.  Named from $(srcdir), so that a VPATH build (Debian's
# pg_buildext builds in build-<version>/) finds them too.
DATA = $(notdir $(wildcard $(srcdir)/$(EXTENSION)--*.sql))
PGFILEDESC = "jwt - JSON Web Tokens"

TESTS = $(wildcard $(srcdir)/sql/*.sql)
REGRESS = $(basename $(notdir $(TESTS)))
REGRESS_OPTS = --load-extension=$(EXTENSION)

PG_CPPFLAGS = -I$(srcdir)/src
# No -Werror here: a newer compiler or server must not break a user's or a
# packager's build.  The test command (test/run) adds it, as pgvector does:
#     make COPT=-Werror
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers
SHLIB_LINK = -lcrypto -lm

EXTRA_CLEAN = test/core/run_core test/core/wycheproof

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# A VPATH build compiles into the build directory: give the objects their
# folders there.
ifneq ($(abspath $(srcdir)),$(CURDIR))
$(shell mkdir -p src/core)
endif

# The PGXN distribution: the committed tree, named for the version.
dist:
	git archive --format zip --prefix=$(EXTENSION)-$(EXTVERSION)/ -o $(EXTENSION)-$(EXTVERSION).zip HEAD

.PHONY: dist

# PGXS tracks no header dependencies: name them, so a changed header rebuilds.
$(CORE_OBJS): src/core/jose.h src/core/key_internal.h
$(filter-out $(CORE_OBJS),$(OBJS)): src/jwt.h src/compat.h src/core/jose.h

# The core alone, with no PostgreSQL header or library: what the fuzzer and
# the vector runners link.
CORE_SRCS = $(CORE_OBJS:.o=.c)
CORE_CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes

test/core/run_core: test/core/run_core.c test/core/vectors.c test/core/mutants.c $(CORE_SRCS) src/core/jose.h
	$(CC) $(CORE_CFLAGS) -Isrc -o $@ test/core/run_core.c test/core/vectors.c test/core/mutants.c $(CORE_SRCS) -lcrypto -lm

core-check: test/core/run_core
	test/core/run_core

.PHONY: core-check

# Wycheproof primitive vectors against the core, with no server.
test/core/wycheproof: test/core/wycheproof.c $(CORE_SRCS) src/core/jose.h
	$(CC) $(CORE_CFLAGS) -Isrc -o $@ test/core/wycheproof.c $(CORE_SRCS) -lcrypto -lm

wycheproof-check: test/core/wycheproof
	test/core/wycheproof

.PHONY: wycheproof-check

# libFuzzer harnesses over the core, with AddressSanitizer and
# UndefinedBehaviorSanitizer (LeakSanitizer comes with ASan): test/fuzz/run
# builds and runs them.  The binaries are in .gitignore (/test/fuzz/fuzz_*).
FUZZ_CC ?= clang
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc
FUZZ_TARGETS = test/fuzz/fuzz_verify test/fuzz/fuzz_json test/fuzz/fuzz_keys

$(FUZZ_TARGETS): test/fuzz/%: test/fuzz/%.c test/fuzz/fuzz.h $(CORE_SRCS) src/core/jose.h src/core/key_internal.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(CORE_SRCS) -lcrypto -lm

fuzz-build: $(FUZZ_TARGETS)

.PHONY: fuzz-build
