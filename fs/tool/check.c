/*
 * check.c - ozx check: verify the CRC-32 of every entry and report the
 * archive's RFC-9 conformance (core/rfc9.c), like zipfile.testzip() but
 * with every entry named, in parallel and in bounded memory.
 *
 * Verification runs on N threads, N the CPUs this process may use (its
 * affinity and cgroup quota, as the daemon counts them).  Each thread
 * reads through a descriptor of its own (ozx_archive_reopen, so the
 * kernel's readahead follows each thread), and takes the central directory
 * in batches of consecutive records: archives store entries in directory
 * order, so every thread reads its stretch of the file front to back.
 * ozx_file_verify() streams an entry through the CRC with a fixed buffer,
 * so memory is the index plus a few hundred KiB per thread, whatever the
 * entries' sizes.  Results are collected afterwards in directory order, so
 * the report does not depend on the scheduling.
 *
 * Exit status: 0 clean, 1 warnings only, 2 errors (a corrupt entry, a MUST
 * of RFC-9, or not a usable ZIP archive at all), 3 the check could not be
 * done (usage, the file cannot be opened or read, out of memory).
 */
#include "config.h"

#include "tool.h"
#include "cpus.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rfc9.h"

enum {
	CHECK_CLEAN = 0,
	CHECK_WARNINGS = 1,
	CHECK_ERRORS = 2,
	CHECK_TROUBLE = 3,
};

#define BATCH 16u
#define MAX_JOBS 256u

static const char check_usage[] =
	"usage: ozx check [--json] [--no-crc] [--jobs N] [--anonymous] FILE.ozx|URL\n"
	"\n"
	"Verify the CRC-32 of every entry and report RFC-9 conformance:\n"
	"errors (corrupt entries, RFC-9 MUST) and warnings (RFC-9 SHOULD).\n"
	"\n"
	"  --json       one JSON object on stdout instead of text\n"
	"  --no-crc     check the structure only, do not read the entries\n"
	"  -j, --jobs N verify on N threads (default: the CPUs available)\n"
	"  -q, --quiet  no progress line\n"
	"  --anonymous  an s3:// URL: read a public object without signing\n"
	"  -h, --help   show this help\n"
	"\n"
	"Exit status: 0 clean, 1 warnings only, 2 errors, 3 could not check.\n";

struct check {
	struct ozx_archive *a;
	struct ozx_remote *remote; /* the io of a URL, else NULL */
	uint32_t nnodes;
	_Atomic uint32_t next;	 /* the next batch starts at this node */
	_Atomic uint32_t nfiles; /* files checked so far (progress) */
	_Atomic int err;	 /* -ENOMEM if verification ran out */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned running;
};

