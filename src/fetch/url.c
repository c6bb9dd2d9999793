/*
 * url.c
 *		The URLs the fetcher may fetch: https only, parsed by libcurl's URL
 *		API (never by hand), and the policy of jwt.issuer_url_prefixes.
 *
 * Fetching a URL from the database server is network access from a host
 * that may reach what the database's clients cannot.  So a URL is fetched
 * only when
 *
 *	- it is an https URL with a host, no user name or password, no fragment,
 *	  and a path of plain characters (path_is_ambiguous: no ';', no escape
 *	  of a dot, slash, backslash, control byte or overlong UTF-8 lead byte,
 *	  which a server might decode into a path the prefix does not cover); and
 *	- the tables' writers are all superusers (FetchConfig.any_url: see
 *	  store.c), or it is under one of the prefixes a superuser listed in
 *	  jwt.issuer_url_prefixes.
 *
 * A prefix is an origin (scheme, host, port, compared as libcurl parsed
 * them, the host without regard to case) and a path that ends at a segment
 * boundary: https://a.example/tenant covers https://a.example/tenant and
 * https://a.example/tenant/keys, never https://a.example/tenant2,
 * https://a.example.evil/ or https://a.example@evil/ (whose host is "evil").
 * The rule governs every URL fetched: the discovery documents, the
 * discovered jwks_uri, and each redirect.
 *
 * libcurl allocates with malloc: every CURLU handle and every string it
 * returns is freed on every path, an error included (PG_FINALLY).
 */
#include "postgres.h"

#include <curl/curl.h>

#include "fetch.h"

/* A curl string copied into palloc'd memory, and freed (also when out of memory). */
static char *
take(char *s)
{
	char	   *p;

	if (s == NULL)
		return NULL;
	p = palloc_extended(strlen(s) + 1, MCXT_ALLOC_NO_OOM);
	if (p != NULL)
		strcpy(p, s);
	curl_free(s);
	if (p == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	return p;
}

/* The part, or NULL when the URL has none. */
static char *
get_part(CURLU *h, CURLUPart part, unsigned int flags)
{
	char	   *s = NULL;

	if (curl_url_get(h, part, &s, flags) != CURLUE_OK)
	{
		curl_free(s);
		return NULL;
	}
	return take(s);
}

/* Whether the host is a DNS name or an IP literal in ASCII (no IDN). */
static bool
host_is_plain(const char *h)
{
	if (*h == '\0')
		return false;
	for (const char *p = h; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
			  *p == '[' || *p == ']' || *p == ':'))
			return false;
	return true;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char) (c | 0x20);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Whether a path could mean to some server a path the prefix rule did not
 * see (what libcurl hands back is already normalised: dot segments gone).
 * Only these characters are allowed, each meaning itself everywhere:
 * RFC 3986's unreserved and sub-delims, '/', ':' and '@', but never ';'
 * (Tomcat and Jetty read "..;" as ".." and cut path parameters), and
 * percent-escapes of any byte but '.', '/', '\' (a server that decodes
 * them sees other segments), control bytes (%00 ends a C string, %0d%0a
 * splits a header line) and 0x7f, and the overlong UTF-8 lead bytes %c0,
 * %c1 and %e0 followed by %80..%9f (old decoders read %c0%ae as '.').
 */
static bool
path_is_ambiguous(const char *path)
{
	for (const char *p = path; *p; p++)
	{
		unsigned char c = (unsigned char) *p;
		int			hi,
					lo,
					b;

		if (c == '%')
		{
			if ((hi = hexval(p[1])) < 0 || (lo = hexval(p[2])) < 0)
				return true;
			b = hi * 16 + lo;
			if (b < 0x20 || b == 0x7f || b == '.' || b == '/' || b == '\\' ||
				b == 0xc0 || b == 0xc1)
				return true;
			if (b == 0xe0 && p[3] == '%' && (hi = hexval(p[4])) >= 0 && (lo = hexval(p[5])) >= 0 &&
				hi * 16 + lo >= 0x80 && hi * 16 + lo <= 0x9f)
				return true;
			p += 2;
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			continue;
		if (strchr("-._~!$&'()*+,=/:@", c) == NULL)
			return true;		/* ';', '\\', a space, a control or a raw non-ASCII byte */
	}
	return false;
}

/*
 * A URL as the log and the status view show it: without its query and
 * fragment (which may carry a token or a key), at most 200 bytes, control
 * bytes as '?'.
 */
char *
url_for_log(const char *url)
{
	return fetch_shown(url, Min(strcspn(url, "?#"), 200));
}

/*
 * At most max bytes of a string from the network or from a table, for a
 * detail stored in jwt_issuer_fetches or a message: printable ASCII only,
 * every other byte '?'.  What is stored is then valid text in every server
 * encoding, and a cut at max bytes splits no character.
 */
char *
fetch_shown(const char *s, size_t max)
{
	char	   *c = pnstrdup(s, max);

	for (char *p = c; *p; p++)
		if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f)
			*p = '?';
	return c;
}

/*
 * Parse text as an https URL (see above).  On failure *why says why, in a
 * sentence for an error's detail.
 */
