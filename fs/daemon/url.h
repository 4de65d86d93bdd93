/*
 * url.h - the daemon's archive behind a URL (http://, https://, s3://).
 */
#ifndef OZXFS_URL_H
#define OZXFS_URL_H

#include "ozxfs.h"

/*
 * Open and index the archive at fs->opts.archive_arg, a URL, with the
 * options of fs->opts.remote; sets fs->remote, fs->archive, fs->info,
 * fs->archive_path (the URL without secrets, also the fsname shown in
 * /proc/mounts) and fs->archive_esc.  Returns an exit status, after a
 * one-line message on failure.
 */
int ozxfs_open_url(struct ozxfs *fs);

#endif /* OZXFS_URL_H */