static void *verify_thread(void *arg)
{
	struct check *c = arg;
	struct ozx_io io = *ozx_archive_io(c->a);
	int fd = ozx_archive_reopen(c->a);

	if (fd >= 0)
		io = ozx_io_fd(fd);
	for (;;) {
		uint32_t start = atomic_fetch_add(&c->next, BATCH);

		if (start >= c->nnodes)
			break;
		for (uint32_t node = start;
		     node < c->nnodes && node - start < BATCH; node++) {
			struct ozx_stat st;
			int ret;

			if (ozx_node_stat(c->a, node, &st) ||
			    st.kind != OZX_KIND_FILE)
				continue;
			ret = ozx_file_verify(c->a, node, &io);
			if (ret == -ENOMEM)
				atomic_store(&c->err, ret);
			atomic_fetch_add(&c->nfiles, 1);
		}
	}
	if (fd >= 0)
		close(fd);
	pthread_mutex_lock(&c->lock);
	c->running--;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Verify every file on jobs threads.  Returns 0 or -errno. */
static int verify_all(struct check *c, unsigned jobs, bool quiet,
		      const char *esc)
{
	const struct ozx_info *info = ozx_archive_info(c->a);
	struct tool_progress prog;
	pthread_t *t;
	unsigned started = 0;
	int ret = 0;

	c->nnodes = info->nnodes;
	atomic_init(&c->next, 1);
	if (jobs > info->nfiles)
		jobs = info->nfiles ? info->nfiles : 1;
	t = calloc(jobs, sizeof(*t));
	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	tool_progress_init(&prog, quiet);
	pthread_mutex_lock(&c->lock);
	for (; started < jobs; started++) {
		ret = -pthread_create(&t[started], NULL, verify_thread, c);
		if (ret)
			break;
		c->running++;
	}
	while (c->running) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000 * 1000;
		if (until.tv_nsec >= 1000 * 1000 * 1000) {
			until.tv_sec++;
			until.tv_nsec -= 1000 * 1000 * 1000;
		}
		pthread_cond_timedwait(&c->cond, &c->lock, &until);
		tool_progress(&prog,
			      "checking '%s': %" PRIu32 " of %" PRIu32
			      " entries",
			      esc, atomic_load(&c->nfiles), info->nfiles);
	}
	pthread_mutex_unlock(&c->lock);
	for (unsigned i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	tool_progress_end(&prog);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(t);
	/* No thread at all would leave the entries unchecked. */
	if (started == 0)
		return ret;
	return atomic_load(&c->err);
}

/* "'PATH': WHY" about node, at level (buf: room for a path). */
static int entry_finding(struct check *c, struct ozx_rfc9 *r,
			 enum ozx_rfc9_level level, uint32_t node, char *buf,
			 const char *why)
{
	ssize_t n = ozx_node_path(c->a, node, buf, OZX_MAX_PATH + 1);
	char *e = tool_esc(buf, n < 0 ? 0 : (size_t)n);
	int ret = ozx_rfc9_add(r, level, "entry", NULL, "'%s': %s", e, why);

	tool_esc_free(e);
	return ret;
}

/* What the open tolerated in the archive, as warnings. */
static int archive_findings(struct ozx_archive *a, struct ozx_rfc9 *r)
{
	const struct ozx_info *info = ozx_archive_info(a);
	char line[512];
	int ret = 0;

	for (unsigned w = 1; (w & OZX_WARN_ALL) && !ret; w <<= 1) {
		if (info->warn & w)
			ret = ozx_rfc9_add(
				r, OZX_RFC9_WARNING, "zip", NULL, "%s",
				ozx_warn_describe(info, (enum ozx_warn)w, line,
						  sizeof(line)));
	}
	return ret;
}

/*
 * The entries that failed, as findings named in directory order: corrupt
 * ones, and (not verified, not failed: the archive read failed) unreadable
 * ones, which make the check one that could not be done; and, as
 * warnings, the entries served with a tolerance (ozx_file_warning).
 * *vbytes: the stored bytes of the files verified, and of no other.
 */
static int entry_findings(struct check *c, struct ozx_rfc9 *r,
			  unsigned *ncorrupt, unsigned *nunread,
			  uint64_t *vbytes)
{
	char *buf = malloc(OZX_MAX_PATH + 1);
	int ret = 0;

	*ncorrupt = *nunread = 0;
	*vbytes = 0;
	if (!buf)
		return -ENOMEM;
	for (uint32_t node = 1; node < c->nnodes && !ret; node++) {
		enum ozx_reason f = ozx_file_fail(c->a, node), warn;
		const char *why = f ? ozx_reason_text(f) : NULL;
		struct ozx_stat st;
		bool unread = false, file;

		file = ozx_node_stat(c->a, node, &st) == 0 &&
		       st.kind == OZX_KIND_FILE;
		if (!f && file && st.crc_state == OZX_CRC_VERIFIED) {
			*vbytes += st.comp_size;
			warn = ozx_file_tolerated(c->a, node);
			if (warn)
				ret = entry_finding(c, r, OZX_RFC9_WARNING,
						    node, buf,
						    ozx_reason_text(warn));
			continue;
		}
		if (!f && file) {
			why = "cannot be read: archive read failed or came up "
			      "short";
			unread = true;
		}
		if (!why)
			continue;
		ret = entry_finding(c, r, OZX_RFC9_ERROR, node, buf, why);
		if (unread)
			(*nunread)++;
		else
			(*ncorrupt)++;
	}
	free(buf);
	return ret;
}

/* s as a JSON string (s is printable UTF-8 already: ozx_escape'd). */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static const char *level_name(enum ozx_rfc9_level l)
{
	return l == OZX_RFC9_ERROR ? "error" : "warning";
}

struct totals {
	const char *file; /* printable */
	uint32_t nrecords, nfiles, verified;
	unsigned ncorrupt, nunread;
	uint64_t bytes; /* stored bytes of the files verified */
	bool crc;	/* the entries were verified */
	int status;
};

static void report_text(const struct ozx_rfc9 *r, const struct totals *t)
{
	char b[32];

	for (int pass = OZX_RFC9_ERROR; pass >= OZX_RFC9_WARNING; pass--) {
		for (size_t i = 0; i < r->n; i++) {
			const struct ozx_rfc9_finding *f = &r->f[i];

			if ((int)f->level != pass)
				continue;
			printf("%s: %s [%s%s%s]\n", level_name(f->level),
			       f->msg, f->rule, f->req ? ", RFC-9 " : "",
			       f->req ? f->req : "");
		}
	}
	printf("'%s': ", t->file);
	if (t->status == CHECK_CLEAN)
		printf("ok");
	else
		printf("%u error%s, %u warning%s", r->nerrors,
		       r->nerrors == 1 ? "" : "s", r->nwarnings,
		       r->nwarnings == 1 ? "" : "s");
	if (t->nrecords || t->nfiles) {
		printf("; %" PRIu32 " entries", t->nrecords);
		if (!t->crc)
			printf(", CRC-32 not checked");
		else
			printf(", %" PRIu32 " files verified (%s)", t->verified,
			       tool_bytes(t->bytes, b, sizeof(b)));
		if (t->ncorrupt)
			printf(", %u corrupt", t->ncorrupt);
		if (t->nunread)
			printf(", %u unreadable", t->nunread);
	}
	putchar('\n');
}

static void report_json(const struct ozx_rfc9 *r, const struct totals *t)
{
	char summary[1024];

	ozx_rfc9_summary(r, summary, sizeof(summary));
	printf("{\"file\":");
	json_str(t->file);
	printf(",\"status\":%d,\"errors\":%u,\"warnings\":%u,\"summary\":",
	       t->status, r->nerrors, r->nwarnings);
	json_str(summary);
	printf(",\"entries\":%" PRIu32 ",\"files\":%" PRIu32
	       ",\"crc_checked\":%s,\"verified\":%" PRIu32
	       ",\"corrupt\":%u,\"unreadable\":%u,\"bytes\":%" PRIu64
	       ",\"findings\":[",
	       t->nrecords, t->nfiles, t->crc ? "true" : "false", t->verified,
	       t->ncorrupt, t->nunread, t->bytes);
	for (size_t i = 0; i < r->n; i++) {
		const struct ozx_rfc9_finding *f = &r->f[i];

		printf("%s{\"level\":\"%s\",\"rule\":\"%s\",\"requirement\":",
		       i ? "," : "", level_name(f->level), f->rule);
		if (f->req)
			printf("\"%s\"", f->req);
		else
			printf("null");
		printf(",\"message\":");
		json_str(f->msg);
		putchar('}');
	}
	printf("]}\n");
}

static int parse_jobs(const char *s, unsigned *jobs)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > MAX_JOBS)
		return -EINVAL;
	*jobs = (unsigned)v;
	return 0;
}

