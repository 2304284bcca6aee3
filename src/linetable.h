/*
 * linetable: instruction offset to source line, per CPython version.
 *
 * memray records a frame as (code object, instruction offset) and turns it
 * into a line when reporting, with the line table the code object had
 * (doc/capture-format.md §5.2-§5.3): co_lnotab up to 3.9, the 3.10
 * co_linetable, and the 3.11+ location table.  Two deliberate differences
 * from stock memray: 3.9 bytecode deltas are unsigned, as in CPython (F3),
 * and an empty table gives firstlineno, as in CPython (F4).
 */
#ifndef MT_LINETABLE_H
#define MT_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The line of instruction_offset in a code object of a Python whose
 * PY_VERSION_HEX is python_version.  0 when unknown (negative offset, or
 * an offset past a 3.11+ table).
 */
int32_t linetable_line(int32_t python_version, const uint8_t *table, size_t len,
    int32_t firstlineno, int64_t instruction_offset);

#endif
