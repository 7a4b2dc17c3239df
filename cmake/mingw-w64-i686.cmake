# SPDX-License-Identifier: MIT
# Cross-compiling toolchain: Linux host, 32-bit x86 Windows target (MinGW-w64), for build/bin32.
# Tests run only where a 32-bit Wine is installed (Debian's wine32); see tests/CMakeLists.txt.
set(CMAKE_SYSTEM_PROCESSOR x86)
set(OPENDO_TRIPLET i686-w64-mingw32)
set(OPENDO_WINE_NAMES wine)
include(${CMAKE_CURRENT_LIST_DIR}/mingw-w64-common.cmake)
