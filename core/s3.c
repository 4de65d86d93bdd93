/*
 * s3.c - what s3://bucket/key means: the object's URL (virtual-hosted on
 * AWS, path-style on a custom AWS_ENDPOINT_URL), and the credentials that
 * sign requests with Signature V4 (libcurl's CURLOPT_AWS_SIGV4): from
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or else
 * from the profile AWS_PROFILE (default "default") of the shared
 * credentials file (AWS_SHARED_CREDENTIALS_FILE, default
 * ~/.aws/credentials).  Region: AWS_REGION, AWS_DEFAULT_REGION, or
 * us-east-1.  Credentials never reach a message: errors name the
 * variable or the file, not a value.
 */
#include "config.h"

#include "remote_i.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Larger credentials files are refused rather than read. */
#define CREDS_FILE_MAX ((size_t)1 << 20)
#define CRED_MAX 1024

static void set_err(struct ozx_remote_err *err, const char *msg)
{
	if (err)
		snprintf(err->msg, sizeof(err->msg), "%s", msg);
}

/* Wipe a secret before its memory goes back. */
static void wipe_free(char *s)
{
	if (!s)
		return;
	for (volatile char *p = s; *p; p++)
		*p = 0;
	free(s);
}

char *ozx_s3_encode_key(const char *key)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(key);
	char *out = malloc(3 * n + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

/* Bucket names as S3 allows them (3-63 of [a-z0-9.-]); also what keeps a
 * hostile name out of the host part. */
static bool good_bucket(const char *b, size_t n)
{
	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') ||
		      (b[i] >= '0' && b[i] <= '9') || b[i] == '.' ||
		      b[i] == '-'))
			return false;
	return true;
}

/* A region such as eu-west-1: [a-z0-9-], 1-32 bytes. */
static bool good_region(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* Printable ASCII, no blank: what a key ID, secret or token holds. */
static bool good_cred(const char *s, bool colon_ok)
{
	if (!*s || strlen(s) >= CRED_MAX)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f || (*s == ':' && !colon_ok))
			return false;
	return true;
}

/* The shared credentials file, read whole (bounded); NULL if absent. */
static char *read_creds_file(const char *path, size_t *len, int *ret)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	*ret = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*ret = errno == ENOENT ? -ENOENT : -EACCES;
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > CREDS_FILE_MAX) {
		close(fd);
		*ret = -EINVAL;
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		*ret = -ENOMEM;
		return NULL;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		free(buf);
		*ret = -EIO;
		return NULL;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* Key ID, secret and token from the profile into id, secret, token
 * (CRED_MAX bytes each; token "" if none). */
static int profile_creds(char *id, char *secret, char *token,
			 struct ozx_remote_err *err)
{
	const char *profile = getenv("AWS_PROFILE");
	const char *file = getenv("AWS_SHARED_CREDENTIALS_FILE");
	const char *home = getenv("HOME");
	char path[4096], *text;
	size_t len = 0;
	int ret;

	if (!profile || !*profile)
		profile = "default";
	if (file && *file)
		snprintf(path, sizeof(path), "%s", file);
	else if (home && *home)
		snprintf(path, sizeof(path), "%s/.aws/credentials", home);
	else
		path[0] = '\0';
	text = path[0] ? read_creds_file(path, &len, &ret) : NULL;
	if (!text) {
		if (path[0] && ret != -ENOENT) {
			set_err(err, "the AWS credentials file cannot be read "
				     "(or is not a regular file under 1 MiB)");
			return -EINVAL;
		}
		set_err(err, "no credentials: set AWS_ACCESS_KEY_ID and "
			     "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with "
			     "~/.aws/credentials; for a public object, -o "
			     "anonymous (ozx: --anonymous)");
		return -EINVAL;
	}
	ret = ozx_ini_get(text, len, profile, "aws_access_key_id", id,
			  CRED_MAX);
	if (ret == 0)
		ret = ozx_ini_get(text, len, profile, "aws_secret_access_key",
				  secret, CRED_MAX);
	if (ret == 0 && ozx_ini_get(text, len, profile, "aws_session_token",
				    token, CRED_MAX))
		token[0] = '\0';
	for (char *p = text; *p; p++)
		*p = 0;
	free(text);
	if (ret) {
		set_err(err, ret == -ENOENT ?
				     "the AWS profile has no aws_access_key_id "
				     "and aws_secret_access_key (or no such "
				     "profile)" :
				     "the AWS credentials file has an unusable "
				     "line or value");
		return -EINVAL;
	}
	return 0;
}

static int make_url(struct ozx_s3 *s, const char *bucket, size_t blen,
		    const char *key, const char *region,
		    struct ozx_remote_err *err)
{
	const char *ep = getenv("AWS_ENDPOINT_URL");
	char *ekey = ozx_s3_encode_key(key);
	size_t n;
	int w;

	if (!ekey)
		return -ENOMEM;
	if (ep && *ep) {
		n = strlen(ep);
		while (n > 0 && ep[n - 1] == '/')
			n--;
		if ((strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)) ||
		    memchr(ep, '?', n) || memchr(ep, '#', n)) {
			free(ekey);
			set_err(err, "AWS_ENDPOINT_URL must be an http:// or "
				     "https:// URL without a query");
			return -EINVAL;
		}
		/* A custom endpoint: path-style, the bucket in the path. */
		w = asprintf(&s->url, "%.*s/%.*s/%s", (int)n, ep, (int)blen,
			     bucket, ekey);
	} else if (memchr(bucket, '.', blen)) {
		/* Dots break the TLS wildcard of virtual-hosted names. */
		w = asprintf(&s->url, "https://s3.%s.amazonaws.com/%.*s/%s",
			     region, (int)blen, bucket, ekey);
	} else {
		w = asprintf(&s->url, "https://%.*s.s3.%s.amazonaws.com/%s",
			     (int)blen, bucket, region, ekey);
	}
	free(ekey);
	if (w < 0) {
		s->url = NULL;
		return -ENOMEM;
	}
	return 0;
}

