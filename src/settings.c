/*
 * settings.c
 *		Every jwt.* setting: definitions, check and assign hooks, and the
 *		generation counters that tell a call site its cached answer is stale.
 *
 * The policy settings are PGC_SUSET, so a client cannot loosen them; jwt.token
 * is the one a client sets.  Each assign hook bumps a generation counter: a
 * call site's answer stands while none has moved.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "compat.h"
#include "jwt.h"

/* The size cap of rule 1: room for any real token, a bound for hostile ones. */
int			jwt_max_token_length = 16384;

char *jwt_session_token = NULL;
char *jwt_policy_audience = NULL;
char *jwt_policy_issuer = NULL;
int	jwt_policy_leeway = 0;
char *jwt_policy_algorithms_text = NULL;
char *jwt_policy_required_text = NULL;
int	jwt_policy_max_age = 0;
bool jwt_policy_fallback = false;
bool jwt_policy_fallback_settings = false;

/* [lifecycle] logins (logins.c), in seconds */
int			jwt_access_token_lifetime = 900;
int			jwt_refresh_token_lifetime = 2592000;
int			jwt_login_lifetime = 7776000;
int			jwt_refresh_reuse_interval = 10;

/*
 * [issuers] fetching identity providers' keys (jwt_fetch.so reads these with
 * GetConfigOption(), so that SHOW and ALTER DATABASE work in every backend,
 * not only in those that loaded the fetcher)
 */
char	   *jwt_issuer_url_prefixes = NULL;
char	   *jwt_issuer_ca_file = NULL;
int			jwt_issuer_connect_timeout = 5;
int			jwt_issuer_timeout = 15;
int			jwt_issuer_max_response_size = 1048576;
int			jwt_issuer_refresh_min = 300;
int			jwt_issuer_refresh_max = 3600;

/* parsed forms, from the check hooks' "extra" */
jose_algset jwt_policy_algs = 0;

JwtRequiredClaims *jwt_policy_required = NULL;

/* generations: a call site's answer stands while none of these moves */
uint64 jwt_token_generation = 1;
uint64 jwt_policy_generation = 1;
uint64 jwt_registry_generation = 1;	/* the registry's keys */
uint64 jwt_revocation_generation = 1;	/* its revocation set */

static void
assign_token(const char *newval, void *extra)
{
	jwt_token_generation++;
}

static void
assign_policy_string(const char *newval, void *extra)
{
	jwt_policy_generation++;
}

static void
assign_policy_int(int newval, void *extra)
{
	jwt_policy_generation++;
}

static void
assign_policy_bool(bool newval, void *extra)
{
	jwt_policy_generation++;
}

/* A check hook's "extra": malloc'd up to 15, from the GUC context from 16 on. */
static void *
guc_extra_alloc(size_t size)
{
	return jwt_guc_extra_malloc(size);
}

/* Split a comma-separated list, trimming spaces; returns the item count. */
static int
split_list(char *s, char **items, int max)
{
	int			n = 0;

	while (*s)
	{
		char	   *start,
				   *end;

		while (*s == ' ' || *s == '\t')
			s++;
		start = s;
		while (*s && *s != ',')
			s++;
		end = s;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (*s == ',')
			s++;
		if (end == start)
			continue;
		*end = '\0';
		if (n < max)
			items[n] = start;
		n++;
	}
	return n;
}

static bool
check_algorithms(char **newval, void **extra, GucSource source)
{
	char	   *copy = pstrdup(*newval ? *newval : "");
	char	   *items[64];
	int			n = split_list(copy, items, 64);
	jose_algset set = 0;
	jose_algset *result;

	for (int i = 0; i < n && i < 64; i++)
	{
		jose_alg	alg = jose_alg_from_name(items[i], strlen(items[i]));

		if (alg == JOSE_ALG_UNSET)
		{
			GUC_check_errdetail("\"%s\" is not a JWS algorithm%s.", items[i],
								jose_alg_is_none(items[i], strlen(items[i])) ? " (\"none\" is never allowed)" : "");
			GUC_check_errhint("List algorithm names, e.g. 'RS256, ES256'; leave empty to allow every algorithm the registry's keys can do.");
			pfree(copy);
			return false;
		}
		set |= JOSE_ALGBIT(alg);
	}
	pfree(copy);
	result = guc_extra_alloc(sizeof(jose_algset));
	if (result == NULL)
		return false;
	*result = set;
	*extra = result;
	return true;
}

static void
assign_algorithms(const char *newval, void *extra)
{
	jwt_policy_algs = extra ? *(jose_algset *) extra : 0;
	jwt_policy_generation++;
}

