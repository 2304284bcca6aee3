/* elf_symbols: an ELF file's symbol table (see elf_symbols.h). */
#include "elf_symbols.h"

#include <gelf.h>
#include <stdlib.h>

#include "bt_sort.h"
#include "xmalloc.h"

static int
compare_symbols(const void *a, const void *b)
{
	const struct elf_symbol *x = a, *y = b;

	return x->address < y->address ? -1 : x->address > y->address;
}

/* libbacktrace's elf_symbol_search, for bsearch(): a zero-size symbol never matches. */
static int
search_symbols(const void *key, const void *entry)
{
	uint64_t address = *(const uint64_t *)key;
	const struct elf_symbol *s = entry;

	if (address < s->address)
		return -1;
	return address >= s->address + s->size;
}

/* .symtab, else .dynsym, or NULL. */
static Elf_Scn *
symbol_section(Elf *elf)
{
	Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
	GElf_Shdr shdr;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (gelf_getshdr(scn, &shdr) == NULL)
			continue;
		if (shdr.sh_type == SHT_SYMTAB)
			symtab = scn;
		else if (shdr.sh_type == SHT_DYNSYM)
			dynsym = scn;
	}
	return symtab != NULL ? symtab : dynsym;
}

bool
elf_symbols_read(Elf *elf, struct elf_symbols *table)
{
	Elf_Scn *symtab = symbol_section(elf);
	GElf_Shdr shdr;
	Elf_Data *data;
	size_t entsize = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);

	if (symtab == NULL || gelf_getshdr(symtab, &shdr) == NULL || entsize == 0 ||
	    (data = elf_getdata(symtab, NULL)) == NULL)
		return false;
	size_t n = shdr.sh_size / entsize, count = 0;
	struct elf_symbol *symbols = xreallocarray(NULL, n, sizeof *symbols);
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		if (gelf_getsym(data, (int)i, &sym) == NULL)
			goto drop;
		int type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_OBJECT) || sym.st_shndx == SHN_UNDEF)
			continue;
		/* libbacktrace drops the whole table for a bad name offset. */
		if ((name = elf_strptr(elf, shdr.sh_link, sym.st_name)) == NULL)
			goto drop;
		symbols[count++] = (struct elf_symbol){ sym.st_value, sym.st_size, name };
	}
	bt_sort(symbols, count, sizeof *symbols, compare_symbols);
	*table = (struct elf_symbols){ symbols, count };
	return true;
drop:
	free(symbols);
	return false;
}

void
elf_symbols_free(struct elf_symbols *table)
{
	free(table->symbols);
	*table = (struct elf_symbols){ 0 };
}

const char *
elf_symbols_find(const struct elf_symbols *tables, size_t n, uint64_t address)
{
	for (size_t i = 0; i < n; i++) {
		const struct elf_symbol *s = bsearch(&address, tables[i].symbols, tables[i].count,
		    sizeof *s, search_symbols);
		if (s != NULL)
			return s->name;
	}
	return NULL;
}
