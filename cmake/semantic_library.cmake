# semantic_library(name deps...): a static library from every .cpp under src/<name>/.
# Files ending in _avx2.cpp / _avx512.cpp / _amx.cpp get the ISA flags for runtime-dispatched
# kernels.
set(SEMANTIC_AVX2_FLAGS -O3 -mavx2 -mfma -mf16c -mbmi2)
set(SEMANTIC_AVX512_FLAGS -O3 -mavx2 -mfma -mf16c -mbmi2 -mavx512f -mavx512bw -mavx512vl -mavx512dq
    -mavx512vnni)
set(SEMANTIC_AMX_FLAGS ${SEMANTIC_AVX512_FLAGS} -mamx-tile -mamx-int8)

function(semantic_apply_isa_flags)
  foreach(src IN LISTS ARGN)
    if(src MATCHES "_amx\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${SEMANTIC_AMX_FLAGS}")
    elseif(src MATCHES "_avx512\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${SEMANTIC_AVX512_FLAGS}")
    elseif(src MATCHES "_avx2\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${SEMANTIC_AVX2_FLAGS}")
    endif()
  endforeach()
endfunction()

function(semantic_library name)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cpp)
  # Their own libraries, built with SEMANTIC_CUDA (cmake/cuda.cmake, CMakeLists.txt).
  list(FILTER srcs EXCLUDE REGEX "/src/(kernels|models)/cuda/")
  if(NOT srcs)
    set(srcs ${PROJECT_SOURCE_DIR}/cmake/empty.cpp)
  endif()
  semantic_apply_isa_flags(${srcs})
  add_library(semantic_${name} STATIC ${srcs})
  target_include_directories(semantic_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  foreach(dep IN LISTS ARGN)
    target_link_libraries(semantic_${name} PUBLIC semantic_${dep})
  endforeach()
endfunction()
