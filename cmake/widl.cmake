# SPDX-License-Identifier: MIT
# widl helpers: generate a C header, IID definitions or a type library from an IDL file.

find_program(OPENDO_WIDL NAMES ${OPENDO_TRIPLET}-widl widl REQUIRED)
find_path(OPENDO_BASE_IDL_DIR unknwn.idl
    PATHS /usr/include/wine/wine/windows /usr/include/wine/windows
    NO_CMAKE_FIND_ROOT_PATH REQUIRED)
find_path(OPENDO_STDOLE2_DIR stdole2.tlb
    PATHS /usr/lib/x86_64-linux-gnu/wine/x86_64-windows /usr/lib/wine/x86_64-windows
          /usr/lib/i386-linux-gnu/wine/i386-windows
          /usr/lib64/wine/x86_64-windows
    NO_CMAKE_FIND_ROOT_PATH REQUIRED)

set(OPENDO_GENERATED_DIR ${CMAKE_BINARY_DIR}/generated)
# Headers, proxies and the type library for the target: pointers, alignment, SYS_WIN32 or 64.
if(CMAKE_SIZEOF_VOID_P EQUAL 4)
    set(OPENDO_WIDL_ARCH -m32)
else()
    set(OPENDO_WIDL_ARCH -m64)
endif()
file(MAKE_DIRECTORY ${OPENDO_GENERATED_DIR})

# opendo_widl(<idl> <mode> <output> [DEPENDS ...]): mode is -h (header), -u (IIDs) or -t (typelib).
function(opendo_widl idl mode output)
    cmake_parse_arguments(ARG "" "" "DEPENDS" ${ARGN})
    get_filename_component(idl_abs ${idl} ABSOLUTE)
    get_filename_component(idl_dir ${idl_abs} DIRECTORY)
    add_custom_command(
        OUTPUT ${OPENDO_GENERATED_DIR}/${output}
        COMMAND ${OPENDO_WIDL} ${OPENDO_WIDL_ARCH} ${mode} -I${idl_dir} -I${OPENDO_BASE_IDL_DIR}
                -L ${OPENDO_STDOLE2_DIR} -o ${OPENDO_GENERATED_DIR}/${output} ${idl_abs}
        DEPENDS ${idl_abs} ${ARG_DEPENDS}
        COMMENT "widl ${mode} ${output}"
        VERBATIM)
endfunction()
