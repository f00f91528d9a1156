# gen-kmsg-patterns.cmake - cmake -DIN=kmsg-patterns.txt -DOUT=kmsg_patterns.c -P this:
# the C table of lib/kmsg-patterns.txt (see that file for the format; lib/kmsg.h for the table).
file(STRINGS "${IN}" bad REGEX "^[^#].*[;\"\\\\]|^[ \t]|^[^#].*[ \t]$")
if(bad)
	message(FATAL_ERROR "${IN}: a pattern has a quote, backslash, semicolon or blanks at an end: ${bad}")
endif()
file(STRINGS "${IN}" lines REGEX "^[^#]")
set(body "")
list(LENGTH lines n)
if(n EQUAL 0)
	message(FATAL_ERROR "${IN}: no patterns")
endif()
foreach(line IN LISTS lines)
	string(APPEND body "\t\"${line}\",\n")
endforeach()
file(WRITE "${OUT}.tmp"
"/* Generated from lib/kmsg-patterns.txt by lib/gen-kmsg-patterns.cmake: do not edit. */
#include \"kmsg.h\"

const char *const rp_kmsg_patterns[] = {
${body}};
const size_t rp_kmsg_npatterns = ${n};
")
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")
