/*
 * keycache.c
 *		Parsed keys, reused across calls.
 *
 * A key text is parsed once per backend and kept, keyed by its exact bytes
 * and by how they are read (text or bytea), in a small LRU table; the key
 * objects hold their keyed HMAC contexts, so a verification costs the MAC.
 * Each call site also remembers the entry it used last (fn_extra), which
 * spares the table lookup when a query passes the same key on every row.
 *
 * The key texts live in their own memory context and are wiped before they
 * are freed; the key objects belong to the core (OpenSSL memory) and are
 * freed, wiped, when an entry is evicted.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "nodes/primnodes.h"
#include "utils/memutils.h"

#include "jwt.h"

#define KEY_CACHE_SIZE 32

typedef struct KeyCacheEntry
{
	uint64		generation;		/* changes whenever the slot is refilled */
	uint64		last_used;
	uint32		hash;
	jose_key_form form;
	int			len;			/* -1: empty slot */
	char	   *data;
	jose_keyset *keys;
} KeyCacheEntry;

/*
 * What a call site remembers: the slot and the generation it saw; and, when
 * the key text was a constant of the call (the bytes of a Const argument,
 * which stay as they are while the call site lives), where those bytes are,
 * so that the next call with the same bytes is known without comparing them.
 */
typedef struct KeyCacheHint
{
	int			slot;
	uint64		generation;
	const char *const_data;
} KeyCacheHint;

static KeyCacheEntry key_cache[KEY_CACHE_SIZE];
static MemoryContext key_cache_context = NULL;
static uint64 key_cache_clock = 0;
static uint64 key_cache_parses = 0;
static uint64 key_cache_lookups = 0;

static void
key_cache_init(void)
{
	key_cache_context = AllocSetContextCreate(TopMemoryContext,
											  "jwt key cache",
											  ALLOCSET_SMALL_SIZES);
	for (int i = 0; i < KEY_CACHE_SIZE; i++)
		key_cache[i].len = -1;
}

static void
entry_clear(KeyCacheEntry *e)
{
	if (e->len < 0)
		return;
	jose_keyset_free(e->keys);
	jose_cleanse(e->data, e->len);
	pfree(e->data);
	e->keys = NULL;
	e->data = NULL;
	e->len = -1;
}

static inline bool
entry_matches(const KeyCacheEntry *e, uint32 hash, const char *data, int len,
			  jose_key_form form)
{
	return e->len == len && e->hash == hash && e->form == form &&
		memcmp(e->data, data, len) == 0;
}

/*
 * Whether data is the bytes of one of the call's Const arguments, in place:
 * not a copy, so not memory a later row may reuse for other bytes.
 */
static bool
data_is_const_arg(FmgrInfo *flinfo, const char *data)
{
	ListCell   *lc;

	if (flinfo->fn_expr == NULL || !IsA(flinfo->fn_expr, FuncExpr))
		return false;
	foreach(lc, ((FuncExpr *) flinfo->fn_expr)->args)
	{
		Const	   *c = (Const *) lfirst(lc);
		struct varlena *v;

		if (!IsA(c, Const) || c->constisnull || c->constlen != -1)
			continue;
		v = (struct varlena *) DatumGetPointer(c->constvalue);
		if (!VARATT_IS_EXTERNAL(v) && !VARATT_IS_COMPRESSED(v) && VARDATA_ANY(v) == data)
			return true;
	}
	return false;
}

/* The parsed keys of a key text; raises 22023 when the text is no key. */
const jose_keyset *
jwt_keyset_lookup(FunctionCallInfo fcinfo, const char *data, int len,
				  jose_key_form form)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;
	KeyCacheHint *hint = flinfo ? (KeyCacheHint *) flinfo->fn_extra : NULL;
	KeyCacheEntry *victim = NULL;
	jose_keyset *keys = NULL;
	jose_status st;
	uint32		hash;
	int			slot;

	if (key_cache_context == NULL)
		key_cache_init();
	key_cache_lookups++;

	/* the call site's last key, compared byte for byte */
	if (hint != NULL)
	{
		KeyCacheEntry *e = &key_cache[hint->slot];

		if (e->generation == hint->generation && e->len == len &&
			e->form == form &&
			((hint->const_data != NULL && hint->const_data == data) ||
			 memcmp(e->data, data, len) == 0))
		{
			e->last_used = ++key_cache_clock;
			return e->keys;
		}
	}

	hash = hash_bytes((const unsigned char *) data, len);
	for (slot = 0; slot < KEY_CACHE_SIZE; slot++)
	{
		KeyCacheEntry *e = &key_cache[slot];

		if (entry_matches(e, hash, data, len, form))
			break;
		if (victim == NULL || e->len < 0 ||
			(victim->len >= 0 && e->last_used < victim->last_used))
			victim = e;
	}

	if (slot == KEY_CACHE_SIZE)
	{
		/* copy first: nothing of OpenSSL's is held if the allocation fails */
		char	   *copy = MemoryContextAlloc(key_cache_context, len > 0 ? len : 1);

		memcpy(copy, data, len);
		key_cache_parses++;
		st = jose_keyset_import_stop(data, len, form, &jwt_stop, &keys);
		if (st != JOSE_OK)
		{
			JwtErrorContext ctx = {0};

			jose_cleanse(copy, len);
			pfree(copy);
			jwt_report(st, &ctx);
		}
		entry_clear(victim);
		victim->data = copy;
		victim->len = len;
		victim->hash = hash;
		victim->form = form;
		victim->keys = keys;
		victim->generation = ++key_cache_clock;
		slot = (int) (victim - key_cache);
	}

	key_cache[slot].last_used = ++key_cache_clock;

	if (flinfo != NULL)
	{
		if (hint == NULL)
		{
			hint = MemoryContextAlloc(flinfo->fn_mcxt, sizeof(KeyCacheHint));
			flinfo->fn_extra = hint;
		}
		hint->slot = slot;
		hint->generation = key_cache[slot].generation;
		hint->const_data = data_is_const_arg(flinfo, data) ? data : NULL;
	}
	return key_cache[slot].keys;
}

PG_FUNCTION_INFO_V1(jwt_cache_stats);

/*
 * What the key cache of this backend has done, to see that keys are reused;
 * and how often it loaded the registry's two parts (registry.c).
 */
Datum
jwt_cache_stats(PG_FUNCTION_ARGS)
{
	int			cached = 0;
	char	   *json;

	for (int i = 0; key_cache_context != NULL && i < KEY_CACHE_SIZE; i++)
		if (key_cache[i].len >= 0)
			cached++;
	json = psprintf("{\"key_lookups\":" UINT64_FORMAT ",\"key_parses\":" UINT64_FORMAT
					",\"keys_cached\":%d,\"key_cache_size\":%d"
					",\"registry_key_loads\":" UINT64_FORMAT
					",\"registry_revocation_loads\":" UINT64_FORMAT "}",
					key_cache_lookups, key_cache_parses, cached, KEY_CACHE_SIZE,
					jwt_registry.key_loads, jwt_registry.revocation_loads);
	PG_RETURN_DATUM(jwt_json_to_jsonb(json, strlen(json)));
}
