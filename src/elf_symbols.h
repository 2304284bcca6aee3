/*
 * elf_symbols: an ELF file's symbol table as libbacktrace reads it (elf.c:
 * elf_add, elf_initialize_syminfo): .symtab, else .dynsym; the defined
 * STT_FUNC and STT_OBJECT symbols, sorted by address.  The native
 * symbolizer's fallback when DWARF names no function.
 */
#ifndef MT_ELF_SYMBOLS_H
#define MT_ELF_SYMBOLS_H

#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_symbol {
	uint64_t address;
	uint64_t size;
	const char *name;		/* in the ELF file's data */
};

struct elf_symbols {
	struct elf_symbol *symbols;
	size_t count;
};

/*
 * Read elf's table into *table, or return false (no table, or one that
 * libbacktrace would drop).  The names stay valid while elf is open.
 */
bool elf_symbols_read(Elf *elf, struct elf_symbols *table);
void elf_symbols_free(struct elf_symbols *table);

/*
 * The name of the first symbol covering address in the n tables, searched
 * in order as libbacktrace's list, or NULL.  A symbol of size 0 covers
 * nothing.
 */
const char *elf_symbols_find(const struct elf_symbols *tables, size_t n, uint64_t address);

#endif
