/*
 * fetch.c
 *		One issuer's fetch, start to end: discovery when no jwks_uri is
 *		registered, the JWKS with If-None-Match, redirects within the origin,
 *		the set filtered by jwks.c, and when to fetch next.
 *
 * It reads and writes no table (store.c does, before and after), so that
 * the network is never used while a lock is held, and so that the
 * background worker can fetch from its launcher, which is connected to no
 * database.
 *
 * Discovery (when jwks_uri is NULL): OpenID Connect Discovery 1.0 section 4
 * (the issuer, its trailing "/" removed, then "/.well-known/openid-
 * configuration"); if that answers with a 4xx status, RFC 8414 section 3
 * ("/.well-known/oauth-authorization-server" between host and path).  The
 * document's "issuer" must equal the registered issuer exactly (OIDC
 * Discovery 4.3, RFC 8414 3.3), and its "jwks_uri" is then fetched under
 * the same URL policy as any other URL.
 *
 * When next: after a success, the response's Cache-Control max-age within
 * jwt.issuer_refresh_min and jwt.issuer_refresh_max (the maximum without
 * one); after a failure, the minimum doubled for each consecutive failure
 * but the first, up to the maximum.  The last good keys stay in any case.
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "fetch.h"

#define MAX_REDIRECTS 5

static const char *const outcome_names[] = {
	[FO_OK] = "ok",
	[FO_NOT_MODIFIED] = "not modified",
	[FO_HTTP_STATUS] = "http status",
	[FO_TIMEOUT] = "timeout",
	[FO_CONNECT] = "connect",
	[FO_TLS] = "tls",
	[FO_TOO_LARGE] = "too large",
	[FO_REDIRECT] = "redirect",
	[FO_PARSE] = "parse",
	[FO_EMPTY] = "empty",
	[FO_SECRET] = "secret",
	[FO_ISSUER_MISMATCH] = "issuer mismatch",
	[FO_URL_REFUSED] = "url refused",
};

const char *
fetch_outcome_name(FetchOutcome o)
{
	return outcome_names[o];
}

static void
fail(FetchResult *res, FetchOutcome o, int status, char *detail)
{
	res->outcome = o;
	res->http_status = status;
	res->detail = detail;
}

/*
 * GET url, following redirects to the same origin only, every URL allowed
 * by the policy.  Returns true with *resp holding the final response, or
 * false with the failure recorded in res.
 */
static bool
get_allowed(const FetchConfig *cfg, const char *url, const char *etag, HttpResponse *resp,
			FetchResult *res)
{
	FetchUrl	first;
	FetchUrl	u;
	char	   *why;

	if (!url_parse(url, &first, &why))
	{
		fail(res, FO_URL_REFUSED, 0, psprintf("%s: %s", url_for_log(url), why));
		return false;
	}
	if (!url_allowed(cfg, &first, &why))
	{
		fail(res, FO_URL_REFUSED, 0, why);
		return false;
	}
	u = first;
	for (int hop = 0;; hop++)
	{
		FetchUrl	next;

		http_get(cfg, u.url, etag, resp);
		if (resp->failure != FO_OK)
		{
			fail(res, resp->failure, 0, resp->detail);
			return false;
		}
		if (resp->status < 300 || resp->status >= 400 || resp->status == 304)
			return true;
		if (resp->location == NULL)
			return true;		/* a 3xx without a target: its status is the answer */
		if (hop == MAX_REDIRECTS)
		{
			fail(res, FO_REDIRECT, resp->status,
				 psprintf("GET %s: more than %d redirects.", url_for_log(first.url), MAX_REDIRECTS));
			return false;
		}
		if (!url_parse(resp->location, &next, &why))
		{
			fail(res, FO_REDIRECT, resp->status,
				 psprintf("GET %s redirects to %s, which is refused: %s", url_for_log(u.url),
						  url_for_log(resp->location), why));
			return false;
		}
		if (!url_same_origin(&next, &first))
		{
			fail(res, FO_REDIRECT, resp->status,
				 psprintf("GET %s redirects to another origin (%s), which is never followed.",
						  url_for_log(u.url), url_for_log(next.url)));
			return false;
		}
		if (!url_allowed(cfg, &next, &why))
		{
			fail(res, FO_REDIRECT, resp->status,
				 psprintf("GET %s redirects to %s: %s", url_for_log(u.url), url_for_log(next.url), why));
			return false;
		}
		u = next;
	}
}

