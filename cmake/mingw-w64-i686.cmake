# SPDX-License-Identifier: MIT
# Cross-compiling toolchain: Linux host, 32-bit x86 Windows target (MinGW-w64), for build/bin32.
# Tests run only where a 32-bit Wine is installed (Debian's wine32); see tests/CMakeLists.txt.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86)
set(OPENDO_TRIPLET i686-w64-mingw32)

set(CMAKE_C_COMPILER ${OPENDO_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${OPENDO_TRIPLET}-g++)
set(CMAKE_RC_COMPILER ${OPENDO_TRIPLET}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${OPENDO_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(OPENDO_WINE NAMES wine)
if(OPENDO_WINE)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${OPENDO_WINE})
endif()
