/*
 * issuers.c
 *		The registered identity providers (jwt_issuers) as this backend sees
 *		them, the choice of key set for a session token by its "iss", and
 *		jwt_issuer_jwks().
 *
 * jwt_issuers is read with the key registry: registry_load() (registry.c)
 * scans it through jwt_issuers_scan(), under the statement's snapshot and
 * counted like the registry's own tables, so a change to an issuer or its
 * keys reaches every session from its next statement, as a change to
 * jwt_keys does, and one statement sees one registry.  Each issuer's stored
 * key set is imported once per load by the core's importer.
 *
 * Routing.  A session token's payload is read before its signature is
 * checked (jose_peek_payload), only to find its "iss" among the registered
 * issuers and their aliases, by exact match on the decoded string.  A token
 * that names one is verified with that issuer's keys only, against its
 * algorithms and audiences, and its "iss" must equal the spelling that
 * chose it; jose_verify() then checks every rule in its order, as for any
 * token, so nothing read by the peek is believed.  A token that names no
 * registered issuer (or whose payload does not parse) takes the registry
 * path exactly as before issuers existed: a registry key never verifies a
 * token that names a registered issuer, and no issuer's key verifies one
 * that names another.
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "jwt.h"
#include "wake.h"

/* What a token that names no single issuer may use: asymmetric signatures. */
#define ISSUER_ALGS		(JOSE_ALGS_ALL & ~JOSE_ALGS_HMAC)

struct JwtIssuer
{
	char	   *issuer;			/* the registered spelling, NUL-terminated */
	char	  **aliases;
	int			naliases;
	char	  **audiences;		/* none: its tokens carry no "aud" */
	size_t	   *audience_lens;
	int			naudiences;
	jose_algset algorithms;		/* asymmetric only, never 0 */
	jose_keyset *keys;			/* its keys, indexed; no_keys when none */
};

/* A spelling of "iss" that chooses an issuer: its name or an alias. */
typedef struct IssuerName
{
	const char *name;
	size_t		len;
	const JwtIssuer *issuer;	/* &ambiguous when two issuers claim it */
} IssuerName;

Oid			jwt_issuers_relid = InvalidOid;

static MemoryContext issuers_context = NULL;
static JwtIssuer *issuers = NULL;
static int	nissuers = 0;
static int	issuers_cap = 0;
static IssuerName *names = NULL;	/* sorted by name_cmp */
static int	nnames = 0;

/* The key set of an issuer with none (not fetched yet, or refused): empty. */
static jose_keyset *no_keys = NULL;

/* The issuer a name claimed by two issuers routes to: no key verifies for it. */
static JwtIssuer ambiguous = {0};

/* Forget every issuer (before a load, and when one fails). */
void
jwt_issuers_reset(void)
{
	for (int i = 0; i < nissuers; i++)
		if (issuers[i].keys != no_keys)
			jose_keyset_free(issuers[i].keys);
	issuers = NULL;
	nissuers = 0;
	issuers_cap = 0;
	names = NULL;
	nnames = 0;
	if (issuers_context != NULL)
		MemoryContextReset(issuers_context);
}

/* The strings of a text[] (NULL elements, which the table refuses, skipped). */
static int
text_array(Datum d, char ***out, size_t **lens)
{
	ArrayType  *arr = DatumGetArrayTypeP(d);
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				m = 0;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	*out = MemoryContextAlloc(issuers_context, (n + 1) * sizeof(char *));
	if (lens != NULL)
		*lens = MemoryContextAlloc(issuers_context, (n + 1) * sizeof(size_t));
	for (int i = 0; i < n; i++)
	{
		text	   *t;

		if (nulls[i])
			continue;
		t = DatumGetTextPP(elems[i]);
		(*out)[m] = MemoryContextStrdup(issuers_context, text_to_cstring(t));
		if (lens != NULL)
			(*lens)[m] = VARSIZE_ANY_EXHDR(t);
		m++;
	}
	return m;
}

/*
 * The issuer's algorithms: its list, or every asymmetric one.  A name that
 * is not an algorithm, or a list with no asymmetric algorithm, leaves the
 * issuer without keys (its tokens are refused) rather than with a wider set.
 */