/* A JSON string member of a document as a C string; NULL when absent or not a string. */
static char *
json_string(const jose_json_object *obj, const char *name)
{
	const jose_json_value *v = jose_json_get(obj, name);
	char	   *s;
	size_t		n;

	if (v == NULL || v->type != JOSE_JSON_STRING)
		return NULL;
	s = palloc(v->len + 1);
	n = jose_json_string_decode(v, s);
	s[n] = '\0';
	if (strlen(s) != n)
		return NULL;			/* no NUL inside (the core refuses \u0000 anyway) */
	return s;
}

/*
 * Whether a discovered jwks_uri may be kept (jwt_issuer_fetches.
 * discovered_jwks_uri) and fetched: a URL that url_parse() takes, and so at
 * most 2048 bytes, all of them printable ASCII (RFC 3986: other characters
 * are percent-encoded), so that it is valid text in every server encoding.
 */
static bool
uri_acceptable(const char *uri, char **why)
{
	FetchUrl	u;

	for (const char *p = uri; *p; p++)
		if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f)
		{
			*why = pstrdup("It holds a byte that is not printable ASCII, which a URL never does (RFC 3986).");
			return false;
		}
	return url_parse(uri, &u, why);
}

/*
 * One discovery document: true with *jwks_uri, false with the failure in
 * res.  *try_next is set when the answer was a 4xx status, for which the
 * other well-known URL is worth trying.
 */
static bool
discover_at(const FetchConfig *cfg, const char *issuer, const char *url, FetchResult *res,
			char **jwks_uri, bool *try_next)
{
	HttpResponse resp;
	jose_json_object doc;
	jose_json_error jerr;
	char	   *why = NULL;
	volatile bool ok = false;

	*try_next = false;
	if (!get_allowed(cfg, url, NULL, &resp, res))
		return false;
	if (resp.status != 200)
	{
		*try_next = resp.status >= 400 && resp.status < 500;
		fail(res, FO_HTTP_STATUS, resp.status,
			 psprintf("GET %s: HTTP status %d.", url_for_log(url), resp.status));
		return false;
	}
	jerr = jose_json_parse_object(resp.body, resp.len, &doc);
	if (jerr != JOSE_JSON_OK)
	{
		fail(res, FO_PARSE, resp.status,
			 psprintf("GET %s: the discovery document is not a JSON object: %s.", url_for_log(url),
					  jose_json_error_text(jerr)));
		return false;
	}
	PG_TRY();
	{
		char	   *doc_issuer = json_string(&doc, "issuer");
		char	   *uri = json_string(&doc, "jwks_uri");

		if (doc_issuer == NULL)
			fail(res, FO_PARSE, resp.status,
				 psprintf("GET %s: the discovery document has no \"issuer\" string.", url_for_log(url)));
		else if (strcmp(doc_issuer, issuer) != 0)
			fail(res, FO_ISSUER_MISMATCH, resp.status,
				 psprintf("GET %s: the discovery document names the issuer \"%s\", not the one registered (OpenID Connect Discovery 4.3).",
						  url_for_log(url), fetch_shown(doc_issuer, 200)));
		else if (uri == NULL || uri[0] == '\0')
			fail(res, FO_PARSE, resp.status,
				 psprintf("GET %s: the discovery document has no \"jwks_uri\" string.", url_for_log(url)));
		else if (!uri_acceptable(uri, &why))
			fail(res, FO_URL_REFUSED, resp.status,
				 psprintf("GET %s: the discovery document's \"jwks_uri\" is refused: %s", url_for_log(url), why));
		else
		{
			*jwks_uri = uri;
			ok = true;
		}
	}
	PG_FINALLY();
	{
		jose_json_object_free(&doc);
	}
	PG_END_TRY();
	return ok;
}

