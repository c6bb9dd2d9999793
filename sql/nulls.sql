--
-- nulls: NULL and empty arguments, for every function of the extension.
--
-- A NULL token, claims, key or algorithm gives NULL (as a STRICT function
-- would); a NULL algorithms list, audience, issuer or header means "no
-- such restriction" or "the default", and a NULL leeway means none.  An
-- empty key, algorithm name, algorithms list, audience or issuer is a wrong
-- call (22023); an empty token is a bad token (28000).
--
-- Each call is shown as written, with what it returns (NULL, a token, the
-- claims, true or false) or the SQLSTATE and message it raises.
--
-- the result of a query as text, or the error it raised
CREATE FUNCTION pg_temp.outcome(call text, OUT result text, OUT code text, OUT message text,
                                OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'SELECT (' || call || ')::text' INTO result;
    code := '00000';
    result := CASE WHEN result IS NULL THEN 'NULL'
                   WHEN result LIKE 'eyJ%' THEN 'a token' ELSE result END;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL;
END
$$;
-- a valid token for the secret repeat('s', 32) and claims {"sub":"alice"};
-- TOKEN in the calls below stands for it
SELECT jwt_sign('{"sub":"alice"}', repeat('s', 32)) AS token \gset
SELECT :'token' AS token;
--
-- jwt_sign(claims jsonb, key text|bytea, algorithm text, header jsonb)
--
SELECT call, o.*
FROM (VALUES
    ($$jwt_sign(NULL, repeat('s', 32))$$),
    ($$jwt_sign('{}', NULL::text)$$),
    ($$jwt_sign('{}', NULL::bytea)$$),
    ($$jwt_sign('{}', NULL)$$),
    ($$jwt_sign(NULL, NULL::text, NULL, NULL)$$),
    ($$jwt_sign('{}', repeat('s', 32), NULL)$$),
    ($$jwt_sign('{}', repeat('s', 32)::bytea, NULL)$$),
    ($$jwt_sign('{}', repeat('s', 32), 'HS256', NULL)$$),
    ($$jwt_sign('{}', repeat('s', 32)::bytea, 'HS256', NULL)$$),
    ($$jwt_sign(NULL, '', '', '[]')$$),
    ($$jwt_sign('{}', repeat('s', 32))$$),
    ($$jwt_sign('null', repeat('s', 32))$$),
    ($$jwt_sign('{}', '')$$),
    ($$jwt_sign('{}', ''::bytea)$$),
    ($$jwt_sign('{}', ' ')$$),
    ($$jwt_sign('{}', repeat('s', 32), '')$$),
    ($$jwt_sign('{}', repeat('s', 32), 'HS256', '{}')$$),
    ($$jwt_sign('{}', repeat('s', 32), 'HS256', 'null')$$),
    ($$jwt_sign('{}', repeat('s', 32), 'HS256', '{"typ":""}')$$),
    ($$jwt_sign('{}', repeat('s', 32), 'HS256', '{"kid":""}')$$)
) AS t(call),
LATERAL pg_temp.outcome(replace(call, 'TOKEN', quote_literal(:'token'))) o;
-- what the header of the last two looks like
SELECT jwt_decode(jwt_sign('{}', repeat('s', 32), 'HS256', '{"typ":""}')) -> 'header' AS header_typ,
       jwt_decode(jwt_sign('{}', repeat('s', 32), 'HS256', '{"kid":""}')) -> 'header' AS header_kid;
--
-- jwt_verify(token text, key text|bytea, algorithms text[], audience text,
-- issuer text, leeway interval)
--
SELECT call, o.*
FROM (VALUES
    ($$jwt_verify(NULL, repeat('s', 32))$$),
    ($$jwt_verify(NULL, repeat('s', 32)::bytea)$$),
    ($$jwt_verify(TOKEN, NULL::text)$$),
    ($$jwt_verify(TOKEN, NULL::bytea)$$),
    ($$jwt_verify(TOKEN, NULL)$$),
    ($$jwt_verify(NULL, '', '{}', '', '', '-1 day')$$),
    ($$jwt_verify(TOKEN, repeat('s', 32), NULL)$$),
    ($$jwt_verify(TOKEN, repeat('s', 32), NULL, NULL)$$),
    ($$jwt_verify(TOKEN, repeat('s', 32), NULL, NULL, NULL)$$),
    ($$jwt_verify(TOKEN, repeat('s', 32), NULL, NULL, NULL, NULL)$$),
    ($$jwt_verify(TOKEN, repeat('s', 32)::bytea, NULL, NULL, NULL, NULL)$$),
    ($$jwt_verify('', repeat('s', 32))$$),
    ($$jwt_verify('', repeat('s', 32)::bytea)$$),
    ($$jwt_verify('..', repeat('s', 32))$$),
    ($$jwt_verify(TOKEN, '')$$),
    ($$jwt_verify(TOKEN, ''::bytea)$$),
    ($$jwt_verify('', '')$$),
    ($$jwt_verify(TOKEN, repeat('s', 32), '{}')$$),
    ($$jwt_verify(TOKEN, repeat('s', 32), '{""}')$$),
    ($$jwt_verify(TOKEN, repeat('s', 32), '{NULL}')$$),
    ($$jwt_verify(TOKEN, repeat('s', 32), audience => '')$$),
    ($$jwt_verify(TOKEN, repeat('s', 32), issuer => '')$$),
    ($$jwt_verify(TOKEN, repeat('s', 32), leeway => '0')$$),
    ($$jwt_verify(TOKEN, repeat('s', 32)::bytea, '{}')$$),
    ($$jwt_verify(TOKEN, repeat('s', 32)::bytea, audience => '')$$),
    ($$jwt_verify(TOKEN, repeat('s', 32)::bytea, issuer => '')$$)
) AS t(call),
LATERAL pg_temp.outcome(replace(call, 'TOKEN', quote_literal(:'token'))) o;
-- a NULL leeway is no leeway: a token expired 30 seconds ago is refused
SELECT leeway, o.code, o.message, o.detail
FROM unnest(ARRAY['NULL', $$'0'$$, $$'1 minute'$$]) AS leeway,
LATERAL pg_temp.outcome(format($$jwt_verify(jwt_sign(jsonb_build_object('exp', floor(extract(epoch FROM statement_timestamp())) - 30), repeat('s', 32)), repeat('s', 32), leeway => %s)$$, leeway)) o;
--
-- jwt_is_valid: the same arguments; false for a bad token, an error for a
-- wrong call
--
SELECT call, o.*
FROM (VALUES
    ($$jwt_is_valid(NULL, repeat('s', 32))$$),
    ($$jwt_is_valid(NULL, repeat('s', 32)::bytea)$$),
    ($$jwt_is_valid(TOKEN, NULL::text)$$),
    ($$jwt_is_valid(TOKEN, NULL::bytea)$$),
    ($$jwt_is_valid(TOKEN, NULL)$$),
    ($$jwt_is_valid(NULL, '', '{}', '', '', '-1 day')$$),
    ($$jwt_is_valid(TOKEN, repeat('s', 32), NULL, NULL, NULL, NULL)$$),
    ($$jwt_is_valid(TOKEN, repeat('s', 32)::bytea, NULL, NULL, NULL, NULL)$$),
    ($$jwt_is_valid('', repeat('s', 32))$$),
    ($$jwt_is_valid('', repeat('s', 32)::bytea)$$),
    ($$jwt_is_valid('..', repeat('s', 32))$$),
    ($$jwt_is_valid(TOKEN, '')$$),
    ($$jwt_is_valid(TOKEN, ''::bytea)$$),
    ($$jwt_is_valid('', '')$$),
    ($$jwt_is_valid(TOKEN, repeat('s', 32), '{}')$$),
    ($$jwt_is_valid(TOKEN, repeat('s', 32), '{NULL}')$$),
    ($$jwt_is_valid(TOKEN, repeat('s', 32), audience => '')$$),
    ($$jwt_is_valid(TOKEN, repeat('s', 32), issuer => '')$$),
    ($$jwt_is_valid(TOKEN, repeat('s', 32)::bytea, '{}')$$)
) AS t(call),
LATERAL pg_temp.outcome(replace(call, 'TOKEN', quote_literal(:'token'))) o;
--
-- jwt_decode(token text): STRICT
--
SELECT call, o.*
FROM (VALUES
    ($$jwt_decode(NULL)$$),
    ($$jwt_decode('')$$),
    ($$jwt_decode('..')$$),
    ($$jwt_decode('e30..')$$),
    ($$jwt_decode('e30.e30.')$$)
) AS t(call),
LATERAL pg_temp.outcome(replace(call, 'TOKEN', quote_literal(:'token'))) o;
