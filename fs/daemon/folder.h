/*
 * folder.h - a folder of archives as the source of a mount (folder.c):
 * its directories, and each NAME.ozx or NAME.zip in them as a directory
 * holding that archive's tree, opened on first use.
 *
 * Inode numbers below 2^32 are the folder's own nodes (its directories,
 * FUSE_ROOT_ID the folder itself); an archive's nodes are
 * (instance << 32) + node + 1, so the root of an archive is
 * (instance << 32) + 1.  An instance is one version of one archive file
 * (device, inode, size, mtime); instance numbers are never reused.
 */
#ifndef OZXFS_FOLDER_H
#define OZXFS_FOLDER_H

#include "ozxfs.h"

/* A folder's own node (no archive behind it). */
static inline bool ozxfs_folder_node(fuse_ino_t ino)
{
	return ino < ((fuse_ino_t)1 << 32);
}

/* The root directory of one of the folder's archives. */
static inline bool ozxfs_folder_arc_root(fuse_ino_t ino)
{
	return !ozxfs_folder_node(ino) && (uint32_t)ino == 1;
}

/*
 * A folder source for fs, at the directory path (an absolute path).
 * Opens the directory and nothing in it.  Returns 0 and sets *out, or
 * -errno from open(2), or -ENOMEM.
 */
int ozxfs_folder_new(struct ozxfs *fs, const char *path,
		     struct ozxfs_folder **out);

/* Close every archive and free everything; NULL is a no-op.  No request
 * may be in progress. */
void ozxfs_folder_free(struct ozxfs_folder *f);

/*
 * For a signal handler: stop the long passes of the archives open now
 * and of those opened later (ozx_archive_cancel).
 */
void ozxfs_folder_cancel(struct ozxfs_folder *f);

/*
 * The archive and node of an archive's inode ino, opening the archive if
 * it is not open (again, after a release): the same file must still be
 * there.  The archive stays open until ozxfs_folder_put().  Returns 0, or
 *	-ENOENT  no such inode
 *	-EIO     the archive is not usable (logged once, user.ozx.error)
 *	-ESTALE  the archive was released, and its file was removed or
 *		 replaced since
 *	-EMFILE, -ENOMEM, ... the open failed (tried again next time)
 */
int ozxfs_folder_get(struct ozxfs_folder *f, fuse_ino_t ino,
		     struct ozxfs_arc **arc, uint32_t *node);
void ozxfs_folder_put(struct ozxfs_folder *f, struct ozxfs_arc *arc);

/* The kernel was given n more references to inodes of arc's archive. */
void ozxfs_folder_ref(struct ozxfs_arc *arc, uint64_t n);

/* FORGET: the kernel dropped n references to ino. */
void ozxfs_folder_forget(struct ozxfs_folder *f, fuse_ino_t ino, uint64_t n);

/* The operations on the folder's own nodes; each sends the reply. */
void ozxfs_folder_lookup(fuse_req_t req, struct ozxfs_folder *f,
			 fuse_ino_t parent, const char *name);
void ozxfs_folder_getattr(fuse_req_t req, struct ozxfs_folder *f,
			  fuse_ino_t ino);
/* Lists the directory now: fi->fh holds the listing (nonzero). */
void ozxfs_folder_opendir(fuse_req_t req, struct ozxfs_folder *f,
			  fuse_ino_t ino, struct fuse_file_info *fi);
void ozxfs_folder_readdir(fuse_req_t req, uint64_t fh, size_t size, off_t off,
			  bool plus);
/* Frees a listing of ozxfs_folder_opendir; 0 is a no-op. */
void ozxfs_folder_releasedir(uint64_t fh);

/*
 * The attributes of an archive's root that the folder answers for:
 * user.ozx.error of an archive that cannot be opened, the reason (list
 * with name NULL).  Returns as ozxfs_xattr_get(), or -ENOSYS when the
 * archive itself answers (it is usable).
 */
ssize_t ozxfs_folder_xattr(struct ozxfs_folder *f, fuse_ino_t ino,
			   const char *name, char *buf, size_t size);

#endif /* OZXFS_FOLDER_H */