static bool
issuer_algorithms(JwtIssuer *iss, bool isnull, Datum d)
{
	char	  **list;
	int			n;
	jose_algset set = 0;

	iss->algorithms = ISSUER_ALGS;
	if (isnull)
		return true;
	n = text_array(d, &list, NULL);
	for (int i = 0; i < n; i++)
	{
		jose_alg	alg = jose_alg_from_name(list[i], strlen(list[i]));

		if (alg == JOSE_ALG_UNSET)
		{
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("jwt issuers: the issuer \"%s\" is not used", iss->issuer),
					 errdetail("Its algorithms name \"%s\", which is not a JWS algorithm.", list[i]),
					 errhint("Algorithm names are case-sensitive: RS256, PS256, ES256, EdDSA, ...")));
			return false;
		}
		set |= JOSE_ALGBIT(alg);
	}
	if ((set & ISSUER_ALGS) == 0)
	{
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("jwt issuers: the issuer \"%s\" is not used", iss->issuer),
				 errdetail("Its algorithms name no asymmetric algorithm; an issuer's tokens are verified with its public keys.")));
		return false;
	}
	iss->algorithms = set & ISSUER_ALGS;
	return true;
}

/*
 * The issuer's stored key set, through the core's importer.  A set that no
 * longer imports, or that holds a shared secret (a fetch never stores one;
 * a direct write could), is not used: the issuer is left without keys.
 */
static void
issuer_keys(JwtIssuer *iss, Datum d)
{
	Jsonb	   *jb = DatumGetJsonbP(d);
	StringInfoData json;
	jose_keyset *ks = NULL;
	jose_status st;

	initStringInfo(&json);
	jwt_jsonb_to_json(&json, &jb->root);
	st = jose_keyset_import_stop(json.data, json.len, JOSE_KEY_TEXT, &jwt_stop, &ks);
	jose_cleanse(json.data, json.len);
	pfree(json.data);
	if (st == JOSE_E_KEYSET_EMPTY)
		return;					/* nothing fetched that could be used */
	if (jose_status_class_of(st) == JOSE_CLASS_INTERNAL)
		jwt_report(st, NULL);	/* out of memory, or a cancel */
	if (st == JOSE_OK)
	{
		for (size_t i = 0; i < jose_keyset_count(ks); i++)
			if (jose_key_kty(jose_keyset_key(ks, i)) == JOSE_KTY_OCT)
			{
				jose_keyset_free(ks);
				ereport(WARNING,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("jwt issuers: the key set of the issuer \"%s\" is not used", iss->issuer),
						 errdetail("It holds a shared secret; an issuer's keys are public keys.")));
				return;
			}
		iss->keys = ks;
		return;
	}
	ereport(WARNING,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("jwt issuers: the key set of the issuer \"%s\" is not used", iss->issuer),
			 errdetail("%s", jose_status_detail(st))));
}

static int
attnum(TupleDesc desc, const char *name, Oid type)
{
	int			n = SPI_fnumber(desc, name);

	/* a column read as another type than its own would be a wild pointer */
	if (n <= 0 || TupleDescAttr(desc, n - 1)->atttypid != type)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the jwt registry table \"jwt_issuers\" is not as the extension created it"),
				 errhint("Drop the table and run ALTER EXTENSION jwt UPDATE, or recreate the extension.")));
	return n - 1;
}

static int
name_cmp(const void *a, const void *b)
{
	const IssuerName *x = a,
			   *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->name, y->name, x->len);
}

/* The sorted table of every spelling; a spelling two issuers claim chooses neither. */
static void
names_build(void)
{
	int			n = 0,
				m = 0;

	for (int i = 0; i < nissuers; i++)
		n += 1 + issuers[i].naliases;
	names = MemoryContextAlloc(issuers_context, (n + 1) * sizeof(IssuerName));
	for (int i = 0; i < nissuers; i++)
	{
		names[m].name = issuers[i].issuer;
		names[m].len = strlen(issuers[i].issuer);
		names[m++].issuer = &issuers[i];
		for (int j = 0; j < issuers[i].naliases; j++)
		{
			names[m].name = issuers[i].aliases[j];
			names[m].len = strlen(issuers[i].aliases[j]);
			names[m++].issuer = &issuers[i];
		}
	}
	if (m > 1)
		qsort(names, m, sizeof(IssuerName), name_cmp);
	nnames = 0;
	for (int i = 0; i < m; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (nnames > 0 && name_cmp(&names[nnames - 1], &names[i]) == 0)
		{
			/* an issuer that lists its own name, or an alias twice, is still one */
			if (names[nnames - 1].issuer != names[i].issuer &&
				names[nnames - 1].issuer != &ambiguous)
			{
				ereport(WARNING,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("jwt issuers: \"%s\" names more than one issuer", names[i].name),
						 errdetail("Tokens whose iss is \"%s\" are refused.", names[i].name),
						 errhint("Keep each spelling of an issuer in one row of jwt_issuers, as its issuer or one of its aliases.")));
				names[nnames - 1].issuer = &ambiguous;
			}
			continue;
		}
		names[nnames++] = names[i];
	}
}

/*
 * Read jwt_issuers with snap, as registry_load reads the registry's tables:
 * every row counts in *nseen, and in *same when latest sees it too.
 */