static bool
check_required(char **newval, void **extra, GucSource source)
{
	char	   *copy = pstrdup(*newval ? *newval : "");
	char	   *items[64];
	int			n = split_list(copy, items, 64);
	size_t		bytes;
	JwtRequiredClaims *rc;
	char	   *p;

	if (n > 64)
	{
		GUC_check_errdetail("At most 64 claims can be required.");
		pfree(copy);
		return false;
	}
	bytes = offsetof(JwtRequiredClaims, names) + n * sizeof(char *);
	for (int i = 0; i < n; i++)
		bytes += strlen(items[i]) + 1;
	rc = guc_extra_alloc(bytes);
	if (rc == NULL)
	{
		pfree(copy);
		return false;
	}
	rc->n = n;
	p = (char *) rc + offsetof(JwtRequiredClaims, names) + n * sizeof(char *);
	for (int i = 0; i < n; i++)
	{
		strcpy(p, items[i]);
		rc->names[i] = p;
		p += strlen(items[i]) + 1;
	}
	pfree(copy);
	*extra = rc;
	return true;
}

static void
assign_required(const char *newval, void *extra)
{
	jwt_policy_required = (JwtRequiredClaims *) extra;
	jwt_policy_generation++;
}

/*
 * The longest jwt.issuer_url_prefixes and jwt.issuer_ca_file: the worker
 * hands both, with one issuer's row at least, to its fetches in a plan of
 * 256 kB (src/fetch/worker.c), and an issuer's row is at most 2048
 * characters of name and 2048 bytes of each URL.
 */
#define JWT_URL_PREFIXES_MAX (64 * 1024)

/*
 * Each item of jwt.issuer_url_prefixes starts with https:// (the fetcher
 * parses each with libcurl's URL parser when it uses them; one that does not
 * parse matches nothing); the whole at most JWT_URL_PREFIXES_MAX bytes.
 */
static bool
check_url_prefixes(char **newval, void **extra, GucSource source)
{
	const char *p = *newval ? *newval : "";

	if (strlen(p) > JWT_URL_PREFIXES_MAX)
	{
		GUC_check_errdetail("The list is longer than %d bytes.", JWT_URL_PREFIXES_MAX);
		return false;
	}
	while (*p)
	{
		const char *start;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == ',')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != ',')
			p++;
		if (p - start < 9 || pg_strncasecmp(start, "https://", 8) != 0)
		{
			GUC_check_errdetail("\"%.*s\" is not an https URL prefix.", (int) Min(p - start, 200), start);
			GUC_check_errhint("List origins and paths, e.g. 'https://login.example.com/, https://example.eu.auth0.com/'.");
			return false;
		}
	}
	return true;
}

/* A path, as PostgreSQL's own file settings are: shorter than MAXPGPATH. */
static bool
check_ca_file(char **newval, void **extra, GucSource source)
{
	if (*newval && strlen(*newval) >= MAXPGPATH)
	{
		GUC_check_errdetail("The path is longer than %d bytes.", MAXPGPATH - 1);
		return false;
	}
	return true;
}

