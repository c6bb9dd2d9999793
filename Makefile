# jwt: JSON Web Tokens for PostgreSQL (PGXS build)

EXTENSION = jwt
# The version lives in jwt.control only; this reads it from there.
EXTVERSION = $(shell grep -oP "^default_version\s*=\s*'\K[^']+" $(srcdir)/jwt.control)

MODULE_big = jwt
CORE_OBJS = src/core/alg.o src/core/b64url.o src/core/claims.o src/core/json.o \
	src/core/jwk_out.o src/core/jws.o src/core/key.o src/core/pkey.o \
	src/core/sig.o src/core/status.o
OBJS = $(CORE_OBJS) src/admin.o src/alg.o src/decode.o src/errors.o src/jsonbwrite.o src/jsonin.o \
	src/jsonout.o src/issue.o src/issuers.o src/jsonbkey.o src/jwt.o src/keycache.o src/keys.o src/logins.o \
	src/registry.o src/rotation.o src/scopes.o src/session.o src/settings.o src/sign.o src/statement.o src/verify.o src/wake.o

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
# jwt.so exports its entry points only (src/exports.map says which and why),
# and binds its own calls to its own functions (-Bsymbolic-functions): a
# library that PostgreSQL loaded before it, with RTLD_GLOBAL, can never stand
# in for one of them.  test/hygiene.py checks both.
SHLIB_LINK = -lcrypto -lm -Wl,--version-script=$(srcdir)/src/exports.map -Wl,-Bsymbolic-functions

EXTRA_CLEAN = test/core/run_core test/core/wycheproof

# [issuers] the fetcher, a library of its own: jwt_fetch.so links libcurl, so
# that an ordinary backend, which loads jwt.so only, never loads libcurl.  It
# holds the HTTP client, the URL policy, discovery, the administrative
# functions of identity providers and the background worker (src/fetch/),
# and a copy of the core (its JWKS importer); it reaches jwt.so through
# load_external_function(), never by linking to it.  PGXS builds one
# MODULE_big: this one has rules of its own below, hooked into all, install,
# uninstall and clean.
FETCH_LIB = jwt_fetch$(DLSUFFIX)
FETCH_OBJS = src/fetch/admin.o src/fetch/fetch.o src/fetch/http.o src/fetch/jwks.o \
	src/fetch/module.o src/fetch/store.o src/fetch/url.o src/fetch/worker.o
FETCH_LINK = -lcurl -lcrypto -lm

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# A VPATH build compiles into the build directory: give the objects their
# folders there.
ifneq ($(abspath $(srcdir)),$(CURDIR))
$(shell mkdir -p src/core src/fetch)
endif

# jwt_fetch.so: linked as PGXS links jwt.so (Makefile.shlib's "-shared" with
# LDFLAGS and LDFLAGS_SL), with a version script so that only the module's
# entry points are exported; its copy of the core stays local and never
# stands in for jwt.so's.
all: $(FETCH_LIB)

$(shlib): $(srcdir)/src/exports.map

$(FETCH_LIB): $(FETCH_OBJS) $(CORE_OBJS) $(srcdir)/src/fetch/exports.map
	$(CC) $(CFLAGS) -shared -o $@ $(FETCH_OBJS) $(CORE_OBJS) $(LDFLAGS) $(LDFLAGS_SL) \
		-Wl,--version-script=$(srcdir)/src/fetch/exports.map -Wl,-Bsymbolic-functions $(FETCH_LINK)

$(FETCH_OBJS): src/jwt.h src/compat.h src/core/jose.h src/fetch/fetch.h src/wake_shmem.h
src/wake.o src/jwt.o: src/wake.h src/wake_shmem.h

install: install-fetch
install-fetch: $(FETCH_LIB) installdirs
	$(INSTALL_SHLIB) $(FETCH_LIB) '$(DESTDIR)$(pkglibdir)/$(FETCH_LIB)'

uninstall: uninstall-fetch
uninstall-fetch:
	rm -f '$(DESTDIR)$(pkglibdir)/$(FETCH_LIB)'

clean: clean-fetch
clean-fetch:
	rm -f $(FETCH_LIB) $(FETCH_OBJS)

.PHONY: install-fetch uninstall-fetch clean-fetch

# The PGXN distribution: the committed tree, named for the version.
dist:
	git archive --format zip --prefix=$(EXTENSION)-$(EXTVERSION)/ -o $(EXTENSION)-$(EXTVERSION).zip HEAD

.PHONY: dist

# PGXS tracks no header dependencies: name them, so a changed header rebuilds.
$(CORE_OBJS): src/core/jose.h src/core/key_internal.h
$(filter-out $(CORE_OBJS),$(OBJS)): src/jwt.h src/compat.h src/core/jose.h
src/issuers.o src/wake.o: src/wake.h
src/jsonin.o src/jsonbwrite.o: src/jsonbwrite.h

# The core alone, with no PostgreSQL header or library: what the fuzzer and
# the vector runners link.
CORE_SRCS = $(CORE_OBJS:.o=.c)
CORE_CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes

test/core/run_core: test/core/run_core.c test/core/vectors.c test/core/mutants.c test/core/testutil.h test/core/tapewalk.h $(CORE_SRCS) src/core/jose.h
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

$(FUZZ_TARGETS): test/fuzz/%: test/fuzz/%.c test/fuzz/fuzz.h test/core/tapewalk.h $(CORE_SRCS) src/core/jose.h src/core/key_internal.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(CORE_SRCS) -lcrypto -lm

fuzz-build: $(FUZZ_TARGETS)

.PHONY: fuzz-build
