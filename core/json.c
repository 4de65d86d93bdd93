/*
 * json.c - a strict JSON reader (RFC 8259): see json.h.
 *
 * The value loop keeps its own stack (one byte per open container)
 * instead of recursing, so nesting costs no C stack, and refuses values
 * deeper than OZX_JSON_MAX_DEPTH.  The path is followed on the way: a
 * member's key is decoded only when its object lies on the path, and the
 * string asked for is decoded into out; everything else is validated in
 * place.
 */
#include "config.h"

#include "json.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ozx.h"

struct jp {
	const unsigned char *p, *end;
};

static void jws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static void put(char *dst, size_t dsize, size_t *n, unsigned char b)
{
	if (dst && *n + 1 < dsize)
		dst[*n] = (char)b;
	(*n)++;
}

static int hex4(struct jp *j, uint32_t *v)
{
	*v = 0;
	for (int k = 0; k < 4; k++, j->p++) {
		unsigned char c;

		if (j->p >= j->end)
			return -EINVAL;
		c = *j->p;
		if (c >= '0' && c <= '9')
			*v = *v << 4 | (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			*v = *v << 4 | (uint32_t)((c | 0x20) - 'a' + 10);
		else
			return -EINVAL;
	}
	return 0;
}

static void put_cp(char *dst, size_t dsize, size_t *n, uint32_t cp)
{
	if (cp < 0x80) {
		put(dst, dsize, n, (unsigned char)cp);
	} else if (cp < 0x800) {
		put(dst, dsize, n, (unsigned char)(0xc0 | cp >> 6));
		put(dst, dsize, n, (unsigned char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		put(dst, dsize, n, (unsigned char)(0xe0 | cp >> 12));
		put(dst, dsize, n, (unsigned char)(0x80 | (cp >> 6 & 0x3f)));
		put(dst, dsize, n, (unsigned char)(0x80 | (cp & 0x3f)));
	} else {
		put(dst, dsize, n, (unsigned char)(0xf0 | cp >> 18));
		put(dst, dsize, n, (unsigned char)(0x80 | (cp >> 12 & 0x3f)));
		put(dst, dsize, n, (unsigned char)(0x80 | (cp >> 6 & 0x3f)));
		put(dst, dsize, n, (unsigned char)(0x80 | (cp & 0x3f)));
	}
}

/*
 * The string at j->p, decoded into dst (dsize bytes, NUL-terminated, may
 * be NULL); *dlen is the whole decoded length.  Returns 0 or -EINVAL.
 */
static int jstring(struct jp *j, char *dst, size_t dsize, size_t *dlen)
{
	size_t n = 0;

	if (j->p >= j->end || *j->p != '"')
		return -EINVAL;
	j->p++;
	for (;;) {
		unsigned char c;
		uint32_t cp, lo;
		size_t k;

		if (j->p >= j->end)
			return -EINVAL;
		c = *j->p;
		if (c == '"') {
			j->p++;
			break;
		}
		if (c < 0x20)
			return -EINVAL;
		if (c != '\\') {
			k = ozx_utf8_seq(j->p, (size_t)(j->end - j->p));
			if (k == 0)
				return -EINVAL;
			for (size_t i = 0; i < k; i++)
				put(dst, dsize, &n, j->p[i]);
			j->p += k;
			continue;
		}
		if (++j->p >= j->end)
			return -EINVAL;
		c = *j->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			put(dst, dsize, &n, c);
			break;
		case 'b':
			put(dst, dsize, &n, '\b');
			break;
		case 'f':
			put(dst, dsize, &n, '\f');
			break;
		case 'n':
			put(dst, dsize, &n, '\n');
			break;
		case 'r':
			put(dst, dsize, &n, '\r');
			break;
		case 't':
			put(dst, dsize, &n, '\t');
			break;
		case 'u':
			if (hex4(j, &cp))
				return -EINVAL;
			if (cp >= 0xd800 && cp <= 0xdbff &&
			    j->end - j->p >= 6 && j->p[0] == '\\' &&
			    j->p[1] == 'u') {
				const unsigned char *save = j->p;

				j->p += 2;
				if (hex4(j, &lo))
					return -EINVAL;
				if (lo >= 0xdc00 && lo <= 0xdfff)
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					     (lo - 0xdc00);
				else
					j->p = save;
			}
			/* A lone surrogate is valid JSON text but no
			 * character: U+FFFD stands for it. */
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;
			put_cp(dst, dsize, &n, cp);
			break;
		default:
			return -EINVAL;
		}
	}
	if (dst && dsize)
		dst[n < dsize ? n : dsize - 1] = '\0';
	*dlen = n;
	return 0;
}

static int jnumber(struct jp *j)
{
	const unsigned char *s;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end)
		return -EINVAL;
	if (*j->p == '0') {
		j->p++;
	} else if (*j->p >= '1' && *j->p <= '9') {
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	} else {
		return -EINVAL;
	}
	if (j->p < j->end && *j->p == '.') {
		s = ++j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == s)
			return -EINVAL;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		s = j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == s)
			return -EINVAL;
	}
	return 0;
}

static int jlit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n))
		return -EINVAL;
	j->p += n;
	return 0;
}

