/*
 * esc.h - a name made printable for a message, for the daemon and the ozx
 * tool alike (esc.c).
 */
#ifndef OZX_ESC_H
#define OZX_ESC_H

#include <stddef.h>

/*
 * name[0..len) made printable by ozx_escape() (each byte at most 4), in a
 * string of its own to free(); NULL when out of memory.
 */
char *esc_dup(const char *name, size_t len);

#endif /* OZX_ESC_H */
