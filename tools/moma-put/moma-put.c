/*
 * moma-put - read standard input to its end and store it as one S3 object.
 *
 * A reader thread fills a fixed pool of jobs + 1 part buffers from stdin
 * (pool.c); the main thread drives up to `jobs` UploadPart requests at
 * once through one libcurl multi handle (upload.c, xfer.c).  Input that
 * fits in one part goes as a single PutObject.  Until Complete is sent
 * any failure or signal aborts the multipart upload; once it is sent the
 * upload is never aborted, so the object at the key is always the old
 * one or the new one.
 *
 * Two-phase mode: --prepare STATE uploads every part and leaves the
 * upload open (state.c), --complete STATE or --abort STATE finishes it.
 * Bucket commands (bucket.c): --list-uploads, --abort-uploads, --head, --get.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "../cli.h"
#include "io.h"
#include "num.h"
#include "put.h"

enum cmd { C_STREAM, C_COMPLETE, C_ABORT, C_LIST, C_ABORT_UPLOADS, C_HEAD, C_GET,
    C_HELP, C_VERSION, C_FAILED };

static const char usage_text[] =
    "usage: moma-put [-kv] [-j jobs] [-p part-size] [-r retries] "
    "[--content-type type]\n"
    "                [--endpoint-url url] [--meta name=value] [--path-style] "
    "[--profile name]\n"
    "                [--region region] [--sse AES256|aws:kms] "
    "[--sse-kms-key-id id]\n"
    "                [--storage-class class] [--stats] [--stats-file file]\n"
    "                [--prepare state] s3://bucket/key\n"
    "       moma-put [-kv] [-r retries] [--stats] [--stats-file file]\n"
    "                --complete state | --abort state\n"
    "       moma-put [-kv] [-r retries] --list-uploads s3://bucket[/prefix]\n"
    "       moma-put [-kv] [-r retries] [--older-than duration] "
    "--abort-uploads s3://bucket[/prefix]\n"
    "       moma-put [-kv] [-r retries] --head s3://bucket/key\n"
    "       moma-put [-kv] [-r retries] --get s3://bucket/key\n";

static const char help_text[] =
    "Store standard input as one S3 object (see moma-put(1)).\n"
    "\n"
    "  -j, --jobs N            parts in flight at once (1-64, default 4)\n"
    "  -p, --part-size SIZE    first part size, 5M to 5G (default 8M); "
    "grows with the part count\n"
    "  -r, --retries N         retries per request (0-100, default 6)\n"
    "  -k, --insecure          do not verify the server's TLS certificate\n"
    "  -v, --verbose           progress and each retry on standard error\n"
    "      --content-type T    the object's Content-Type "
    "(application/octet-stream)\n"
    "      --endpoint-url URL  an S3-compatible endpoint (path-style)\n"
    "      --meta NAME=VALUE   x-amz-meta-NAME on the object (repeatable)\n"
    "      --path-style        path-style addressing on AWS too\n"
    "      --profile NAME      profile of the AWS shared files (credentials, "
    "region)\n"
    "      --region REGION     signing region\n"
    "      --sse ALG           server-side encryption: AES256, aws:kms or "
    "aws:kms:dsse\n"
    "      --sse-kms-key-id ID the KMS key of --sse aws:kms\n"
    "      --storage-class C   the object's storage class (STANDARD_IA, ...)\n"
    "      --stats             a summary line on standard error at exit\n"
    "      --stats-file FILE   the same as key=value lines in FILE at exit\n"
    "      --prepare STATE     upload every part, leave the upload open, "
    "describe it in STATE\n"
    "      --complete STATE    complete the upload STATE describes "
    "(the commit point)\n"
    "      --abort STATE       abort the upload STATE describes\n"
    "      --list-uploads URI  open multipart uploads under "
    "s3://bucket[/prefix]\n"
    "      --abort-uploads URI abort them (with --older-than, those older "
    "than DURATION)\n"
    "      --older-than D      a duration: N, Ns, Nm, Nh or Nd\n"
    "      --head URI          the object at s3://bucket/key: etag, size, "
    "metadata\n"
    "      --get URI           a small object's bytes (at most 1 MiB) on stdout\n"
    "  -h, --help              this help\n"
    "  -V, --version           the version\n";

/* A usage error: the message, then the usage text; -1. */
static int
usage_fail(struct put *p, const char *msg)
{
	p->fail.usage = 1;
	return msg ? report_fail(p, EX_USAGE, "%s", msg) : report_code(p, EX_USAGE);
}

