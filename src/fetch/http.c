/*
 * http.c
 *		One HTTPS GET with libcurl, within the limits of a FetchConfig.
 *
 *	- HTTPS only (CURLOPT_PROTOCOLS_STR "https"), and no redirect followed by
 *	  libcurl: a 3xx comes back with its target, which fetch.c checks (same
 *	  origin, the URL policy) before asking for it;
 *	- the peer's certificate and host name verified, against the system's
 *	  store or jwt.issuer_ca_file alone (CURLOPT_CAINFO, with CURLOPT_CAPATH
 *	  cleared: the file replaces the system's store, it does not add to it);
 *	- a connect timeout and a total timeout per request, both cut to what is
 *	  left of the issuer's deadline (FetchConfig.deadline);
 *	- the size cap counted on the bytes received (libcurl 7.88's
 *	  CURLOPT_MAXFILESIZE_LARGE refuses only a Content-Length over it, so the
 *	  write callback counts too); no compressed encoding is asked for, so
 *	  what is counted is what is parsed;
 *	- ETag and Cache-Control's max-age read from the headers; If-None-Match
 *	  sent when an ETag is given and is one (http_etag_valid);
 *	- CURLOPT_NOSIGNAL (libcurl uses no signal of the backend's), and a
 *	  progress callback that stops the transfer when a cancel, a
 *	  statement_timeout or a terminate is pending: the error is raised once
 *	  libcurl has returned, with the handle freed.
 *
 * No callback raises an error, allocates memory of PostgreSQL's or calls
 * back into it: they copy into memory allocated before the transfer and set
 * flags.  The handle and the header list are freed on every path
 * (PG_FINALLY).  Nothing here sees key material: what is fetched is public.
 */
#include "postgres.h"

#include <curl/curl.h>

#include "miscadmin.h"

#include "fetch.h"

#define MAX_ETAG 256			/* longer ETags are not kept */
#define USER_AGENT "jwt-postgresql (libcurl)"

typedef struct HttpTransfer
{
	char	   *buf;			/* cap + 1 bytes, allocated before */
	size_t		len;
	size_t		cap;
	bool		too_large;
	char		etag[MAX_ETAG + 1];
	bool		has_etag;
	int			max_age;
} HttpTransfer;

static bool curl_ready = false;

static void
curl_init_once(void)
{
	if (curl_ready)
		return;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("could not initialise libcurl")));
	curl_ready = true;
}

const char *
http_curl_version(void)
{
	return curl_version();
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	HttpTransfer *t = (HttpTransfer *) arg;
	size_t		n = size * nmemb;

	if (n > t->cap - t->len)
	{
		t->too_large = true;
		return 0;				/* libcurl stops with CURLE_WRITE_ERROR */
	}
	memcpy(t->buf + t->len, data, n);
	t->len += n;
	return n;
}

/* Case-insensitive prefix of a header line; returns what follows the colon, trimmed. */
static const char *
header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
	size_t		n = strlen(name);
	size_t		i;

	if (len <= n || pg_strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	i = n + 1;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	while (len > i && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
					   line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	*vlen = len - i;
	return line + i;
}

/* max-age of a Cache-Control value: seconds, 0 for no-store or no-cache, -1 when absent. */
static int
parse_max_age(const char *v, size_t len, int current)
{
	size_t		i = 0;
	int			result = current;

	while (i < len)
	{
		size_t		start,
					end;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end - start >= 8 && pg_strncasecmp(v + start, "max-age=", 8) == 0)
		{
			int64		secs = 0;
			size_t		j = start + 8;

			if (j < end && v[j] == '"')
				j++;
			if (j >= end || v[j] < '0' || v[j] > '9')
				continue;
			for (; j < end && v[j] >= '0' && v[j] <= '9'; j++)
				secs = Min(secs * 10 + (v[j] - '0'), (int64) PG_INT32_MAX);
			if (result != 0)	/* no-store or no-cache wins */
				result = (int) secs;
		}
		else if ((end - start == 8 && pg_strncasecmp(v + start, "no-store", 8) == 0) ||
				 (end - start == 8 && pg_strncasecmp(v + start, "no-cache", 8) == 0))
			result = 0;
	}
	return result;
}

