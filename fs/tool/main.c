/*
 * main.c - the ozx command-line tool: pack a Zarr tree into an .ozx archive,
 * check an archive (CRC-32 of every entry and RFC-9 conformance), list its
 * entries.  main() only dispatches; each subcommand is in <name>.c.
 */
#include "config.h"

#include "tool.h"
#include "esc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
} commands[] = {
	{ "pack", cmd_pack, "pack a Zarr directory tree into an .ozx archive" },
	{ "check", cmd_check,
	  "verify every entry's CRC-32 and RFC-9 conformance" },
	{ "ls", cmd_ls, "list the entries of an archive" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ozx <command> [options] [arguments]\n"
		   "       ozx <command> --help\n"
		   "       ozx --version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-6s  %s\n", commands[i].name, commands[i].what);
	fprintf(f, "\nSee ozx(1).\n");
}

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "ozx: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void tool_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void tool_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void tool_open_err(const char *path, int err, const struct ozx_diag *diag)
{
	char *e = tool_shown(path);

	if ((err == -EINVAL || err == -EFBIG) && diag->what)
		tool_err("'%s' is not a usable archive: %s (at offset %" PRIu64
			 ")",
			 e, diag->what, diag->off);
	else
		tool_err("cannot open '%s': %s", e, strerror(-err));
	tool_esc_free(e);
}

static char esc_nomem[] = "?";

char *tool_esc(const char *name, size_t len)
{
	char *e = esc_dup(name, len);

	return e ? e : esc_nomem;
}

void tool_esc_free(char *e)
{
	if (e != esc_nomem)
		free(e);
}

double tool_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tool_progress_init(struct tool_progress *p, bool quiet)
{
	p->on = !quiet && isatty(STDERR_FILENO);
	p->shown = false;
	p->start = tool_now();
	/* Work done in under half a second shows no progress at all. */
	p->next = p->start + 0.5;
}

void tool_progress(struct tool_progress *p, const char *fmt, ...)
{
	va_list ap;
	double now;

	if (!p->on)
		return;
	now = tool_now();
	if (now < p->next)
		return;
	p->next = now + 0.1;
	p->shown = true;
	fputs("\r", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\033[K", stderr);
	fflush(stderr);
}

void tool_progress_end(struct tool_progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = false;
}

const char *tool_bytes(uint64_t n, char *buf, size_t size)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, size, "%" PRIu64 " bytes", n);
		return buf;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", v, unit[u]);
	return buf;
}

int main(int argc, char **argv)
{
	const char *cmd;
	int ret = -1;

	if (argc < 2) {
		usage(stderr);
		return TOOL_EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help")) {
		if (argc > 2 && strcmp(cmd, "help") == 0) {
			char *av[] = { argv[2], "--help", NULL };

			for (size_t i = 0;
			     i < sizeof(commands) / sizeof(commands[0]); i++)
				if (!strcmp(argv[2], commands[i].name))
					return commands[i].fn(2, av);
		}
		usage(stdout);
		return TOOL_EXIT_OK;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("ozx (ozxfs) %s\n", PACKAGE_VERSION);
		return TOOL_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(cmd, commands[i].name)) {
			ret = commands[i].fn(argc - 1, argv + 1);
			break;
		}
	}
	if (ret < 0) {
		tool_err("'%s' is not an ozx command (see 'ozx --help')", cmd);
		return TOOL_EXIT_USAGE;
	}
	/* A full disk or a closed pipe must not pass for success. */
	if (fflush(stdout) || ferror(stdout)) {
		tool_err("cannot write the output: %s", strerror(errno));
		if (ret == TOOL_EXIT_OK)
			ret = TOOL_EXIT_FAIL;
	}
	return ret;
}