/* "K", "M" or "G", alone or with "iB" or "B" after, in either case of the
 * letter: powers of 1024 (moma-put(1) -p). */
static const struct num_unit size_units[] = {
	{ "K", 1024 }, { "Ki", 1024 }, { "KB", 1024 }, { "KiB", 1024 },
	{ "k", 1024 }, { "ki", 1024 }, { "kB", 1024 }, { "kiB", 1024 },
	{ "M", MIB }, { "Mi", MIB }, { "MB", MIB }, { "MiB", MIB },
	{ "m", MIB }, { "mi", MIB }, { "mB", MIB }, { "miB", MIB },
	{ "G", GIB }, { "Gi", GIB }, { "GB", GIB }, { "GiB", GIB },
	{ "g", GIB }, { "gi", GIB }, { "gB", GIB }, { "giB", GIB },
	{ NULL, 0 },
};

static const struct num_unit duration_units[] = {
	{ "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 }, { NULL, 0 },
};

/* A number option, or a usage error: 0 with *v set, or -1 (recorded). */
static int
opt_num(struct put *p, const char *what, const char *s, const struct num_unit *units,
    uint64_t lo, uint64_t hi, uint64_t *v)
{
	char e[NUM_ERR_LEN];

	if ((units ? num_unit_arg(e, sizeof e, what, s, units, lo, hi, v) :
	    num_arg(e, sizeof e, what, s, 0, lo, hi, v)) == 0)
		return 0;
	return usage_fail(p, e);
}

/* --meta NAME=VALUE: names of [a-z0-9_-] (lower-cased), values of
 * printable ASCII, 2 KiB in all as S3 allows.  0, or -1 (recorded). */
static int
add_meta(struct put *p, const char *arg)
{
	static size_t total;
	struct put_opts *o = &p->opt;
	const char *eq = strchr(arg, '=');
	char *m;

	if (o->nmeta >= META_MAX)
		return report_fail(p, EX_USAGE, "--meta: at most %d", META_MAX);
	if (eq == NULL || eq == arg || eq - arg > 128)
		return report_fail(p, EX_USAGE, "--meta '%s': expected NAME=VALUE", arg);
	if ((m = strdup(arg)) == NULL)
		return report_fail(p, EX_OSERR, "out of memory");
	o->meta[o->nmeta++] = m;	/* kept: the options live to the end */
	for (char *c = m; c < m + (eq - arg); c++) {
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		    *c == '-' || *c == '_'))
			return report_fail(p, EX_USAGE, "--meta '%s': a name is letters, "
			    "digits, '-' and '_'", arg);
	}
	for (const char *c = eq + 1; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return report_fail(p, EX_USAGE, "--meta '%s': a value is printable "
			    "ASCII", arg);
	if ((total += strlen(arg) - 1) > 2048)
		return report_fail(p, EX_USAGE, "--meta: more than 2 KiB of metadata");
	return 0;
}

/* After the options: one command, its operand, and the options that go
 * with it.  cmd, or C_FAILED with p->fail recorded. */
static enum cmd
check_args(struct put *p, enum cmd cmd, int ncmd, int argc, char *argv[],
    const char **uri)
{
	const struct put_opts *o = &p->opt;

	if (ncmd > 1 || (ncmd && (argc != 0 || o->prepare)) || (!ncmd && argc != 1))
		return usage_fail(p, NULL), C_FAILED;
	if (o->older_than >= 0 && cmd != C_ABORT_UPLOADS)
		return usage_fail(p, "--older-than goes with --abort-uploads"), C_FAILED;
	if (o->nmeta && cmd != C_STREAM)
		return usage_fail(p, "--meta goes with an upload"), C_FAILED;
	if (cmd == C_STREAM)
		*uri = argv[0];
	return cmd;
}

/* getopt_long over argv into p->opt; returns the command, or C_FAILED
 * with p->fail recorded. */
