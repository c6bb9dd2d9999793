/*
 * fetch.h
 *		Declarations shared by the files of jwt_fetch.so, the fetcher of the
 *		identity providers' keys (see the Makefile for why it is a library of
 *		its own).
 *
 * A fetch has three parts, so that no lock is held and no database
 * connection is needed while the network is used:
 *
 *	- a plan (store.c), read from jwt_issuers and jwt_issuer_fetches as the
 *	  extension's owner: for each issuer due, what to fetch (FetchItem), and
 *	  the database's settings and URL policy (FetchConfig);
 *	- the fetch itself (fetch.c over http.c, url.c and jwks.c): discovery,
 *	  the JWKS, every URL checked against the policy, the set filtered by the
 *	  core's importer; it touches no table and gives a FetchResult;
 *	- the write (store.c): jwt_issuers.jwks only when the set changed, the
 *	  jwt_issuer_fetches row always, in one short statement each.
 *
 * jwt_refresh_issuers() and jwt_add_issuer() run the three in their own
 * backend; the background worker (worker.c) plans and writes in short-lived
 * workers connected to the database and fetches in the launcher, which is
 * connected to none.
 */
#ifndef JWT_FETCH_H
#define JWT_FETCH_H

#include "postgres.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/timestamp.h"

#include "jwt.h"

/* module.c: what jwt_fetch.so reaches in jwt.so, found when it loads */
typedef struct JwtLib
{
	void		(*admin_begin_ext) (Oid nsp, Oid owner, AdminCall *c);
	uint64		(*admin_exec) (AdminCall *c, const char *sql, int nargs, Oid *types,
							   Datum *values, const char *nulls, int expect);
	void		(*admin_end) (AdminCall *c);
	Oid			(*extension_owner) (Oid fn_oid);
	/* wake.c: the launcher's shared state (src/wake_shmem.h) */
	bool		(*wake_launcher_attach) (void);
	void		(*wake_launcher_detach) (void);
	int			(*wake_databases) (const Oid *dbs, int n, const bool *candidate, Oid *unserved);
	void		(*wake_idle) (Oid db);
	Oid			(*wake_next) (TimestampTz now, TimestampTz *until);
	int			(*wake_take) (Oid db, uint64 *hashes, int max, bool *all);
	void		(*wake_schedule) (Oid db, TimestampTz next_due);
	uint64		(*wake_hash) (const char *s, size_t len);
} JwtLib;

extern JwtLib jwtlib;

/* The outcomes of a fetch, as jwt_issuer_fetches.outcome spells them. */
typedef enum FetchOutcome
{
	FO_OK,
	FO_NOT_MODIFIED,
	FO_HTTP_STATUS,
	FO_TIMEOUT,
	FO_CONNECT,
	FO_TLS,
	FO_TOO_LARGE,
	FO_REDIRECT,
	FO_PARSE,
	FO_EMPTY,
	FO_SECRET,
	FO_ISSUER_MISMATCH,
	FO_URL_REFUSED
} FetchOutcome;

extern const char *fetch_outcome_name(FetchOutcome o);

/* A database's settings for fetching, and its URL policy. */
typedef struct FetchConfig
{
	int			connect_timeout;	/* seconds */
	int			timeout;		/* seconds, per request */
	int			max_size;		/* bytes received, per response */
	int			refresh_min;	/* seconds */
	int			refresh_max;	/* seconds */
	char	   *ca_file;		/* "" for the system's store */
	char	   *prefixes;		/* jwt.issuer_url_prefixes */
	bool		any_url;		/* no prefix needed (see url.c and store.c) */
	TimestampTz deadline;		/* the issuer's fetch ends by then; 0: none */
} FetchConfig;

/* An issuer's whole fetch (discovery, key set, redirects) ends within this many jwt.issuer_timeout. */
#define FETCH_DEADLINE_TIMEOUTS 2

/* At most this many keys in a fetched set (a set with more is refused whole). */
#define FETCH_MAX_KEYS 100
/* RSA keys over this many bits are left out (each backend imports every key). */
#define FETCH_MAX_RSA_BITS 8192

