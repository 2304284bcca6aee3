/* version: what --version prints (see version.h). */
#include "version.h"

#include <csv.h>
#include <elfutils/libdwfl.h>
#include <lz4.h>
#include <lzma.h>
#include <protobuf-c/protobuf-c.h>
#include <sodium.h>
#include <yajl/yajl_version.h>
#include <zlib.h>
#include <zstd.h>

#include "config.h"
#include "info.h"
#include "message.h"
#include "record_decoder.h"
#include "writer.h"

void
version_print(FILE *out)
{
	int yajl = yajl_version();	/* major * 10000 + minor * 100 + micro */

	fprintf(out, "%s %s\n", PROGRAM_NAME, PACKAGE_VERSION);
	/*
	 * The versions of the libraries loaded, where they can tell; libcsv
	 * cannot, so its version is the one of the headers built against.
	 */
	fprintf(out, "Libraries: lz4/%s zstd/%s elfutils/%s yajl/%d.%d.%d protobuf-c/%s zlib/%s"
	    " liblzma/%s libsodium/%s libcsv/%d.%d.%d\n",
	    LZ4_versionString(), ZSTD_versionString(), dwfl_version(NULL),
	    yajl / 10000, yajl / 100 % 100, yajl % 100, protobuf_c_version(), zlibVersion(),
	    lzma_version_string(), sodium_version_string(), CSV_MAJOR, CSV_MINOR, CSV_RELEASE);
	fprintf(out, "Formats: %s\n", writer_names(" "));
	fputs("Captures: versions", out);
	for (int v = CAPTURE_VERSION_OLDEST; v <= CAPTURE_VERSION_NEWEST; v++)
		fprintf(out, "%s %d (%s)", v > CAPTURE_VERSION_OLDEST ? "," : "", v,
		    info_memray_versions(v));
	fputs("; raw, lz4, zstd, gzip or xz, nested up to 4 deep\n", out);
}