static enum cmd
parse_args(struct put *p, int argc, char *argv[], const char **uri)
{
	enum { O_CONTENT_TYPE = 256, O_ENDPOINT, O_PROFILE, O_REGION, O_STATS,
	    O_STATS_FILE, O_VERSION, O_PREPARE, O_COMPLETE, O_ABORT, O_META, O_LIST,
	    O_ABORT_UPLOADS, O_OLDER, O_HEAD, O_GET, O_PATH_STYLE, O_SSE,
	    O_SSE_KMS_KEY_ID, O_STORAGE_CLASS };
	static const struct option longopts[] = {
		{ "abort", required_argument, NULL, O_ABORT },
		{ "abort-uploads", required_argument, NULL, O_ABORT_UPLOADS },
		{ "complete", required_argument, NULL, O_COMPLETE },
		{ "content-type", required_argument, NULL, O_CONTENT_TYPE },
		{ "endpoint-url", required_argument, NULL, O_ENDPOINT },
		{ "get", required_argument, NULL, O_GET },
		{ "head", required_argument, NULL, O_HEAD },
		{ "help", no_argument, NULL, 'h' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "list-uploads", required_argument, NULL, O_LIST },
		{ "meta", required_argument, NULL, O_META },
		{ "no-verify-ssl", no_argument, NULL, 'k' },
		{ "older-than", required_argument, NULL, O_OLDER },
		{ "part-size", required_argument, NULL, 'p' },
		{ "path-style", no_argument, NULL, O_PATH_STYLE },
		{ "prepare", required_argument, NULL, O_PREPARE },
		{ "profile", required_argument, NULL, O_PROFILE },
		{ "region", required_argument, NULL, O_REGION },
		{ "retries", required_argument, NULL, 'r' },
		{ "sse", required_argument, NULL, O_SSE },
		{ "sse-kms-key-id", required_argument, NULL, O_SSE_KMS_KEY_ID },
		{ "stats", no_argument, NULL, O_STATS },
		{ "stats-file", required_argument, NULL, O_STATS_FILE },
		{ "storage-class", required_argument, NULL, O_STORAGE_CLASS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct put_opts *o = &p->opt;
	enum cmd cmd = C_STREAM;
	int c, ncmd = 0;
	uint64_t v;

	while (!p->fail.code &&
	    (c = getopt_long(argc, argv, "hj:kp:r:vV", longopts, NULL)) != -1) {
		switch (c) {
		case O_ABORT: o->abort = optarg; cmd = C_ABORT; ncmd++; break;
		case O_ABORT_UPLOADS: *uri = optarg; cmd = C_ABORT_UPLOADS; ncmd++; break;
		case O_COMPLETE: o->complete = optarg; cmd = C_COMPLETE; ncmd++; break;
		case O_CONTENT_TYPE: o->content_type = optarg; break;
		case O_ENDPOINT: o->endpoint = optarg; break;
		case O_HEAD: *uri = optarg; cmd = C_HEAD; ncmd++; break;
		case O_GET: *uri = optarg; cmd = C_GET; ncmd++; break;
		case 'h': return C_HELP;
		case 'j':
			if (opt_num(p, "-j", optarg, NULL, 1, 64, &v) == 0)
				o->jobs = (int)v;
			break;
		case 'k': o->insecure = 1; break;
		case O_LIST: *uri = optarg; cmd = C_LIST; ncmd++; break;
		case O_META: add_meta(p, optarg); break;
		case O_OLDER:
			if (opt_num(p, "--older-than", optarg, duration_units, 0,
			    100ull * 365 * 86400, &v) == 0)
				o->older_than = (long)v;
			break;
		case 'p':
			opt_num(p, "-p", optarg, size_units, PART_MIN, PART_MAX,
			    &o->part_size);
			break;
		case O_PATH_STYLE: o->path_style = 1; break;
		case O_PREPARE: o->prepare = optarg; break;
		case O_PROFILE: o->profile = optarg; break;
		case O_REGION: o->region = optarg; break;
		case 'r':
			if (opt_num(p, "-r", optarg, NULL, 0, 100, &v) == 0)
				o->retries = (int)v;
			break;
		case O_SSE: o->sse = optarg; break;
		case O_SSE_KMS_KEY_ID: o->sse_kms_key_id = optarg; break;
		case O_STATS: o->stats = 1; break;
		case O_STATS_FILE: o->stats_path = optarg; break;
		case O_STORAGE_CLASS: o->storage_class = optarg; break;
		case 'v': o->verbose = 1; break;
		case 'V':
		case O_VERSION: return C_VERSION;
		default: usage_fail(p, NULL);
		}
	}
	if (p->fail.code)
		return C_FAILED;
	return check_args(p, cmd, ncmd, argc - optind, argv + optind, uri);
}

/* Statistics, the configuration, the signals.  0, or -1 (recorded). */
static int
setup(struct put *p)
{
	char errbuf[S3_ERR_LEN];
	const char *e;
	uint64_t v;

	/* The clock starts first, so that the stats file also tells of a
	 * run that ends in its configuration (credentials, region). */
	stats_init(&p->st);
	if (p->opt.stats_path && stats_file_arm(p->opt.stats_path, report_pairs, p,
	    errbuf) != 0)
		return report_fail(p, EX_CANTCREAT, "--stats-file %s", errbuf);
	/* For tests only: a lower part limit makes part-size growth visible
	 * with megabytes instead of terabytes. */
	if ((e = getenv("MOMA_PUT_MAX_PARTS")) != NULL && *e) {
		if (opt_num(p, "MOMA_PUT_MAX_PARTS", e, NULL, 1, PARTS_MAX, &v) != 0)
			return -1;
		p->opt.max_parts = (unsigned)v;
	}
	/* Before the configuration: the credential chain may ask STS, a
	 * container agent or the instance metadata service. */
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		return report_fail(p, EX_SOFTWARE, "curl_global_init failed");
	if (s3_conf_load(&p->conf, p->opt.profile, p->opt.region, p->opt.endpoint,
	    errbuf, sizeof errbuf) != 0)
		return report_fail(p, EX_CONFIG, "%s", errbuf);
	if (s3_conf_object(&p->conf, p->opt.sse, p->opt.sse_kms_key_id,
	    p->opt.storage_class, p->opt.path_style, errbuf, sizeof errbuf) != 0)
		return usage_fail(p, errbuf);
	if (p->opt.verbose)
		warnx("credentials: %s", p->conf.creds.desc);
	p->conf.insecure = p->opt.insecure;
	if (p->opt.content_type != NULL)
		p->conf.content_type = p->opt.content_type;
	srand48((long)(stats_now_ns() ^ (uint64_t)getpid() << 16));

	if ((p->sigfd = sig_install()) < 0)
		return report_fail(p, EX_OSERR, "pipe: %s", strerror(errno));
	return 0;
}

/* --complete STATE: 0 only when the object at the key is the new one. */
static int
cmd_complete(struct put *p)
{
	p->keep_upload = 1;	/* a state file's upload: --abort only */
	switch (state_read(p, p->opt.complete)) {
	case -1:
		return -1;
	case PH_READY:
		break;
	default:
		return report_fail(p, EX_DATAERR, "%s: the upload was not finished (its "
		    "--prepare did not end): only --abort can take it", p->opt.complete);
	}
	if (sig_caught)
		return report_code(p, -1);
	if (upload_complete(p) == 0 && !sig_caught) {
		if (unlink(p->opt.complete) != 0)
			warn("%s", p->opt.complete);
		return 0;
	}
	return report_fail(p, -1, "%s: kept: run moma-put --complete %s again (or "
	    "--abort it)", p->opt.complete, p->opt.complete);
}

/* --abort STATE: 0, or -1 (recorded; 69 if the upload stays). */
static int
cmd_abort(struct put *p)
{
	int phase, r;

	p->keep_upload = 1;	/* aborted below, on purpose, or kept */
	if ((phase = state_read(p, p->opt.abort)) < 0)
		return -1;
	if (phase == PH_CREATING) {
		/* Killed before Create answered: any upload of the key since
		 * the run started is its.  A Create sent just before the kill
		 * may still be running on the server, and its upload appear
		 * after the listing: until ABORT_GRACE seconds after the run
		 * started, list again once they have passed. */
		r = bucket_abort_since(p, p->created);
		time_t left = p->created + ABORT_GRACE - time(NULL);
		if (r == 0 && left > 0 && left <= ABORT_GRACE) {
			if (p->opt.verbose)
				warnx("%s: listing again in %lld s, for a Create that may "
				    "still be in flight", p->target.name, (long long)left);
			sleep((unsigned)left);
			r = bucket_abort_since(p, p->created);
		}
	} else
		r = abort_upload(p, p->upload_id) != 0;
	if (r < 0)
		return -1;
	if (r > 0)
		return report_code(p, EX_UNAVAILABLE);	/* said already */
	if (unlink(p->opt.abort) != 0)
		warn("%s", p->opt.abort);
	return 0;
}

static int
cmd_stream(struct put *p, const char *uri)
{
	char errbuf[S3_ERR_LEN];

	if (s3_target_parse(uri, &p->conf, &p->target, errbuf, sizeof errbuf) != 0)
		return usage_fail(p, errbuf);
	if (p->opt.prepare) {
		p->created = time(NULL);
		if (state_open(p, p->opt.prepare) != 0 ||
		    state_write(p, p->opt.prepare, PH_CREATING) != 0)
			return -1;
	}
	if (upload_stream(p) != 0)
		return -1;
	return sig_caught ? report_code(p, -1) : 0;
}

static int
run(struct put *p, enum cmd cmd, const char *uri)
{
	switch (cmd) {
	case C_STREAM: return cmd_stream(p, uri);
	case C_COMPLETE: return cmd_complete(p);
	case C_ABORT: return cmd_abort(p);
	case C_LIST: return bucket_list(p, uri, 0);
	case C_ABORT_UPLOADS: return bucket_list(p, uri, 1);
	case C_HEAD: return bucket_head(p, uri);
	case C_GET: return bucket_get(p, uri);
	default: return -1;
	}
}

/*
 * The one way out.  A failure (p->fail) was recorded where it happened
 * and returned up to here: say it, abort the upload the run opened and
 * did not keep, give the statistics, and exit with its code; a signal
 * that arrived is re-raised instead (the --stats-file says 128+N, as a
 * shell would).  Out of memory is 71 wherever it happened.
 */
int
main(int argc, char *argv[])
{
	static struct put put = {
		.opt = { .jobs = 4, .retries = 6, .part_size = 8 * MIB,
		    .max_parts = PARTS_MAX, .older_than = -1,
		    .content_type = "application/octet-stream" },
		.state_fd = -1,
	};
	struct put *p = &put;
	const char *uri = NULL;
	enum cmd cmd = parse_args(p, argc, argv, &uri);
	char errbuf[STATS_ERR_LEN];
	int ran = 0, code, signalled;

	if (cmd == C_HELP || cmd == C_VERSION) {
		if (cmd == C_HELP)
			printf("%s%s", usage_text, help_text);
		else
			printf("moma-put " MOMA_VERSION "\n");
		cli_help_exit();
	}
	if (cmd != C_FAILED && setup(p) == 0) {
		ran = 1;
		run(p, cmd, uri);
	}
	code = p->fail.code;
	/* A signal counts when the run failed (a late one after a success
	 * does not). */
	signalled = code < 0 || (code != 0 && sig_caught);
	report_progress_end(p);
	for (int i = 0; i < p->fail.nlines; i++)
		warnx("%s", p->fail.line[i]);
	if (p->fail.usage)
		fputs(usage_text, stderr);
	if (ran && code != 0)
		abort_open(p);
	if (ran && !p->fail.usage)
		report_stats(p);
	if (signalled) {
		int sig = sig_caught ? (int)sig_caught : SIGTERM;

		if (stats_file_write(128 + sig, errbuf) != 0)
			warnx("--stats-file %s", errbuf);
		signal(sig, SIG_DFL);
		raise(sig);
		exit(128 + sig);
	}
	if (code == 0) {
		free(p->parts);
		free(p->upload_id);
		s3_target_free(&p->target);
		s3_conf_free(&p->conf);
		curl_global_cleanup();
		if (fflush(stdout) != 0 || ferror(stdout)) {
			warn("stdout");
			code = EX_IOERR;
		}
	}
	if (stats_file_write(code, errbuf) != 0) {
		warnx("--stats-file %s", errbuf);
		if (code == 0)
			code = EX_CANTCREAT;
	}
	return code;
}
