/*
 * jsonout.c
 *		jsonb written as compact JSON (no spaces), the form tokens carry
 *		(jsonin.c reads such text back).
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "jwt.h"

void
jwt_json_escape(StringInfo out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t		run = 0;

	appendStringInfoCharMacro(out, '"');
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		appendBinaryStringInfo(out, s + run, (int) (i - run));
		run = i + 1;
		switch (c)
		{
			case '"':
				appendStringInfoString(out, "\\\"");
				break;
			case '\\':
				appendStringInfoString(out, "\\\\");
				break;
			case '\n':
				appendStringInfoString(out, "\\n");
				break;
			case '\r':
				appendStringInfoString(out, "\\r");
				break;
			case '\t':
				appendStringInfoString(out, "\\t");
				break;
			case '\b':
				appendStringInfoString(out, "\\b");
				break;
			case '\f':
				appendStringInfoString(out, "\\f");
				break;
			default:
				appendStringInfoString(out, "\\u00");
				appendStringInfoCharMacro(out, hex[c >> 4]);
				appendStringInfoCharMacro(out, hex[c & 15]);
				break;
		}
	}
	appendBinaryStringInfo(out, s + run, (int) (len - run));
	appendStringInfoCharMacro(out, '"');
}

static void
scalar_out(StringInfo out, JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			appendStringInfoString(out, "null");
			break;
		case jbvBool:
			appendStringInfoString(out, v->val.boolean ? "true" : "false");
			break;
		case jbvString:
			jwt_json_escape(out, v->val.string.val, v->val.string.len);
			break;
		case jbvNumeric:
			appendStringInfoString(out,
								   DatumGetCString(DirectFunctionCall1(numeric_out,
																	   NumericGetDatum(v->val.numeric))));
			break;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
}

void
jwt_jsonb_to_json(StringInfo out, JsonbContainer *jc)
{
	JsonbIterator *it = JsonbIteratorInit(jc);
	JsonbValue	v;
	JsonbIteratorToken tok;
	bool		first = true;	/* no comma before the next item */
	bool		raw_scalar = false;

	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		switch (tok)
		{
			case WJB_BEGIN_OBJECT:
			case WJB_BEGIN_ARRAY:
				if (tok == WJB_BEGIN_ARRAY && v.val.array.rawScalar)
				{
					raw_scalar = true;
					break;
				}
				if (!first)
					appendStringInfoCharMacro(out, ',');
				appendStringInfoCharMacro(out, tok == WJB_BEGIN_OBJECT ? '{' : '[');
				first = true;
				break;
			case WJB_END_OBJECT:
			case WJB_END_ARRAY:
				if (tok == WJB_END_ARRAY && raw_scalar)
					break;
				appendStringInfoCharMacro(out, tok == WJB_END_OBJECT ? '}' : ']');
				first = false;
				break;
			case WJB_KEY:
				if (!first)
					appendStringInfoCharMacro(out, ',');
				jwt_json_escape(out, v.val.string.val, v.val.string.len);
				appendStringInfoCharMacro(out, ':');
				first = true;	/* the value follows without a comma */
				break;
			case WJB_VALUE:
			case WJB_ELEM:
				if (!first)
					appendStringInfoCharMacro(out, ',');
				scalar_out(out, &v);
				first = false;
				break;
			default:
				break;
		}
	}
}