void
jwt_define_settings(void)
{
	DefineCustomIntVariable("jwt.max_token_length",
							"Longest token, in bytes, that is decoded at all.",
							"Tokens longer than this are refused before any decoding. "
							"Valid range is 256 to 1048576 bytes.",
							&jwt_max_token_length,
							16384,
							256,
							JOSE_MAX_TOKEN_LEN,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);
	DefineCustomStringVariable("jwt.token",
							   "The session's bearer token, read by jwt_claims().",
							   "Set it per transaction from a bind parameter: SELECT set_config('jwt.token', $1, true). "
							   "Not as a literal in the statement: pg_stat_statements, log_statement and "
							   "pg_stat_activity keep a statement's text, and a token read there can be replayed.",
							   &jwt_session_token,
							   "",
							   PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, assign_token, NULL);
	DefineCustomStringVariable("jwt.audience",
							   "Audience that session tokens must name in \"aud\".",
							   "Empty: no audience is expected, and tokens that name one are refused.",
							   &jwt_policy_audience,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, assign_policy_string, NULL);
	DefineCustomStringVariable("jwt.issuer",
							   "Issuer that session tokens must have in \"iss\".",
							   "Empty: any issuer.",
							   &jwt_policy_issuer,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, assign_policy_string, NULL);
	DefineCustomIntVariable("jwt.leeway",
							"Seconds of clock skew allowed for exp, nbf and iat of session tokens.",
							"Valid range is 0 to 3600 seconds.",
							&jwt_policy_leeway,
							0, 0, 3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, assign_policy_int, NULL);
	DefineCustomStringVariable("jwt.algorithms",
							   "Algorithms allowed for session tokens, comma-separated.",
							   "Empty: every algorithm the registry's keys can do.",
							   &jwt_policy_algorithms_text,
							   "",
							   PGC_SUSET,
							   0,
							   check_algorithms, assign_algorithms, NULL);
	DefineCustomStringVariable("jwt.required_claims",
							   "Claims that session tokens must carry, comma-separated.",
							   "Default: exp, so that no session token is valid forever.",
							   &jwt_policy_required_text,
							   "exp",
							   PGC_SUSET,
							   0,
							   check_required, assign_required, NULL);
	DefineCustomIntVariable("jwt.max_age",
							"Longest time since \"iat\" that a session token is accepted, in seconds.",
							"0 means no limit; otherwise tokens must carry iat. Valid range is 0 to 31536000 seconds.",
							&jwt_policy_max_age,
							0, 0, 31536000,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, assign_policy_int, NULL);
	DefineCustomBoolVariable("jwt.fallback_request_claims",
							 "Without jwt.token, return request.jwt.claims UNVERIFIED from jwt_claims().",
							 "A compatibility switch for PostgREST setups: any client that connects directly can set request.jwt.claims, so this trusts it.",
							 &jwt_policy_fallback,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, assign_policy_bool, NULL);
	DefineCustomBoolVariable("jwt.fallback_claims_settings",
							 "Without jwt.token, return the jwt.claims.* settings UNVERIFIED from jwt_claims().",
							 "A compatibility switch for PostGraphile setups: any client can set jwt.claims.* settings, so this trusts them.",
							 &jwt_policy_fallback_settings,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, assign_policy_bool, NULL);
	DefineCustomIntVariable("jwt.access_token_lifetime",
							"Lifetime of the access tokens of jwt_login() and jwt_refresh(), in seconds.",
							"Their exp is the time of issue plus this. Valid range is 10 to 86400 seconds.",
							&jwt_access_token_lifetime,
							900, 10, 86400,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("jwt.refresh_token_lifetime",
							"How long an unused refresh token stays valid, in seconds.",
							"Never beyond the login's own end (jwt.login_lifetime). Valid range is 60 to 315360000 seconds.",
							&jwt_refresh_token_lifetime,
							2592000, 60, 315360000,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("jwt.login_lifetime",
							"Absolute lifetime of a login from jwt_login(), in seconds; rotation never extends it.",
							"Valid range is 60 to 315360000 seconds.",
							&jwt_login_lifetime,
							7776000, 60, 315360000,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("jwt.refresh_reuse_interval",
							"Seconds after its first use in which a refresh token presented again gets the same successor.",
							"After it, presenting the token again ends the whole login. Valid range is 0 to 300 seconds.",
							&jwt_refresh_reuse_interval,
							10, 0, 300,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomStringVariable("jwt.issuer_url_prefixes",
							   "URL prefixes under which a role that is not a superuser may register identity providers.",
							   "Comma-separated; a prefix is an https origin and a path ending at a segment boundary. "
							   "Every URL the server fetches for such a registration (the issuer's discovery document, "
							   "its jwks_uri, a redirect) must be under one.",
							   &jwt_issuer_url_prefixes,
							   "",
							   PGC_SUSET,
							   0,
							   check_url_prefixes, NULL, NULL);
	DefineCustomStringVariable("jwt.issuer_ca_file",
							   "File of CA certificates that identity providers' TLS certificates are verified against.",
							   "Empty: the system's certificate store.",
							   &jwt_issuer_ca_file,
							   "",
							   PGC_SUSET,
							   0,
							   check_ca_file, NULL, NULL);
	DefineCustomIntVariable("jwt.issuer_connect_timeout",
							"Longest wait for a connection to an identity provider, in seconds.",
							"Valid range is 1 to 60 seconds.",
							&jwt_issuer_connect_timeout,
							5, 1, 60,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("jwt.issuer_timeout",
							"Longest time one request to an identity provider may take, in seconds.",
							"Valid range is 1 to 300 seconds.",
							&jwt_issuer_timeout,
							15, 1, 300,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("jwt.issuer_max_response_size",
							"Largest response accepted from an identity provider, in bytes.",
							"Counted on the bytes received, also without a Content-Length. Valid range is 1024 to 1048576 bytes.",
							&jwt_issuer_max_response_size,
							1048576, 1024, JOSE_MAX_KEY_TEXT,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);
	DefineCustomIntVariable("jwt.issuer_refresh_min",
							"Shortest interval between two scheduled fetches of an issuer's keys, in seconds.",
							"A provider's Cache-Control max-age is honoured within jwt.issuer_refresh_min and "
							"jwt.issuer_refresh_max; failed fetches back off from it. Valid range is 1 to 86400 seconds.",
							&jwt_issuer_refresh_min,
							300, 1, 86400,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("jwt.issuer_refresh_max",
							"Longest interval between two scheduled fetches of an issuer's keys, in seconds.",
							"Also the interval when the provider sends no max-age. Valid range is 1 to 604800 seconds.",
							&jwt_issuer_refresh_max,
							3600, 1, 604800,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}
