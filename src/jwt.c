/*
 * jwt.c
 *		Module entry: settings and cache callbacks.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "jwt.h"

PG_MODULE_MAGIC;

/* The size cap of rule 1: room for any real token, a bound for hostile ones. */
int			jwt_max_token_length = 16384;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("jwt.max_token_length",
							"Longest token, in bytes, that is decoded at all.",
							"Tokens longer than this are refused before any decoding. "
							"Valid range is 256 to 1048576 bytes.",
							&jwt_max_token_length,
							16384,
							256,
							1048576,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	jwt_session_define_settings();
	jwt_session_register_callbacks();

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("jwt");
#else
	EmitWarningsOnPlaceholders("jwt");
#endif
}