static bool
discover(const FetchConfig *cfg, const char *issuer, FetchResult *res, char **jwks_uri)
{
	FetchUrl	iss;
	char	   *why;
	char	   *rfc8414;
	bool		try_next;
	FetchResult first;

	if (!url_parse(issuer, &iss, &why) || iss.has_query)
	{
		fail(res, FO_URL_REFUSED, 0,
			 psprintf("The issuer is not an https URL without query or fragment, so it has no discovery document: %s Register its jwks_uri.",
					  why ? why : "It has a query."));
		return false;
	}
	if (discover_at(cfg, issuer, url_oidc_discovery(issuer), res, jwks_uri, &try_next))
		return true;
	if (!try_next || (rfc8414 = url_rfc8414_discovery(&iss)) == NULL)
		return false;
	first = *res;
	fail(res, FO_OK, 0, NULL);
	if (discover_at(cfg, issuer, rfc8414, res, jwks_uri, &try_next))
		return true;
	/* both failed: say so of both, the second's outcome standing */
	res->detail = psprintf("%s Then %s", first.detail, res->detail);
	return false;
}

/* Seconds until the next scheduled fetch. */
static int64
next_interval(const FetchConfig *cfg, const FetchResult *res, int max_age)
{
	int64		lo = cfg->refresh_min;
	int64		hi = Max(cfg->refresh_max, cfg->refresh_min);

	if (FETCH_SUCCEEDED(res->outcome))
		return max_age < 0 ? hi : Min(Max((int64) max_age, lo), hi);
	return Min(lo << Min(res->failures - 1, 20), hi);
}

/*
 * One issuer's fetch.  Its URLs need a prefix when the configuration says
 * so, or when the issuer was registered under the prefix rule (store.c);
 * all its requests end within FETCH_DEADLINE_TIMEOUTS times
 * jwt.issuer_timeout of its start.
 */
void
fetch_issuer(const FetchConfig *config, const FetchItem *item, FetchResult *res)
{
	FetchConfig local = *config;
	const FetchConfig *cfg = &local;
	HttpResponse resp;
	char	   *jwks_uri = item->jwks_uri;
	const char *etag;
	int			max_age = -1;

	memset(res, 0, sizeof(*res));
	res->issuer = item->issuer;
	res->jwks_uri = item->jwks_uri;
	res->attempted_at = GetCurrentTimestamp();
	res->outcome = FO_OK;
	local.any_url = config->any_url && !item->url_prefixed;
	local.deadline = TimestampTzPlusMilliseconds(res->attempted_at,
												 (int64) FETCH_DEADLINE_TIMEOUTS * config->timeout * 1000);

	if (jwks_uri == NULL && discover(cfg, item->issuer, res, &jwks_uri))
		res->discovered_jwks_uri = jwks_uri;
	if (res->outcome == FO_OK)
	{
		/* the ETag of the last good set, for the URL it came from */
		etag = item->etag && item->etag_uri && strcmp(item->etag_uri, jwks_uri) == 0 ?
			item->etag : NULL;
		if (get_allowed(cfg, jwks_uri, etag, &resp, res))
		{
			max_age = resp.max_age;
			if (resp.status == 304 && etag != NULL)
			{
				res->outcome = FO_NOT_MODIFIED;
				res->http_status = 304;
			}
			else if (resp.status != 200)
				fail(res, FO_HTTP_STATUS, resp.status,
					 psprintf("GET %s: HTTP status %d.", url_for_log(jwks_uri), resp.status));
			else
			{
				StringInfoData kept;
				FetchOutcome o;

				initStringInfo(&kept);
				res->http_status = 200;
				o = jwks_filter(resp.body, resp.len, &kept, &res->nkeys, &res->refused_keys,
								&res->detail);
				res->outcome = o;
				if (o == FO_OK)
				{
					res->jwks = kept.data;
					res->etag = resp.etag;
				}
				else
					res->detail = psprintf("GET %s: %s", url_for_log(jwks_uri), res->detail);
				pfree(resp.body);
			}
		}
	}
	res->finished_at = GetCurrentTimestamp();
	res->failures = FETCH_SUCCEEDED(res->outcome) ? 0 : item->failures + 1;
	res->next_fetch_at = TimestampTzPlusMilliseconds(res->finished_at,
													 next_interval(cfg, res, max_age) * 1000);
}
