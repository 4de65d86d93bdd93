/*
 * zipfmt.h - on-disk constants of the ZIP format (PKWARE APPNOTE 6.3.x).
 * Only numbers here; parsing lives in eocd.c, cdir.c and read.c.
 */
#ifndef OZX_ZIPFMT_H
#define OZX_ZIPFMT_H

#define OZX_SIG_LOCAL 0x04034b50u   /* "PK\3\4" local file header */
#define OZX_SIG_CENTRAL 0x02014b50u /* "PK\1\2" central directory record */
#define OZX_SIG_EOCD 0x06054b50u    /* "PK\5\6" end of central directory */
#define OZX_SIG_EOCD64 0x06064b50u  /* "PK\6\6" ZIP64 end record */
#define OZX_SIG_LOC64 0x07064b50u   /* "PK\6\7" ZIP64 end locator */

#define OZX_LOCAL_LEN 30u   /* fixed part of a local header */
#define OZX_CENTRAL_LEN 46u /* fixed part of a central record */
#define OZX_EOCD_LEN 22u
#define OZX_EOCD64_LEN 56u /* fixed part, signature included */
#define OZX_LOC64_LEN 20u
#define OZX_COMMENT_MAX 65535u

#define OZX_EXTRA_ZIP64 0x0001u
#define OZX_EXTRA_UT 0x5455u	/* extended timestamp (Info-ZIP) */
#define OZX_EXTRA_UPATH 0x7075u /* Unicode Path (Info-ZIP) */

#define OZX_FLAG_ENCRYPTED 0x0001u
#define OZX_FLAG_DESCRIPTOR 0x0008u /* sizes and CRC after the data */
#define OZX_FLAG_STRONG_ENC 0x0040u

#define OZX_METHOD_STORE 0u
#define OZX_METHOD_DEFLATE 8u

#define OZX_U16_MAX 0xffffu
#define OZX_U32_MAX 0xffffffffu

#endif