bool
url_parse(const char *text, FetchUrl *out, char **why)
{
	CURLU	   *volatile h = NULL;
	volatile bool ok = false;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (text == NULL || *text == '\0')
	{
		*why = pstrdup("The URL is empty.");
		return false;
	}
	if (strlen(text) > 2048)
	{
		*why = pstrdup("The URL is longer than 2048 bytes.");
		return false;
	}
	PG_TRY();
	{
		CURLUcode	rc;
		char	   *scheme;

		h = curl_url();
		if (h == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		rc = curl_url_set(h, CURLUPART_URL, text, CURLU_DISALLOW_USER);
		if (rc == CURLUE_USER_NOT_ALLOWED)
			*why = pstrdup("The URL names a user (text before an \"@\" in its authority): its host is what follows the \"@\", and no URL with a user is fetched.");
		else if (rc != CURLUE_OK)
			*why = psprintf("libcurl cannot parse it as a URL (%s).", curl_url_strerror(rc));
		else if ((scheme = get_part(h, CURLUPART_SCHEME, 0)) == NULL ||
				 pg_strcasecmp(scheme, "https") != 0)
			*why = pstrdup("Only https URLs are fetched.");
		else if ((out->host = get_part(h, CURLUPART_HOST, 0)) == NULL ||
				 !host_is_plain(out->host))
			*why = pstrdup("The URL's host must be a DNS name or an IP address in ASCII.");
		else if ((out->port = get_part(h, CURLUPART_PORT, CURLU_DEFAULT_PORT)) == NULL)
			*why = pstrdup("The URL has no port.");
		else if ((out->path = get_part(h, CURLUPART_PATH, 0)) == NULL)
			*why = pstrdup("The URL has no path.");
		else if (path_is_ambiguous(out->path))
			*why = pstrdup("The URL's path holds a character other than letters, digits, \"-._~!$&'()*+,=/:@\" and percent-escapes, or an escape of a dot, slash, backslash, control byte or overlong UTF-8 lead byte.");
		else if ((out->url = get_part(h, CURLUPART_URL, 0)) == NULL)
			*why = pstrdup("libcurl cannot write the URL back.");
		else
		{
			char	   *q = get_part(h, CURLUPART_QUERY, 0);
			char	   *f = get_part(h, CURLUPART_FRAGMENT, 0);

			out->has_query = q != NULL;
			out->has_fragment = f != NULL;
			if (out->has_fragment)
				*why = pstrdup("The URL has a fragment.");
			else
			{
				for (char *p = out->host; *p; p++)
					*p = pg_ascii_tolower((unsigned char) *p);
				if (out->path[0] == '\0')
					out->path = pstrdup("/");
				ok = true;
			}
		}
	}
	PG_FINALLY();
	{
		curl_url_cleanup(h);
	}
	PG_END_TRY();
	return ok;
}

bool
url_same_origin(const FetchUrl *a, const FetchUrl *b)
{
	return strcmp(a->host, b->host) == 0 && strcmp(a->port, b->port) == 0;
}

/* Whether u is under the prefix (origin, then path at a segment boundary). */
static bool
under_prefix(const FetchUrl *u, const FetchUrl *prefix)
{
	size_t		n;

	if (!url_same_origin(u, prefix))
		return false;
	n = strlen(prefix->path);
	while (n > 0 && prefix->path[n - 1] == '/')
		n--;
	if (n == 0)
		return true;			/* the whole origin */
	return strncmp(u->path, prefix->path, n) == 0 &&
		(u->path[n] == '\0' || u->path[n] == '/');
}

/*
 * Whether the policy lets the server fetch u: always when cfg->any_url,
 * otherwise when u is under one of jwt.issuer_url_prefixes.  A prefix that
 * does not parse, or has a query, matches nothing.
 */
bool
url_allowed(const FetchConfig *cfg, const FetchUrl *u, char **why)
{
	char	   *list;
	char	   *tok;
	char	   *save = NULL;

	*why = NULL;
	if (cfg->any_url)
		return true;
	list = pstrdup(cfg->prefixes ? cfg->prefixes : "");
	for (tok = strtok_r(list, " \t\n,", &save); tok; tok = strtok_r(NULL, " \t\n,", &save))
	{
		FetchUrl	prefix;
		char	   *bad;

		if (url_parse(tok, &prefix, &bad) && !prefix.has_query && under_prefix(u, &prefix))
			return true;
	}
	*why = psprintf("%s is not under any of jwt.issuer_url_prefixes (%s).", url_for_log(u->url),
					cfg->prefixes && *cfg->prefixes ? fetch_shown(cfg->prefixes, 200) : "empty");
	return false;
}

/*
 * OpenID Connect Discovery 1.0, section 4: the issuer, its trailing "/"
 * removed, and "/.well-known/openid-configuration".
 */
char *
url_oidc_discovery(const char *issuer)
{
	size_t		n = strlen(issuer);

	while (n > 0 && issuer[n - 1] == '/')
		n--;
	return psprintf("%.*s/.well-known/openid-configuration", (int) n, issuer);
}

/*
 * RFC 8414, section 3: "/.well-known/oauth-authorization-server" inserted
 * between the issuer's host and its path, the path's trailing "/" removed.
 * The path is set on the issuer's URL with libcurl, so that host and port
 * stay as they were parsed.  NULL when libcurl refuses.
 */
char *
url_rfc8414_discovery(const FetchUrl *issuer)
{
	CURLU	   *volatile h = NULL;
	char	   *volatile result = NULL;
	size_t		n = strlen(issuer->path);
	char	   *path;

	while (n > 0 && issuer->path[n - 1] == '/')
		n--;
	path = psprintf("/.well-known/oauth-authorization-server%.*s", (int) n, issuer->path);
	h = curl_url();
	if (h == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	PG_TRY();
	{
		if (curl_url_set(h, CURLUPART_URL, issuer->url, 0) == CURLUE_OK &&
			curl_url_set(h, CURLUPART_PATH, path, 0) == CURLUE_OK)
			result = get_part(h, CURLUPART_URL, 0);
	}
	PG_CATCH();
	{
		curl_url_cleanup(h);
		PG_RE_THROW();
	}
	PG_END_TRY();
	curl_url_cleanup(h);
	return result;
}
