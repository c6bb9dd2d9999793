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

/*
 * For the decoder, four tables, one for each place in a group of four
 * characters: a character's 6 bits already shifted to that place in the
 * group's 24, and a bit of its own above them (bit 24 + place) saying the
 * character is in the alphabet.  Every other byte is 0, so a group is the
 * OR of its four entries, and it was all alphabet when its four marks are
 * all set.
 */
#define E(x, s, v)	(((uint32_t) (x) << (s)) | (v))
#define DEC_TABLE(s, v) { \
	['A'] = E(0, s, v), ['B'] = E(1, s, v), ['C'] = E(2, s, v), ['D'] = E(3, s, v), \
	['E'] = E(4, s, v), ['F'] = E(5, s, v), ['G'] = E(6, s, v), ['H'] = E(7, s, v), \
	['I'] = E(8, s, v), ['J'] = E(9, s, v), ['K'] = E(10, s, v), ['L'] = E(11, s, v), \
	['M'] = E(12, s, v), ['N'] = E(13, s, v), ['O'] = E(14, s, v), ['P'] = E(15, s, v), \
	['Q'] = E(16, s, v), ['R'] = E(17, s, v), ['S'] = E(18, s, v), ['T'] = E(19, s, v), \
	['U'] = E(20, s, v), ['V'] = E(21, s, v), ['W'] = E(22, s, v), ['X'] = E(23, s, v), \
	['Y'] = E(24, s, v), ['Z'] = E(25, s, v), ['a'] = E(26, s, v), ['b'] = E(27, s, v), \
	['c'] = E(28, s, v), ['d'] = E(29, s, v), ['e'] = E(30, s, v), ['f'] = E(31, s, v), \
	['g'] = E(32, s, v), ['h'] = E(33, s, v), ['i'] = E(34, s, v), ['j'] = E(35, s, v), \
	['k'] = E(36, s, v), ['l'] = E(37, s, v), ['m'] = E(38, s, v), ['n'] = E(39, s, v), \
	['o'] = E(40, s, v), ['p'] = E(41, s, v), ['q'] = E(42, s, v), ['r'] = E(43, s, v), \
	['s'] = E(44, s, v), ['t'] = E(45, s, v), ['u'] = E(46, s, v), ['v'] = E(47, s, v), \
	['w'] = E(48, s, v), ['x'] = E(49, s, v), ['y'] = E(50, s, v), ['z'] = E(51, s, v), \
	['0'] = E(52, s, v), ['1'] = E(53, s, v), ['2'] = E(54, s, v), ['3'] = E(55, s, v), \
	['4'] = E(56, s, v), ['5'] = E(57, s, v), ['6'] = E(58, s, v), ['7'] = E(59, s, v), \
	['8'] = E(60, s, v), ['9'] = E(61, s, v), ['-'] = E(62, s, v), ['_'] = E(63, s, v), \
}
#define MARK(place)	((uint32_t) 1 << (24 + (place)))
#define MARKS		(MARK(0) | MARK(1) | MARK(2) | MARK(3))

static const uint32_t dec0[256] = DEC_TABLE(18, MARK(0));
static const uint32_t dec1[256] = DEC_TABLE(12, MARK(1));
static const uint32_t dec2[256] = DEC_TABLE(6, MARK(2));
static const uint32_t dec3[256] = DEC_TABLE(0, MARK(3));

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
 * deviation from the one canonical encoding.  Bytes are written before the
 * alphabet is checked, once for the whole input; on 0 they mean nothing.
 */
int
jose_b64url_decode(const char *in, size_t len, unsigned char *out, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *) in;
	unsigned char *o = out;
	size_t		i = 0;
	size_t		rem = len % 4;
	uint32_t	marks = MARKS;	/* the marks every group so far has had */

	/* mutation: rule-2-b64-length: rem == 1 => 0 */
	if (rem == 1)
		return 0;

	for (; i + 4 <= len; i += 4)
	{
		uint32_t	v = dec0[s[i]] | dec1[s[i + 1]] | dec2[s[i + 2]] | dec3[s[i + 3]];

		marks &= v;
		o[0] = (unsigned char) (v >> 16);
		o[1] = (unsigned char) (v >> 8);
		o[2] = (unsigned char) v;
		o += 3;
	}
	/* mutation: rule-2-b64-alphabet: (marks & MARKS) != MARKS => 0 */
	if ((marks & MARKS) != MARKS)
		return 0;
	if (rem == 2)
	{
		uint32_t	v = dec0[s[i]] | dec1[s[i + 1]];

		/* the last character carries 2 data bits; its low 4 must be zero */
		/* mutation: rule-2-b64-trailing-bits-2: || ((v >> 12) & 0x0F) => || 0 */
		if ((v & (MARK(0) | MARK(1))) != (MARK(0) | MARK(1)) || ((v >> 12) & 0x0F))
			return 0;
		*o++ = (unsigned char) (v >> 16);
	}
	else if (rem == 3)
	{
		uint32_t	v = dec0[s[i]] | dec1[s[i + 1]] | dec2[s[i + 2]];

		/* the last character carries 4 data bits; its low 2 must be zero */
		/* mutation: rule-2-b64-trailing-bits-3: ((v >> 6) & 0x03)) => 0) */
		if ((v & (MARK(0) | MARK(1) | MARK(2))) != (MARK(0) | MARK(1) | MARK(2)) ||
			((v >> 6) & 0x03))
			return 0;
		*o++ = (unsigned char) (v >> 16);
		*o++ = (unsigned char) (v >> 8);
	}
	*outlen = (size_t) (o - out);
	return 1;
}
