/*
 * cursor.h - a bounded little-endian reader over a byte buffer, in the
 * manner of libzip's zip_buffer.c: reads past the end yield zero and clear
 * a sticky ok flag, so a parser checks once after a run of reads.
 */
#ifndef OZX_CURSOR_H
#define OZX_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ozx_cursor {
	const unsigned char *p;
	size_t len;
	size_t pos;
	bool ok;
};

static inline struct ozx_cursor ozx_cursor_make(const void *p, size_t len)
{
	struct ozx_cursor c = { p, len, 0, true };
	return c;
}

static inline size_t ozx_cursor_left(const struct ozx_cursor *c)
{
	return c->len - c->pos;
}

/* A pointer to the next n bytes, or NULL (and !ok) if there are fewer. */
static inline const unsigned char *ozx_cursor_take(struct ozx_cursor *c,
						   size_t n)
{
	const unsigned char *r;

	if (!c->ok || n > c->len - c->pos) {
		c->ok = false;
		return NULL;
	}
	r = c->p + c->pos;
	c->pos += n;
	return r;
}

static inline uint16_t ozx_cursor_u16(struct ozx_cursor *c)
{
	const unsigned char *b = ozx_cursor_take(c, 2);

	return b ? (uint16_t)(b[0] | b[1] << 8) : 0;
}

static inline uint32_t ozx_cursor_u32(struct ozx_cursor *c)
{
	const unsigned char *b = ozx_cursor_take(c, 4);

	return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
			       (uint32_t)b[3] << 24 :
		   0;
}

static inline uint64_t ozx_cursor_u64(struct ozx_cursor *c)
{
	uint64_t lo = ozx_cursor_u32(c);

	return lo | (uint64_t)ozx_cursor_u32(c) << 32;
}

static inline void ozx_cursor_skip(struct ozx_cursor *c, size_t n)
{
	(void)ozx_cursor_take(c, n);
}

static inline uint32_t ozx_le32(const unsigned char *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

#endif
