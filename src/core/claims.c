/*
 * claims.c
 *		The registered claim checks of RFC 7519 section 4.1, rule 6 of
 *		DESIGN.md.  Types are checked before values, so a token whose "exp" is
 *		a string is refused for that, not for being unexpired.
 */
#include <math.h>
#include <string.h>

#include "jose.h"

static int
is_string_or_string_array(const jose_json_value *v)
{
	jose_json_value elem;
	size_t		pos = 0;

	if (v->type == JOSE_JSON_STRING)
		return 1;
	if (v->type != JOSE_JSON_ARRAY)
		return 0;
	while (jose_json_array_next(v, &pos, &elem))
		if (elem.type != JOSE_JSON_STRING)
			return 0;
	return 1;
}

static int
audience_matches(const jose_json_value *aud, const char *want, size_t len)
{
	jose_json_value elem;
	size_t		pos = 0;

	if (aud->type == JOSE_JSON_STRING)
		return jose_json_string_eq(aud, want, len);
	while (jose_json_array_next(aud, &pos, &elem))
		if (jose_json_string_eq(&elem, want, len))
			return 1;
	return 0;
}

/*
 * The registered claims the checks read, found in one pass over the
 * members: each name is compared once, not once for every claim looked for.
 * Names are unique (the parser refuses duplicates); the first is taken, as
 * jose_json_get() would.
 */
typedef struct registered
{
	const jose_json_value *times[3];	/* exp, nbf, iat */
	double		values[3];		/* theirs, once check_types has read them */
	const jose_json_value *aud;
	const jose_json_value *iss;
} registered;

static const char *const time_claims[] = {"exp", "nbf", "iat"};

static void
find_registered(const jose_json_object *claims, registered *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < claims->n; i++)
	{
		const jose_json_value *name = &claims->members[i].name;
		const jose_json_value **slot = NULL;

		/* mutation: rule-6-escaped-claim-names: if (name->escaped) => if (0) */
		if (name->escaped)
		{
			/* rare: compared as decoded */
			if (jose_json_string_eq(name, "exp", 3))
				slot = &r->times[0];
			else if (jose_json_string_eq(name, "nbf", 3))
				slot = &r->times[1];
			else if (jose_json_string_eq(name, "iat", 3))
				slot = &r->times[2];
			else if (jose_json_string_eq(name, "aud", 3))
				slot = &r->aud;
			else if (jose_json_string_eq(name, "iss", 3))
				slot = &r->iss;
		}
		else if (name->type == JOSE_JSON_STRING && name->len == 3)
		{
			const char *p = name->p;

			if (memcmp(p, "exp", 3) == 0)
				slot = &r->times[0];
			else if (memcmp(p, "nbf", 3) == 0)
				slot = &r->times[1];
			else if (memcmp(p, "iat", 3) == 0)
				slot = &r->times[2];
			else if (memcmp(p, "aud", 3) == 0)
				slot = &r->aud;
			else if (memcmp(p, "iss", 3) == 0)
				slot = &r->iss;
		}
		if (slot != NULL && *slot == NULL)
			*slot = &claims->members[i].value;
	}
}

static jose_status
check_types(registered *r, const char **which)
{
	const jose_json_value *aud = r->aud;
	const jose_json_value *iss = r->iss;

	*which = NULL;
	for (int i = 0; i < 3; i++)
	{
		const jose_json_value *v = r->times[i];

		/* mutation: rule-6-time-claims-numeric: if (v != NULL && => if (0 && v != NULL && */
		if (v != NULL && !jose_json_number(v, &r->values[i]))
		{
			*which = time_claims[i];
			return JOSE_E_CLAIM_TYPE;
		}
	}
	/* mutation: rule-6-aud-type: if (aud != NULL && => if (0 && aud != NULL && */
	if (aud != NULL && !is_string_or_string_array(aud))
	{
		*which = "aud";
		return JOSE_E_CLAIM_TYPE;
	}
	/* mutation: rule-6-iss-type: if (iss != NULL && => if (0 && iss != NULL && */
	if (iss != NULL && iss->type != JOSE_JSON_STRING)
	{
		*which = "iss";
		return JOSE_E_CLAIM_TYPE;
	}
	return JOSE_OK;
}

jose_status
jose_check_claim_types(const jose_json_object *claims, const char **which)
{
	registered	r;

	find_registered(claims, &r);
	return check_types(&r, which);
}