int ozx_s3_resolve(const char *url, bool anonymous, struct ozx_s3 *s,
		   struct ozx_remote_err *err)
{
	const char *bucket = url + 5, *slash = strchr(bucket, '/');
	const char *region = getenv("AWS_REGION");
	const char *env_id = getenv("AWS_ACCESS_KEY_ID");
	const char *env_secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *env_token = getenv("AWS_SESSION_TOKEN");
	char *id = NULL, *secret = NULL, *token = NULL;
	int ret;

	memset(s, 0, sizeof(s[0]));
	if (!region || !*region)
		region = getenv("AWS_DEFAULT_REGION");
	if (!region || !*region)
		region = "us-east-1";
	if (!good_region(region)) {
		set_err(err, "AWS_REGION is not a region name");
		return -EINVAL;
	}
	if (!slash || !slash[1] ||
	    !good_bucket(bucket, (size_t)(slash - bucket))) {
		set_err(err, "not an s3://BUCKET/KEY URL with a valid bucket "
			     "name");
		return -EINVAL;
	}
	ret = make_url(s, bucket, (size_t)(slash - bucket), slash + 1, region,
		       err);
	if (ret)
		return ret;
	if (anonymous)
		return 0;

	id = calloc(1, CRED_MAX);
	secret = calloc(1, CRED_MAX);
	token = calloc(1, CRED_MAX);
	ret = -ENOMEM;
	if (!id || !secret || !token)
		goto out_release;
	if (env_id && *env_id && env_secret && *env_secret) {
		ret = -EINVAL;
		if (strlen(env_id) >= CRED_MAX ||
		    strlen(env_secret) >= CRED_MAX ||
		    (env_token && strlen(env_token) >= CRED_MAX)) {
			set_err(err, "AWS credentials in the environment are "
				     "too long");
			goto out_release;
		}
		strcpy(id, env_id);
		strcpy(secret, env_secret);
		if (env_token)
			strcpy(token, env_token);
	} else {
		ret = profile_creds(id, secret, token, err);
		if (ret)
			goto out_release;
	}
	ret = -EINVAL;
	/* curl splits USERPWD at the first colon: none in the key ID. */
	if (!good_cred(id, false) || !good_cred(secret, true) ||
	    (token[0] && !good_cred(token, true))) {
		set_err(err, "AWS credentials hold a character they cannot "
			     "hold (blank, control, or ':' in the key ID)");
		goto out_release;
	}
	ret = -ENOMEM;
	if (asprintf(&s->sigv4, "aws:amz:%s:s3", region) < 0) {
		s->sigv4 = NULL;
		goto out_release;
	}
	if (asprintf(&s->userpwd, "%s:%s", id, secret) < 0) {
		s->userpwd = NULL;
		goto out_release;
	}
	if (token[0] &&
	    asprintf(&s->token, "x-amz-security-token: %s", token) < 0) {
		s->token = NULL;
		goto out_release;
	}
	ret = 0;
out_release:
	if (id)
		wipe_free(id);
	if (secret)
		wipe_free(secret);
	if (token)
		wipe_free(token);
	if (ret)
		ozx_s3_release(s);
	return ret;
}

void ozx_s3_release(struct ozx_s3 *s)
{
	free(s->url);
	free(s->sigv4);
	wipe_free(s->userpwd);
	wipe_free(s->token);
	memset(s, 0, sizeof(*s));
}
