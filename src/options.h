/*
 * options: the command line.
 *
 * Usage errors print one line and a pointer to --help, and exit 2, as GNU
 * tools do; --help and --version print to stdout and exit 0.
 */
#ifndef MT_OPTIONS_H
#define MT_OPTIONS_H

#include <stdbool.h>

#include "transform.h"

struct options {
	struct transform_options transform;
	const char *input;	/* NULL or "-": stdin */
	const char *output;	/* NULL: stdout */
	bool info;		/* --info: describe the capture instead */
	bool progress;		/* --progress: show progress even if stderr is no terminal */
};

/* Parse argv into opts; exits on --help, --version and usage errors. */
void options_parse(int argc, char **argv, struct options *opts);
void options_free(struct options *opts);

#endif
