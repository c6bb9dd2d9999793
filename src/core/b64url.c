/*
 * b64url.c
 *		base64url without padding (RFC 4648 section 5; RFC 7515 section 2).
 *
 * The decoder is strict: a token has exactly one encoding, so anything a
 * lenient decoder would also accept (padding, "+" and "/", whitespace, a
 * length that leaves 6 stray bits, non-zero unused bits) is refused.
 */
#include "jose.h"

static const char enc_table[64] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63 for the alphabet, 255 for every other byte. */
static const unsigned char dec_table[256] = {
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,  62, 255, 255,
	 52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255, 255, 255, 255, 255,
	255,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
	 15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255,  63,
	255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
	 41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

size_t
jose_b64url_encode(const unsigned char *in, size_t len, char *out)
{
	char	   *o = out;
	size_t		i = 0;

	for (; i + 3 <= len; i += 3)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8) | in[i + 2];

		*o++ = enc_table[(v >> 18) & 63];
		*o++ = enc_table[(v >> 12) & 63];
		*o++ = enc_table[(v >> 6) & 63];
		*o++ = enc_table[v & 63];
	}
	if (len - i == 1)
	{
		uint32_t	v = (uint32_t) in[i] << 16;

		*o++ = enc_table[(v >> 18) & 63];
		*o++ = enc_table[(v >> 12) & 63];
	}
	else if (len - i == 2)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8);

		*o++ = enc_table[(v >> 18) & 63];
		*o++ = enc_table[(v >> 12) & 63];
		*o++ = enc_table[(v >> 6) & 63];
	}
	return (size_t) (o - out);
}

/*
 * Decode; out needs JOSE_B64_DECODED_MAX(len) bytes.  Returns 0 on any
 * deviation from the one canonical encoding.
 */
int
jose_b64url_decode(const char *in, size_t len, unsigned char *out, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *) in;
	unsigned char *o = out;
	size_t		i = 0;
	size_t		rem = len % 4;

	/* mutation: rule-2-b64-length: rem == 1 => 0 */
	if (rem == 1)
		return 0;

	for (; i + 4 <= len; i += 4)
	{
		unsigned	a = dec_table[s[i]],
					b = dec_table[s[i + 1]],
					c = dec_table[s[i + 2]],
					d = dec_table[s[i + 3]];

		/* mutation: rule-2-b64-alphabet: (a | b | c | d) & 0x80 => 0 */
		if ((a | b | c | d) & 0x80)
			return 0;
		*o++ = (unsigned char) ((a << 2) | (b >> 4));
		*o++ = (unsigned char) ((b << 4) | (c >> 2));
		*o++ = (unsigned char) ((c << 6) | d);
	}
	if (rem == 2)
	{
		unsigned	a = dec_table[s[i]],
					b = dec_table[s[i + 1]];

		/* the last character carries 2 data bits; its low 4 must be zero */
		/* mutation: rule-2-b64-trailing-bits-2: || (b & 0x0F) => || 0 */
		if (((a | b) & 0x80) || (b & 0x0F))
			return 0;
		*o++ = (unsigned char) ((a << 2) | (b >> 4));
	}
	else if (rem == 3)
	{
		unsigned	a = dec_table[s[i]],
					b = dec_table[s[i + 1]],
					c = dec_table[s[i + 2]];

		/* the last character carries 4 data bits; its low 2 must be zero */
		/* mutation: rule-2-b64-trailing-bits-3: || (c & 0x03) => || 0 */
		if (((a | b | c) & 0x80) || (c & 0x03))
			return 0;
		*o++ = (unsigned char) ((a << 2) | (b >> 4));
		*o++ = (unsigned char) ((b << 4) | (c >> 2));
	}
	*outlen = (size_t) (o - out);
	return 1;
}