/* What the command line asked for. */
struct check_opts {
	bool json, crc, quiet, anonymous;
	unsigned jobs; /* 0: the CPUs this process may use */
	const char *path;
};

/* The command line into o: -1 to go on, else the exit status (said). */
static int check_parse(int argc, char **argv, struct check_opts *o)
{
	enum { OPT_JSON = 256, OPT_NO_CRC, OPT_ANONYMOUS };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "no-crc", no_argument, NULL, OPT_NO_CRC },
		{ "anonymous", no_argument, NULL, OPT_ANONYMOUS },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:j:qh", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_NO_CRC:
			o->crc = false;
			break;
		case OPT_ANONYMOUS:
			o->anonymous = true;
			break;
		case 'j':
			if (parse_jobs(optarg, &o->jobs)) {
				tool_err(
					"check: --jobs wants 1 to %u, not '%s'",
					MAX_JOBS, optarg);
				return CHECK_TROUBLE;
			}
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			fputs(check_usage, stdout);
			return CHECK_CLEAN;
		case ':':
			tool_err("check: '%s' wants an argument (see 'ozx "
				 "check --help')",
				 argv[optind - 1]);
			return CHECK_TROUBLE;
		default:
			tool_err("check: unknown option '%s' (see 'ozx check "
				 "--help')",
				 argv[optind - 1]);
			return CHECK_TROUBLE;
		}
	}
	if (argc - optind != 1) {
		tool_err("check: %s (see 'ozx check --help')",
			 argc - optind ? "one archive at a time" :
					 "which archive?");
		return CHECK_TROUBLE;
	}
	o->path = argv[optind];
	return -1;
}

