// fast_float is a C++ header library; Swift calls it through this one C function.
#include "CFastFloatShims.h"

#include <fast_float/fast_float.h>
#include <system_error>

extern "C" int fixserve_parse_double(const char *text, size_t length, double *value) {
    double result = 0;
    auto parsed = fast_float::from_chars(text, text + length, result);
    if (parsed.ec != std::errc() || parsed.ptr != text + length) return 0;
    *value = result;
    return 1;
}
