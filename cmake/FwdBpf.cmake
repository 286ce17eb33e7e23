# fwd_bpf_object(NAME SOURCE): compile a BPF C file with clang and generate
# <NAME>.skel.h with bpftool. Creates INTERFACE target NAME_skel whose include
# directory holds the skeleton; the object is embedded, never loaded by path.
find_program(FWD_CLANG NAMES clang clang-14 REQUIRED)
find_program(FWD_BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)

function(fwd_bpf_object name src)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/skel)
  set(obj ${out_dir}/${name}.bpf.o)
  set(skel ${out_dir}/${name}.skel.h)
  file(GLOB_RECURSE bpf_headers ${CMAKE_SOURCE_DIR}/bpf/*.h)
  execute_process(COMMAND uname -m OUTPUT_VARIABLE arch OUTPUT_STRIP_TRAILING_WHITESPACE)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND ${FWD_CLANG} -g -O2 -Wall -Werror -target bpf
            -I/usr/include/${arch}-linux-gnu -I${CMAKE_SOURCE_DIR}/bpf
            -c ${CMAKE_CURRENT_SOURCE_DIR}/${src} -o ${obj}
    COMMAND ${FWD_BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${src} ${bpf_headers}
    COMMENT "BPF ${name}: ${src} -> ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE ${out_dir})
endfunction()
