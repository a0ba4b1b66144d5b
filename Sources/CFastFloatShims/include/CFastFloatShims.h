#ifndef CFASTFLOATSHIMS_H
#define CFASTFLOATSHIMS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Reads the decimal number that is exactly `text[0 ..< length]` (no terminator needed) with
/// fast_float, rounded to the nearest double as strtod rounds it. Returns 1 when the whole text
/// is one number (and sets `*value`), 0 otherwise.
int fixserve_parse_double(const char *text, size_t length, double *value);

#ifdef __cplusplus
}
#endif

#endif
