# CUDA backend (docs/cuda.md). SEMANTIC_CUDA defaults to ON where a CUDA compiler is found; the
# kernels then build on machines without a GPU too, so compile errors are caught everywhere.
# cudart is linked statically: it loads the driver (libcuda.so) only when first called, so the
# binary starts and runs on CPU-only machines (the CUDA probe then reports "no CUDA device").
include(CheckLanguage)
check_language(CUDA)
if(CMAKE_CUDA_COMPILER AND NOT SEMANTIC_SANITIZE)  # sanitizer/fuzz builds: host code only
  set(SEMANTIC_CUDA_DEFAULT ON)
else()
  set(SEMANTIC_CUDA_DEFAULT OFF)
endif()
option(SEMANTIC_CUDA "Build the CUDA kernels (src/kernels/cuda) and tests/cuda" ${SEMANTIC_CUDA_DEFAULT})

if(SEMANTIC_CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    message(FATAL_ERROR "SEMANTIC_CUDA=ON but no CUDA compiler was found (nvcc: set CUDACXX)")
  endif()
  # The project's g++ as nvcc's host compiler (check_language above used nvcc's default one).
  if(NOT DEFINED CMAKE_CUDA_HOST_COMPILER AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    set(CMAKE_CUDA_HOST_COMPILER ${CMAKE_CXX_COMPILER})
  endif()
  # A100 (sm_80) and H100/H200 (sm_90) machine code, plus sm_90 PTX that newer GPUs JIT-compile.
  # Two targets keep the build short (it runs in every `make test`); override on the command line.
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 80-real 90)
  endif()
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  message(STATUS "SEMANTIC_CUDA: nvcc ${CMAKE_CUDA_COMPILER_VERSION}, archs ${CMAKE_CUDA_ARCHITECTURES}")

  file(GLOB SEMANTIC_CUDA_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/kernels/cuda/*.cu
       ${PROJECT_SOURCE_DIR}/src/kernels/cuda/*.cpp)
  add_library(semantic_kernels_cuda STATIC ${SEMANTIC_CUDA_SOURCES})
  target_include_directories(semantic_kernels_cuda PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(semantic_kernels_cuda PUBLIC semantic_kernels semantic_quant semantic_base
                        CUDA::cudart_static)
  target_compile_definitions(semantic_kernels_cuda PUBLIC SEMANTIC_HAVE_CUDA=1)
  # CMake 3.25 knows no C++20 flag for nvcc and would take CXX_STANDARD (20) for the .cu files:
  # they are C++17 (the project headers they include compile as C++17).
  set_target_properties(semantic_kernels_cuda PROPERTIES CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON)
  # The directory's compile options (-Wall, -Wextra, ...) are g++ flags that nvcc does not take:
  # keep them for the .cpp files, pass -Wall to the host compiler through nvcc for the .cu files.
  get_property(opts TARGET semantic_kernels_cuda PROPERTY COMPILE_OPTIONS)
  set_property(TARGET semantic_kernels_cuda PROPERTY COMPILE_OPTIONS
               "$<$<COMPILE_LANGUAGE:CXX>:${opts}>"
               "$<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall;-Xcompiler=-Wno-unused-parameter>")
endif()
