# SPDX-License-Identifier: MIT
# cmake -DHEADER=<widl header> -DOUTPUT=<file> -P abi_undef.cmake: writes an #undef for every
# object-like macro the header defines (its include guards and constants), so that
# tests/abi_static.cpp can include it a second time, into a namespace of its own.
file(STRINGS ${HEADER} defines REGEX "^#define [A-Za-z_][A-Za-z0-9_]*([ \t]|$)")
set(text "/* Generated from ${HEADER} by cmake/abi_undef.cmake. */\n")
foreach(line IN LISTS defines)
    string(REGEX REPLACE "^#define ([A-Za-z_][A-Za-z0-9_]*).*$" "\\1" name "${line}")
    string(APPEND text "#undef ${name}\n")
endforeach()
file(WRITE ${OUTPUT} "${text}")
