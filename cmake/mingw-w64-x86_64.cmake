# SPDX-License-Identifier: MIT
# Cross-compiling toolchain: Linux host, x86_64 Windows target (MinGW-w64), tests run under Wine.
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(OPENDO_TRIPLET x86_64-w64-mingw32)
set(OPENDO_WINE_NAMES wine wine64)
include(${CMAKE_CURRENT_LIST_DIR}/mingw-w64-common.cmake)
