/* writer: the registry of output formats (see writer.h). */
#include "writer.h"

#include <strings.h>

static const struct writer_ops *const writers[] = {
	&csv_writer,
};

const struct writer_ops *
writer_find(const char *name)
{
	for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
		if (strcasecmp(writers[i]->name, name) == 0)
			return writers[i];
	}
	return NULL;
}

const char *
writer_names(void)
{
	return "csv";
}