/*
 * Whether s is an entity-tag as RFC 9110 section 8.8.3 writes it, at most
 * MAX_ETAG bytes: [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E /
 * obs-text (%x80-FF).  Nothing else is sent in If-None-Match: a stored
 * ETag with a CR or LF (its row is the owner's to write) would add header
 * lines to the request.
 */
bool
http_etag_valid(const char *s, size_t len)
{
	size_t		i = 0;

	if (len > MAX_ETAG)
		return false;
	if (len >= 2 && s[0] == 'W' && s[1] == '/')
		i = 2;
	if (len - i < 2 || s[i] != '"' || s[len - 1] != '"')
		return false;
	for (i++; i < len - 1; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (!(c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80))
			return false;
	}
	return true;
}

static size_t
on_header(char *line, size_t size, size_t nitems, void *arg)
{
	HttpTransfer *t = (HttpTransfer *) arg;
	size_t		len = size * nitems;
	const char *v;
	size_t		vlen;

	/* a status line starts a response: what an earlier one said is not this one's */
	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0)
	{
		t->has_etag = false;
		t->max_age = -1;
	}
	else if ((v = header_value(line, len, "etag", &vlen)) != NULL)
	{
		/* ASCII only, so that it is stored as it came in a database of any encoding */
		bool		printable = http_etag_valid(v, vlen);

		for (size_t i = 0; printable && i < vlen; i++)
			printable = (unsigned char) v[i] < 0x80;
		t->has_etag = printable;
		if (printable)
		{
			memcpy(t->etag, v, vlen);
			t->etag[vlen] = '\0';
		}
	}
	else if ((v = header_value(line, len, "cache-control", &vlen)) != NULL)
		t->max_age = parse_max_age(v, vlen, t->max_age);
	return len;
}

/* Stop the transfer when the backend has a cancel or terminate to act on. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	return fetch_should_stop(arg) ? 1 : 0;
}

static FetchOutcome
outcome_of(CURLcode rc, const HttpTransfer *t)
{
	switch (rc)
	{
		case CURLE_OK:
			return FO_OK;
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_ABORTED_BY_CALLBACK:
			return FO_TIMEOUT;
		case CURLE_WRITE_ERROR:
			return t->too_large ? FO_TOO_LARGE : FO_CONNECT;
		case CURLE_FILESIZE_EXCEEDED:
			return FO_TOO_LARGE;
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
			return FO_URL_REFUSED;
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_CRL_BADFILE:
		case CURLE_SSL_INVALIDCERTSTATUS:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		case CURLE_SSL_SHUTDOWN_FAILED:
		case CURLE_SSL_ENGINE_NOTFOUND:
		case CURLE_SSL_ENGINE_SETFAILED:
		case CURLE_SSL_ENGINE_INITFAILED:
		case CURLE_USE_SSL_FAILED:
			return FO_TLS;
		default:
			return FO_CONNECT;
	}
}

#define SETOPT(h, opt, val) \
	do { \
		if (curl_easy_setopt((h), (opt), (val)) != CURLE_OK) \
			elog(ERROR, "jwt: libcurl refused option %s", #opt); \
	} while (0)

/*
 * GET url (already parsed and allowed by the caller), with If-None-Match
 * when etag is given.  out->failure is FO_OK when a response came, whatever
 * its status; the body is in out->body (palloc'd) when it fit.
 */