void
jwt_issuers_scan(Relation rel, Snapshot snap, Snapshot latest, uint64 *nseen, uint64 *same)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			a_issuer = attnum(desc, "issuer", TEXTOID),
				a_aliases = attnum(desc, "aliases", TEXTARRAYOID),
				a_audience = attnum(desc, "audience", TEXTARRAYOID),
				a_algorithms = attnum(desc, "algorithms", TEXTARRAYOID),
				a_jwks = attnum(desc, "jwks", JSONBOID);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	TableScanDesc scan = jwt_table_beginscan(rel, snap);

	if (issuers_context == NULL)
		issuers_context = AllocSetContextCreate(TopMemoryContext, "jwt issuers",
												ALLOCSET_SMALL_SIZES);
	if (no_keys == NULL)
	{
		jose_keyset *ks = jose_keyset_new();

		if (ks == NULL || jose_keyset_index(ks) != JOSE_OK)
		{
			jose_keyset_free(ks);
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		}
		no_keys = ks;
		ambiguous.algorithms = ISSUER_ALGS;
		ambiguous.keys = no_keys;
	}

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		Datum	   *v;
		bool	   *isnull;
		JwtIssuer  *iss;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		(*nseen)++;
		if (latest != NULL && table_tuple_satisfies_snapshot(rel, slot, latest))
			(*same)++;
		slot_getallattrs(slot);
		v = slot->tts_values;
		isnull = slot->tts_isnull;
		if (isnull[a_issuer])
			continue;

		if (nissuers == issuers_cap)
		{
			issuers_cap = issuers_cap == 0 ? 8 : issuers_cap * 2;
			issuers = issuers == NULL ?
				MemoryContextAlloc(issuers_context, issuers_cap * sizeof(JwtIssuer)) :
				repalloc(issuers, issuers_cap * sizeof(JwtIssuer));
		}
		iss = &issuers[nissuers];
		memset(iss, 0, sizeof(*iss));
		iss->keys = no_keys;
		old = MemoryContextSwitchTo(issuers_context);
		iss->issuer = TextDatumGetCString(v[a_issuer]);
		MemoryContextSwitchTo(old);
		if (!isnull[a_aliases])
			iss->naliases = text_array(v[a_aliases], &iss->aliases, NULL);
		if (!isnull[a_audience])
			iss->naudiences = text_array(v[a_audience], &iss->audiences, &iss->audience_lens);
		nissuers++;				/* from here on, jwt_issuers_reset frees its keys */
		if (issuer_algorithms(iss, isnull[a_algorithms], v[a_algorithms]) && !isnull[a_jwks])
			issuer_keys(iss, v[a_jwks]);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	names_build();
}

/* The spelling of "iss" equal to s, or NULL. */
static const IssuerName *
name_find(const char *s, size_t len)
{
	IssuerName	key = {s, len, NULL};

	if (nnames == 0)
		return NULL;
	return bsearch(&key, names, nnames, sizeof(IssuerName), name_cmp);
}

/*
 * The issuer the token names, read from its payload before anything is
 * verified, only to choose the key set (buf: JOSE_VERIFY_BUFLEN(len)
 * bytes, used as scratch).  False, the registry path, when no issuer is
 * registered, the payload does not parse or its "iss" is not a string
 * naming one: jose_verify() then refuses what the peek could not read, in
 * the order of the rules.
 */
bool
jwt_issuer_route(const char *tok, size_t len, unsigned char *buf, size_t buflen,
				 JwtRoute *route)
{
	jose_json_object obj;
	const jose_json_value *iss;
	const IssuerName *found = NULL;

	memset(route, 0, sizeof(*route));
	if (nnames == 0 || buf == NULL)
		return false;
	if (jose_peek_payload(tok, len, (size_t) jwt_max_token_length, &jwt_stop, buf, buflen,
						  &obj) != JOSE_OK)
	{
		jose_json_object_free(&obj);
		return false;
	}
	iss = jose_json_get(&obj, "iss");
	if (iss != NULL && iss->type == JOSE_JSON_STRING)
	{
		char		small[256];
		char	   *s = iss->len <= sizeof(small) ? small : palloc(iss->len);
		size_t		n = jose_json_string_decode(iss, s);

		found = name_find(s, n);
		if (s != small)
			pfree(s);
	}
	jose_json_object_free(&obj);
	if (found == NULL)
		return false;
	route->issuer = found->issuer;
	route->iss = found->name;
	route->iss_len = found->len;
	return true;
}

/* The name of the issuer s names (its name or an alias), or NULL: none, or more than one. */
const char *
jwt_issuer_name_of(const char *s, size_t len)
{
	const IssuerName *found = name_find(s, len);

	if (found == NULL || found->issuer == &ambiguous)
		return NULL;
	return found->issuer->issuer;
}