jose_status
jose_check_claims(const jose_json_object *claims, const jose_claim_rules *rules,
				  const char **which)
{
	registered	r;
	const jose_json_value *exp,
			   *nbf,
			   *iat,
			   *aud,
			   *iss;
	double		t;
	double		horizon;
	jose_status st;

	find_registered(claims, &r);
	if ((st = check_types(&r, which)) != JOSE_OK)
		return st;
	exp = r.times[0];
	nbf = r.times[1];
	iat = r.times[2];
	aud = r.aud;
	iss = r.iss;

	/*
	 * The types are known good now, and the times read (r.values).  nbf and
	 * iat are compared at the granularity of NumericDate, whole seconds: an
	 * issuer that rounds the current time (extract(epoch from now())::bigint
	 * does) would otherwise make tokens "from the future" half the time.
	 */
	/* mutation: rule-6-nbf-iat-leeway: rules->now + rules->leeway => rules->now + 2 * rules->leeway */
	horizon = ceil(rules->now + rules->leeway);
	/* mutation: rule-6-exp: if (exp != NULL && => if (0 && exp != NULL && */
	/* mutation: rule-6-exp-boundary: !(r.values[0] > rules->now => !(r.values[0] >= rules->now */
	/* mutation: rule-6-exp-leeway: rules->now - rules->leeway => rules->now - 2 * rules->leeway */
	if (exp != NULL && !(r.values[0] > rules->now - rules->leeway))
		return JOSE_E_EXPIRED;
	/* mutation: rule-6-nbf: if (nbf != NULL && => if (0 && nbf != NULL && */
	if (nbf != NULL && !(r.values[1] <= horizon))
		return JOSE_E_NOT_YET_VALID;
	/* mutation: rule-6-iat: if (iat != NULL && => if (0 && iat != NULL && */
	if (iat != NULL && !(r.values[2] <= horizon))
		return JOSE_E_IAT_FUTURE;

	/*
	 * RFC 7519 section 4.1.3: a token that names an audience is for that
	 * audience only, so one with "aud" is refused when none is expected.
	 */
	if (rules->audience != NULL || rules->naudiences > 0)
	{
		/* mutation: rule-6-aud-required: if (aud == NULL) => if (0) */
		if (aud == NULL)
		{
			*which = "aud";		/* absent, not wrong: its own detail */
			return JOSE_E_CLAIM_MISSING;
		}
		if (rules->audience != NULL)
		{
			/* mutation: rule-6-aud-match: if (!audience_matches(aud, rules->audience, rules->audience_len)) => if (0) */
			if (!audience_matches(aud, rules->audience, rules->audience_len))
				return JOSE_E_AUDIENCE;
		}
		else
		{
			/* a list (an identity provider's audiences): any one of them */
			size_t		i = 0;

			while (i < rules->naudiences &&
				   !audience_matches(aud, rules->audiences[i], rules->audience_lens[i]))
				i++;
			/* mutation: rule-6-aud-list-match: if (i == rules->naudiences) => if (0) */
			if (i == rules->naudiences)
				return JOSE_E_AUDIENCE;
		}
	}
	/* mutation: rule-6-aud-unexpected: else if (aud != NULL) => else if (0) */
	else if (aud != NULL)
		return JOSE_E_AUDIENCE_UNEXPECTED;

	/* mutation: rule-6-iss: if (rules->issuer != NULL && => if (0 && rules->issuer != NULL && */
	if (rules->issuer != NULL &&
		(iss == NULL || !jose_json_string_eq(iss, rules->issuer, rules->issuer_len)))
		return JOSE_E_ISSUER;

	for (size_t i = 0; i < rules->nrequired; i++)
		/* mutation: rule-6-required-claims: == NULL) => == NULL && 0) */
		if (jose_json_get(claims, rules->required[i]) == NULL)
		{
			*which = rules->required[i];
			return JOSE_E_CLAIM_MISSING;
		}
	if (rules->max_age > 0)
	{
		if (iat == NULL)
		{
			*which = "iat";
			return JOSE_E_CLAIM_MISSING;
		}
		t = r.values[2];
		/* mutation: rule-6-max-age: if (rules->now - t > => if (0 && rules->now - t > */
		if (rules->now - t > rules->max_age + rules->leeway)
			return JOSE_E_TOO_OLD;
	}
	return JOSE_OK;
}