static int check_nomem(void)
{
	tool_err("check: out of memory");
	return CHECK_TROUBLE;
}

/*
 * Open the archive, verify its entries unless --no-crc, and collect the
 * findings into r and the counts into t.  An archive that is not a usable
 * ZIP is a finding too.  Returns 0 to report, or CHECK_TROUBLE (said).
 */
static int check_run(struct check *c, const struct check_opts *o,
		     const char *esc, struct ozx_rfc9 *r, struct totals *t)
{
	struct ozx_diag diag = { 0 };
	int ret;

	ret = tool_archive_open(o->path, o->anonymous, &c->a, &c->remote,
				&diag);
	if (ret == -EINVAL || ret == -EFBIG) {
		/* Not a ZIP this library can read: that is the finding. */
		bool split = diag.reason == OZX_R_MULTI_DISK;

		ret = ozx_rfc9_add(r, OZX_RFC9_ERROR,
				   split ? "single-part" : "zip",
				   split ? "SHALL NOT" : NULL,
				   "%s (at offset %" PRIu64 ")",
				   diag.what ? diag.what : strerror(-ret),
				   diag.off);
		return ret ? check_nomem() : 0;
	}
	if (ret) {
		if (ret < 0)
			tool_open_err(o->path, ret, &diag);
		return CHECK_TROUBLE;
	}
	if (o->crc) {
		ret = verify_all(c, o->jobs ? o->jobs : cpus_usable(MAX_JOBS),
				 o->quiet, esc);
		if (ret == -ENOMEM)
			return check_nomem();
		if (ret) {
			tool_err("check: cannot start threads: %s",
				 strerror(-ret));
			return CHECK_TROUBLE;
		}
	}
	/* The rules first (they start the report), then the entries. */
	ret = ozx_rfc9_check(c->a, c->remote ? esc : o->path, r);
	if (!ret)
		ret = archive_findings(c->a, r);
	if (!ret && o->crc) {
		ret = entry_findings(c, r, &t->ncorrupt, &t->nunread,
				     &t->bytes);
		t->verified =
			atomic_load(&c->nfiles) - t->ncorrupt - t->nunread;
	}
	if (ret)
		return check_nomem();
	t->nrecords = ozx_archive_info(c->a)->nrecords;
	t->nfiles = ozx_archive_info(c->a)->nfiles;
	return 0;
}

/* Print the report, text or JSON; returns the exit status. */
static int check_report(const struct ozx_rfc9 *r, struct totals *t, bool json)
{
	t->status = t->nunread	 ? CHECK_TROUBLE :
		    r->nerrors	 ? CHECK_ERRORS :
		    r->nwarnings ? CHECK_WARNINGS :
				   CHECK_CLEAN;
	if (json)
		report_json(r, t);
	else
		report_text(r, t);
	if (fflush(stdout) || ferror(stdout)) {
		tool_err("cannot write the report: %s", strerror(errno));
		return CHECK_TROUBLE;
	}
	return t->status;
}

int cmd_check(int argc, char **argv)
{
	struct check_opts o = { .crc = true };
	struct check c = { 0 };
	struct ozx_rfc9 r = { 0 };
	struct totals t = { 0 };
	char *esc;
	int ret;

	ret = check_parse(argc, argv, &o);
	if (ret >= 0)
		return ret;
	esc = tool_shown(o.path);
	t.file = esc;
	t.crc = o.crc;
	ret = check_run(&c, &o, esc, &r, &t);
	if (!ret)
		ret = check_report(&r, &t, o.json);
	ozx_rfc9_release(&r);
	tool_archive_close(c.a, c.remote);
	tool_esc_free(esc);
	return ret;
}