/* Whether any issuer is registered (a token naming none then takes the registry path). */
bool
jwt_issuers_registered(void)
{
	return nnames > 0;
}

/* The claim rules of a routed token: its issuer's audiences, and its iss exactly. */
void
jwt_issuer_rules(const JwtRoute *route, jose_claim_rules *rules)
{
	const JwtIssuer *iss = route->issuer;

	rules->audience = NULL;
	rules->audience_len = 0;
	rules->audiences = (const char *const *) iss->audiences;
	rules->audience_lens = iss->audience_lens;
	rules->naudiences = iss->naudiences;
	rules->issuer = route->iss;
	rules->issuer_len = route->iss_len;
}

/*
 * What jose_verify() needs for a routed token: the issuer's algorithms (so
 * never an HMAC), its claim rules, and its keys, returned.
 */
const jose_keyset *
jwt_issuer_verify_opts(const JwtRoute *route, jose_verify_opts *opts)
{
	/* mutation: issuers-algorithms: opts->algorithms = route->issuer->algorithms; => opts->algorithms = 0; */
	opts->algorithms = route->issuer->algorithms;
	jwt_issuer_rules(route, &opts->claims);
	return route->issuer->keys;
}

/*
 * What to do about a key set no worker here refreshes: on a hot standby,
 * nothing (neither the worker nor jwt_refresh_issuers() runs there; the
 * primary's fetches arrive by replication), else fetch or preload.
 */
static const char *
no_worker_hint(bool empty)
{
	if (RecoveryInProgress())
		return "On a hot standby the key sets are the primary's: they arrive by replication once the primary has fetched them.";
	if (empty)
		return "Fetch its keys with jwt_refresh_issuers(), or preload the library (shared_preload_libraries = 'jwt') for the background worker.";
	return "No background worker refreshes the key sets: fetch them with jwt_refresh_issuers(), or preload the library (shared_preload_libraries = 'jwt').";
}

/*
 * A routed token that found no key: say why, when it is the issuer's doing
 * (a name two issuers claim; no key set stored; a kid the stored set lacks,
 * when the worker is woken to fetch the set again).  Returns for every
 * other status, which the caller reports as for any token.
 */
void
jwt_issuer_refuse(const JwtRoute *route, jose_status st)
{
	const JwtIssuer *iss = route->issuer;
	bool		empty;

	if (st != JOSE_E_KID_UNKNOWN && st != JOSE_E_ALG_KEY)
		return;
	if (iss == &ambiguous)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("invalid token"),
				 errdetail("The token's issuer (iss) is the name or an alias of more than one registered issuer."),
				 errhint("Keep each spelling of an issuer in one row of jwt_issuers."),
				 errcontext("session token jwt.token")));
	empty = jose_keyset_count(iss->keys) == 0;
	if (!empty && st == JOSE_E_ALG_KEY)
		return;					/* its keys are there and cannot do the token's algorithm */

	jwt_issuers_wake(iss->issuer);
	if (empty && jwt_issuers_worker_running())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("invalid token"),
				 errdetail("The token's issuer has no key yet; its key set is being fetched."),
				 errcontext("session token jwt.token")));
	if (empty)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("invalid token"),
				 errdetail("The token's issuer has no key: no usable key set is stored for it."),
				 errhint("%s", no_worker_hint(true)),
				 errcontext("session token jwt.token")));
	if (jwt_issuers_worker_running())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("invalid token"),
				 errdetail("No key of the token's issuer has the token's \"kid\"; the issuer's key set is being refreshed."),
				 errcontext("session token jwt.token")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("invalid token"),
			 errdetail("No key of the token's issuer has the token's \"kid\"."),
			 errhint("%s", no_worker_hint(false)),
			 errcontext("session token jwt.token")));
}

PG_FUNCTION_INFO_V1(jwt_issuer_jwks);

/*
 * jwt_issuer_jwks(issuer): the public keys the session path verifies the
 * issuer's tokens with, as a JWKS; the issuer by its name or an alias.
 * NULL for a name that no issuer (or more than one) has.
 */
Datum
jwt_issuer_jwks(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	const IssuerName *found;
	const jose_keyset *keys;
	StringInfoData out;

	jwt_registry_for_statement(fcinfo);
	found = name_find(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
	if (found == NULL || found->issuer == &ambiguous)
		PG_RETURN_NULL();
	keys = found->issuer->keys;
	initStringInfo(&out);
	appendStringInfoString(&out, "{\"keys\":[");
	for (size_t i = 0; i < jose_keyset_count(keys); i++)
	{
		CHECK_FOR_INTERRUPTS();
		(void) jwt_jwks_append(&out, jose_keyset_key(keys, i));
	}
	appendStringInfoString(&out, "]}");
	PG_RETURN_DATUM(jwt_json_to_jsonb(out.data, out.len));
}