void
http_get(const FetchConfig *cfg, const char *url, const char *etag, HttpResponse *out)
{
	CURL	   *volatile h = NULL;
	struct curl_slist *volatile headers = NULL;
	HttpTransfer t;
	char		errbuf[CURL_ERROR_SIZE];
	volatile CURLcode rc = CURLE_OK;
	long		status = 0;
	char	   *volatile location = NULL;
	volatile long timeout_ms = (long) cfg->timeout * 1000L;
	volatile long connect_ms = (long) cfg->connect_timeout * 1000L;
	const char *volatile inm = etag;	/* what If-None-Match sends, or NULL */

	memset(out, 0, sizeof(*out));
	out->max_age = -1;
	if (cfg->deadline != 0)
	{
		long		left = (long) Min(TimestampDifferenceMilliseconds(GetCurrentTimestamp(), cfg->deadline),
									  (int64) PG_INT32_MAX);

		if (left <= 0)
		{
			out->failure = FO_TIMEOUT;
			out->detail = psprintf("GET %s: not sent, the issuer's fetch took its whole time (%d times jwt.issuer_timeout).",
								   url_for_log(url), FETCH_DEADLINE_TIMEOUTS);
			return;
		}
		timeout_ms = Min(timeout_ms, left);
		connect_ms = Min(connect_ms, left);
	}
	if (etag != NULL && !http_etag_valid(etag, strlen(etag)))
		inm = NULL;				/* never a header line but If-None-Match's */
	memset(&t, 0, sizeof(t));
	t.cap = (size_t) cfg->max_size;
	t.buf = palloc(t.cap + 1);
	t.max_age = -1;
	errbuf[0] = '\0';
	curl_init_once();

	PG_TRY();
	{
		struct curl_slist *l;

		h = curl_easy_init();
		if (h == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		l = curl_slist_append(headers, "Accept: application/json");
		if (l == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		headers = l;
		if (inm != NULL)
		{
			char	   *line = psprintf("If-None-Match: %s", inm);

			l = curl_slist_append(headers, line);
			if (l == NULL)
				ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
			headers = l;
		}
		SETOPT(h, CURLOPT_URL, url);
		SETOPT(h, CURLOPT_PROTOCOLS_STR, "https");
		SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
		SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
		SETOPT(h, CURLOPT_NOSIGNAL, 1L);
		SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
		SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
		if (cfg->ca_file && cfg->ca_file[0])
		{
			/* that file alone: not also libcurl's built-in CA path (Debian's /etc/ssl/certs) */
			SETOPT(h, CURLOPT_CAINFO, cfg->ca_file);
			SETOPT(h, CURLOPT_CAPATH, (char *) NULL);
		}
		SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
		SETOPT(h, CURLOPT_TIMEOUT_MS, timeout_ms);
		SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) cfg->max_size);
		SETOPT(h, CURLOPT_WRITEFUNCTION, on_body);
		SETOPT(h, CURLOPT_WRITEDATA, &t);
		SETOPT(h, CURLOPT_HEADERFUNCTION, on_header);
		SETOPT(h, CURLOPT_HEADERDATA, &t);
		SETOPT(h, CURLOPT_NOPROGRESS, 0L);
		SETOPT(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		SETOPT(h, CURLOPT_XFERINFODATA, NULL);
		SETOPT(h, CURLOPT_ERRORBUFFER, errbuf);
		SETOPT(h, CURLOPT_HTTPHEADER, headers);
		SETOPT(h, CURLOPT_USERAGENT, USER_AGENT);

		rc = curl_easy_perform(h);
		if (rc == CURLE_OK)
		{
			char	   *redirect = NULL;

			(void) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
			if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK && redirect)
				location = pstrdup(redirect);	/* the handle owns redirect */
		}
	}
	PG_FINALLY();
	{
		curl_slist_free_all(headers);
		curl_easy_cleanup(h);
	}
	PG_END_TRY();

	if (rc == CURLE_ABORTED_BY_CALLBACK)
	{
		/* the handle is gone: now raise what stopped it */
		CHECK_FOR_INTERRUPTS();
		errbuf[0] = '\0';
		strlcpy(errbuf, "the fetch was interrupted", sizeof(errbuf));
	}
	out->failure = outcome_of(rc, &t);
	if (out->failure != FO_OK)
	{
		const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);

		if (out->failure == FO_TOO_LARGE)
			out->detail = psprintf("GET %s: the response is larger than jwt.issuer_max_response_size (%d bytes).",
								   url_for_log(url), cfg->max_size);
		else
			out->detail = psprintf("GET %s: %s.", url_for_log(url), fetch_shown(why, CURL_ERROR_SIZE));
		pfree(t.buf);
		return;
	}
	out->status = (int) status;
	t.buf[t.len] = '\0';
	out->body = t.buf;
	out->len = t.len;
	out->etag = t.has_etag ? pstrdup(t.etag) : NULL;
	out->max_age = t.max_age;
	out->location = location;
}