/* One issuer to fetch. */
typedef struct FetchItem
{
	char	   *issuer;
	char	   *jwks_uri;		/* registered, or NULL: discovered */
	char	   *etag;			/* for If-None-Match, or NULL */
	char	   *etag_uri;		/* the URL the etag came from */
	int			failures;		/* consecutive failures before this fetch */
	bool		url_prefixed;	/* jwt_issuers.url_prefixed: every URL needs a prefix */
} FetchItem;

/* What a fetch found; never key material but the public keys it keeps. */
typedef struct FetchResult
{
	char	   *issuer;
	char	   *jwks_uri;		/* the item's, to see nothing changed since */
	FetchOutcome outcome;
	int			http_status;	/* 0: none */
	char	   *detail;			/* or NULL */
	char	   *discovered_jwks_uri;	/* or NULL */
	char	   *etag;			/* the JWKS response's, when ok */
	char	   *jwks;			/* ok: {"keys":[...]} of the keys taken */
	int			nkeys;
	int			refused_keys;
	int			failures;		/* consecutive failures, this one counted */
	TimestampTz attempted_at;
	TimestampTz finished_at;
	TimestampTz next_fetch_at;
} FetchResult;

#define FETCH_SUCCEEDED(o) ((o) == FO_OK || (o) == FO_NOT_MODIFIED)

/* url.c: https URLs parsed by libcurl's URL API, and the policy */
typedef struct FetchUrl
{
	char	   *url;			/* normalised, what is fetched */
	char	   *host;			/* lower case */
	char	   *port;			/* always given: 443 by default */
	char	   *path;			/* "/" at least, dot segments removed */
	bool		has_query;
	bool		has_fragment;
} FetchUrl;

extern bool url_parse(const char *text, FetchUrl *out, char **why);
extern bool url_allowed(const FetchConfig *cfg, const FetchUrl *u, char **why);
extern bool url_same_origin(const FetchUrl *a, const FetchUrl *b);
extern char *url_oidc_discovery(const char *issuer);
extern char *url_rfc8414_discovery(const FetchUrl *issuer);
extern char *url_for_log(const char *url);
extern char *fetch_shown(const char *s, size_t max);

/* http.c: one GET over HTTPS, within the configuration's limits */
typedef struct HttpResponse
{
	FetchOutcome failure;		/* FO_OK when a response came */
	int			status;
	char	   *detail;			/* why it failed, or NULL */
	char	   *body;
	size_t		len;
	char	   *etag;			/* or NULL */
	int			max_age;		/* Cache-Control max-age; -1: none */
	char	   *location;		/* a redirect's absolute target, or NULL */
} HttpResponse;

extern void http_get(const FetchConfig *cfg, const char *url, const char *etag,
					 HttpResponse *out);
extern const char *http_curl_version(void);
extern bool http_etag_valid(const char *s, size_t len);

/* jwks.c: the keys of a fetched JWKS that the session path can use */
extern FetchOutcome jwks_filter(const char *body, size_t len, StringInfo kept,
								int *nkept, int *refused, char **detail);
extern int	fetch_should_stop(void *arg);

/* fetch.c: one issuer's fetch, start to end, with no table touched */
extern void fetch_issuer(const FetchConfig *cfg, const FetchItem *item, FetchResult *res);

/* store.c: the plan and the write, as the extension's owner */
extern void store_config(FetchConfig *cfg, bool any_url);
extern List *store_plan(AdminCall *c, const char *only, bool only_due,
						const uint64 *wakes, int nwakes, bool wake_all,
						TimestampTz *earliest_other);
extern bool store_apply(AdminCall *c, const FetchResult *r);
extern TimestampTz store_next_due(AdminCall *c);
extern bool store_find_extension(Oid *nsp, Oid *owner);

/* worker.c: serialising plans and results for the background worker */
extern PGDLLEXPORT void jwt_fetch_launcher_main(Datum arg);
extern PGDLLEXPORT void jwt_fetch_db_main(Datum arg);

#endif							/* JWT_FETCH_H */