/* The containers open around the value being read. */
#define C_OBJECT 1u  /* an object, not an array */
#define C_ON_PATH 2u /* its members are matched against the path */

struct jstack {
	unsigned char c[OZX_JSON_MAX_DEPTH + 1];
	size_t n;
};

/* A member's key, and whether it takes the path one step further. */
static int jkey(struct jp *j, const struct jstack *st, const char *const *path,
		size_t npath, bool *child)
{
	size_t level = st->n - 1, n;
	char key[256];
	int ret;

	*child = false;
	jws(j);
	if ((st->c[level] & C_ON_PATH) && level < npath) {
		ret = jstring(j, key, sizeof(key), &n);
		*child = !ret && n < sizeof(key) && n == strlen(path[level]) &&
			 !memcmp(key, path[level], n);
	} else {
		ret = jstring(j, NULL, 0, &n);
	}
	if (ret)
		return ret;
	jws(j);
	if (j->p >= j->end || *j->p != ':')
		return -EINVAL;
	j->p++;
	return 0;
}

/* A scalar value at j->p: its kind, or -EINVAL. */
static int jscalar(struct jp *j, bool here, char *out, size_t size,
		   struct ozx_json_res *res)
{
	size_t n;

	switch (*j->p) {
	case '"':
		if (here && out && size) {
			if (jstring(j, out, size, &n))
				return -EINVAL;
			res->truncated = n >= size;
		} else if (jstring(j, NULL, 0, &n)) {
			return -EINVAL;
		}
		return OZX_JSON_STRING;
	case 't':
		return jlit(j, "true") ? -EINVAL : OZX_JSON_TRUE;
	case 'f':
		return jlit(j, "false") ? -EINVAL : OZX_JSON_FALSE;
	case 'n':
		return jlit(j, "null") ? -EINVAL : OZX_JSON_NULL;
	default:
		return jnumber(j) ? -EINVAL : OZX_JSON_NUMBER;
	}
}

/* The whole value at j->p, nested containers and all. */
static int jvalue(struct jp *j, const char *const *path, size_t npath,
		  char *out, size_t size, struct ozx_json_res *res)
{
	struct jstack st = { .n = 0 };
	bool child = path != NULL;
	int kind, ret;

	for (;;) {
		bool here = child && st.n == npath;

		/* A value, inside st.n containers. */
		jws(j);
		if (j->p >= j->end || st.n > OZX_JSON_MAX_DEPTH)
			return -EINVAL;
		if (*j->p == '{' || *j->p == '[') {
			bool obj = *j->p++ == '{';

			kind = obj ? OZX_JSON_OBJECT : OZX_JSON_ARRAY;
			if (here)
				res->kind = (enum ozx_json_kind)kind;
			if (st.n == 0)
				res->top = (enum ozx_json_kind)kind;
			st.c[st.n++] = (unsigned char)((obj ? C_OBJECT : 0) |
						       (child ? C_ON_PATH : 0));
			jws(j);
			if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
				j->p++;
				st.n--;
				goto next;
			}
			goto member;
		}
		kind = jscalar(j, here, out, size, res);
		if (kind < 0)
			return kind;
		if (here)
			res->kind = (enum ozx_json_kind)kind;
		if (st.n == 0)
			res->top = (enum ozx_json_kind)kind;
next:
		/* After a value: the end, a comma, or a container's end. */
		if (st.n == 0)
			return 0;
		jws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			goto member;
		}
		if (j->p < j->end &&
		    *j->p == ((st.c[st.n - 1] & C_OBJECT) ? '}' : ']')) {
			j->p++;
			st.n--;
			goto next;
		}
		return -EINVAL;
member:
		/* The next member of the innermost container. */
		child = false;
		if (st.c[st.n - 1] & C_OBJECT) {
			ret = jkey(j, &st, path, npath, &child);
			if (ret)
				return ret;
			/* A later duplicate of a key on the path replaces
			 * all that the earlier one held, as in Python: what
			 * was found below it is forgotten (found in review:
			 * {"a":{"b":"x"},"a":1} gave "x" at a.b). */
			if (child) {
				res->kind = OZX_JSON_ABSENT;
				res->truncated = false;
				if (out && size)
					out[0] = '\0';
			}
		}
	}
}

int ozx_json_parse(const char *s, size_t len, unsigned flags,
		   const char *const *path, char *out, size_t size,
		   struct ozx_json_res *res)
{
	struct jp j = {
		.p = (const unsigned char *)s,
		.end = (const unsigned char *)s + len,
	};
	size_t npath = 0;
	int ret;

	memset(res, 0, sizeof(*res));
	if (out && size)
		out[0] = '\0';
	while (path && path[npath])
		npath++;
	ret = jvalue(&j, path, npath, out, size, res);
	if (ret)
		goto out_invalid;
	res->end = (size_t)(j.p - (const unsigned char *)s);
	if (flags & OZX_JSON_PREFIX)
		return 0;
	jws(&j);
	if (j.p != j.end) {
		ret = -EINVAL;
		goto out_invalid;
	}
	res->end = len;
	return 0;

out_invalid:
	memset(res, 0, sizeof(*res));
	if (out && size)
		out[0] = '\0';
	return ret;
}
