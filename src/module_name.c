/* module_name: the module memray stats charges a stack to (see module_name.h). */
#include "module_name.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "u64map.h"
#include "xmalloc.h"

/*
 * A path as pathlib's PurePosixPath splits it: a root ("", "/", or "//",
 * which POSIX lets mean something else and pathlib keeps), then the
 * non-empty components other than ".".
 */
struct pure_path {
	const char *root;
	char **parts;
	size_t n_parts;
};

static void
path_parse(struct pure_path *p, const char *s)
{
	size_t cap = 0;

	memset(p, 0, sizeof *p);
	if (s[0] == '/' && s[1] == '/' && s[2] != '/')
		p->root = "//";
	else if (s[0] == '/')
		p->root = "/";
	else
		p->root = "";
	while (*s != '\0') {
		size_t len = strcspn(s, "/");
		if (len > 0 && !(len == 1 && s[0] == '.')) {
			p->parts = xgrowarray(p->parts, &cap, p->n_parts + 1, sizeof *p->parts, 8);
			p->parts[p->n_parts++] = xstrndup(s, len);
		}
		s += len;
		s += *s == '/';
	}
}

static void
path_free(struct pure_path *p)
{
	for (size_t i = 0; i < p->n_parts; i++)
		free(p->parts[i]);
	free(p->parts);
}

/* PurePath.relative_to: whether base is path or one of its parents. */
static bool
path_under(const struct pure_path *path, const struct pure_path *base)
{
	if (strcmp(path->root, base->root) != 0 || base->n_parts > path->n_parts)
		return false;
	for (size_t i = 0; i < base->n_parts; i++)
		if (strcmp(path->parts[i], base->parts[i]) != 0)
			return false;
	return true;
}

/*
 * module_tools._path_to_module of the relative path parts[0..n), cut to
 * its top-level package (the text before the first dot).  A package's
 * __init__.py is the package and a .py file is its stem, but neither
 * changes the first component's text before its first dot, unless the
 * path is a bare __init__.py: then the module is "".  malloc'd.
 */
static char *
top_level_module(char *const *parts, size_t n)
{
	if (n == 0 || (n == 1 && strcmp(parts[0], "__init__.py") == 0))
		return xstrdup("");
	return xstrndup(parts[0], strcspn(parts[0], "."));
}

struct module_resolver {
	struct pure_path *site_packages;
	size_t n_site_packages;
	struct pure_path stdlib;
	bool has_stdlib;
	struct pure_path *sys_path;
	size_t n_sys_path;
	struct u64map by_file;		/* address of a file name -> index into modules */
	char **modules;			/* per file: top-level module, NULL for the stdlib */
	size_t n_modules, modules_cap;
};

static struct pure_path *
parse_list(char *const *list, size_t *n)
{
	struct pure_path *paths;

	*n = 0;
	while (list != NULL && list[*n] != NULL)
		(*n)++;
	paths = xreallocarray(NULL, *n ? *n : 1, sizeof *paths);
	for (size_t i = 0; i < *n; i++)
		path_parse(&paths[i], list[i]);
	return paths;
}

struct module_resolver *
module_resolver_new(const struct capture_header *header)
{
	struct module_resolver *r = xcalloc(1, sizeof *r);

	r->site_packages = parse_list(header->site_packages, &r->n_site_packages);
	r->sys_path = parse_list(header->sys_path, &r->n_sys_path);
	r->has_stdlib = header->libdest != NULL && header->libdest[0] != '\0';
	path_parse(&r->stdlib, r->has_stdlib ? header->libdest : "");
	u64map_init(&r->by_file);
	return r;
}

void
module_resolver_free(struct module_resolver *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_site_packages; i++)
		path_free(&r->site_packages[i]);
	for (size_t i = 0; i < r->n_sys_path; i++)
		path_free(&r->sys_path[i]);
	free(r->site_packages);
	free(r->sys_path);
	path_free(&r->stdlib);
	for (size_t i = 0; i < r->n_modules; i++)
		free(r->modules[i]);
	free(r->modules);
	u64map_free(&r->by_file);
	free(r);
}

/* _extract_module_name_and_type_impl, cut to the top-level package; NULL: stdlib. */
static char *
file_module(const struct module_resolver *r, const char *file)
{
	struct pure_path path;
	char *module = NULL;

	if (file[0] == '\0')
		return xstrdup("unknown");
	if (strncmp(file, "<frozen ", 8) == 0)
		return NULL;
	path_parse(&path, file);
	for (size_t i = 0; i < r->n_site_packages && module == NULL; i++)
		if (path_under(&path, &r->site_packages[i]))
			module = top_level_module(path.parts + r->site_packages[i].n_parts,
			    path.n_parts - r->site_packages[i].n_parts);
	if (module == NULL && r->has_stdlib && path_under(&path, &r->stdlib)) {
		path_free(&path);
		return NULL;
	}
	for (size_t i = 0; i < r->n_sys_path && module == NULL; i++)
		if (path_under(&path, &r->sys_path[i]))
			module = top_level_module(path.parts + r->sys_path[i].n_parts,
			    path.n_parts - r->sys_path[i].n_parts);
	/* Under none of them: the file's own name (none for a bare root). */
	if (module == NULL)
		module = top_level_module(path.parts + (path.n_parts ? path.n_parts - 1 : 0),
		    path.n_parts ? 1 : 0);
	path_free(&path);
	return module;
}

const char *
module_resolver_stack(struct module_resolver *r, const struct frame_text *frames, size_t n_frames)
{
	for (size_t i = 0; i < n_frames; i++) {
		uint32_t index;
		if (!u64map_get(&r->by_file, (uint64_t)(uintptr_t)frames[i].file, &index)) {
			r->modules = xgrowarray(r->modules, &r->modules_cap, r->n_modules + 1,
			    sizeof *r->modules, 16);
			index = (uint32_t)r->n_modules;
			r->modules[r->n_modules++] = file_module(r, frames[i].file);
			u64map_set(&r->by_file, (uint64_t)(uintptr_t)frames[i].file, index);
		}
		const char *module = r->modules[index];
		if (module != NULL)
			return strcmp(module, "memray") == 0 ? "<root>" : module;
	}
	return "<root>";
}
