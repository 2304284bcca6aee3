/*
 * module_name: the module `memray stats` charges a Python stack to.
 *
 * memray's ModuleResolver (reporters/module_tools.py, 1.20.0) names a file
 * by the first of the capture's site-packages directories, its stdlib
 * directory (libdest) and its sys.path entries that holds it, as pathlib
 * compares paths; a file under none of them is named by its own name,
 * and "<frozen NAME>" is stdlib.  A stack belongs to the top-level package
 * of its most recent frame outside the stdlib, "<root>" if there is none
 * or if that package is memray itself.
 */
#ifndef MT_MODULE_NAME_H
#define MT_MODULE_NAME_H

#include <stddef.h>

#include "frame.h"
#include "record_decoder.h"

struct module_resolver;

/* The header's libdest, site_packages and sys_path are read now. */
struct module_resolver *module_resolver_new(const struct capture_header *header);
void module_resolver_free(struct module_resolver *r);

/*
 * The module of a stack, frames most recent first.  The answer is the
 * resolver's.  Files are remembered by the address of their name, which
 * must not change while the resolver is in use.
 */
const char *module_resolver_stack(struct module_resolver *r, const struct frame_text *frames,
    size_t n_frames);

#endif
