/*
 * esc.c - a name made printable for a message (see esc.h).
 */
#include "config.h"

#include "esc.h"

#include <stdlib.h>

#include "ozx.h"

char *esc_dup(const char *name, size_t len)
{
	char *e = malloc(4 * len + 1);

	if (!e)
		return NULL;
	return ozx_escape(name, len, e, 4 * len + 1);
}
