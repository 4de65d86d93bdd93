/*
 * tool.h - what the parts of the ozx command-line tool share: the
 * subcommands (git's cmd_* convention), messages and a progress line.
 *
 * Messages go to stderr as "ozx: ..." (lower case, the subject in quotes,
 * no full stop); a command's output goes to stdout.
 */
#ifndef OZX_TOOL_H
#define OZX_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ozx.h"

/* Exit statuses (ozx(1)); ozx check has its own 0-3, see check.c. */
enum {
	TOOL_EXIT_OK = 0,
	TOOL_EXIT_FAIL = 1,
	TOOL_EXIT_USAGE = 64, /* EX_USAGE of sysexits.h */
};

int cmd_pack(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_ls(int argc, char **argv);

void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tool_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "'x' is not a usable archive: what (at offset N)" or "cannot open 'x':
 * strerror" for a failed ozx_archive_open() (x as tool_shown shows it). */
void tool_open_err(const char *path, int err, const struct ozx_diag *diag);

/*
 * Open the archive at arg, a path or a URL (open.c; anonymous: an s3://
 * URL read without signing); *r is the remote
 * io of a URL (NULL for a file), to free with the archive by
 * tool_archive_close.  Returns 0; -errno as ozx_archive_open() (nothing
 * said: tool_open_err says it, or the caller reports -EINVAL and -EFBIG
 * its own way); or TOOL_OPEN_SAID after saying why a URL failed.
 */
#define TOOL_OPEN_SAID 1
struct ozx_remote;
int tool_archive_open(const char *arg, bool anonymous, struct ozx_archive **a,
		      struct ozx_remote **r, struct ozx_diag *diag);
void tool_archive_close(struct ozx_archive *a, struct ozx_remote *r);
/* arg made printable for messages, a URL without its secrets (user info,
 * query string); free with tool_esc_free. */
char *tool_shown(const char *arg);

/* name[0..len) made printable (esc_dup); on ENOMEM a static
 * "?" (never NULL).  Free with tool_esc_free. */
char *tool_esc(const char *name, size_t len);
void tool_esc_free(char *e);

/* Seconds on the monotonic clock. */
double tool_now(void);

/*
 * A progress line on stderr, rewritten in place; only when stderr is a
 * terminal, only after the work has taken a moment, at most 10 times a
 * second, and wiped by tool_progress_end.
 */
struct tool_progress {
	bool on;
	bool shown;
	double start, next;
};
void tool_progress_init(struct tool_progress *p, bool quiet);
void tool_progress(struct tool_progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tool_progress_end(struct tool_progress *p);

/* Human-readable byte count ("12.3 MiB") into buf. */
const char *tool_bytes(uint64_t n, char *buf, size_t size);

#endif /* OZX_TOOL_H */
