# LibTorch from the torch wheel that scripts/setup.sh installs into the project's virtual environment
# (.venv), in one of two shapes:
#   CUDA  the wheel's own CMake package (find_package(Torch)): needs the wheel's CUDA libraries
#         (its nvidia-* dependencies) and a CUDA toolkit on the machine, which that package looks for.
#   CPU   libtorch_cpu and libc10 only, imported here: a machine without a CUDA toolkit (most laptops)
#         cannot configure the wheel's CMake package, but needs none of CUDA to build the CPU path.
# RLHF_CUDA=AUTO picks CUDA when both are there. Sets TORCH_LIBRARIES, TORCH_INSTALL_PREFIX,
# TORCH_INCLUDE_DIRS and RLHF_HAVE_CUDA.

set(RLHF_TORCH_DIR "" CACHE PATH "The torch package directory (.../site-packages/torch); default: the one in .venv")
set(RLHF_CUDA AUTO CACHE STRING "Build the CUDA path: AUTO (when the wheel and a CUDA toolkit allow), ON or OFF")
set_property(CACHE RLHF_CUDA PROPERTY STRINGS AUTO ON OFF)

if(NOT RLHF_TORCH_DIR)
  file(GLOB _rlhf_torch_dirs "${PROJECT_SOURCE_DIR}/.venv/lib/python3*/site-packages/torch")
  list(SORT _rlhf_torch_dirs)
  list(POP_BACK _rlhf_torch_dirs RLHF_TORCH_DIR)
endif()
if(NOT RLHF_TORCH_DIR OR NOT EXISTS "${RLHF_TORCH_DIR}/share/cmake/Torch/TorchConfig.cmake")
  message(FATAL_ERROR "LibTorch not found: run scripts/setup.sh (it installs the torch wheel into .venv), "
                      "or pass -DRLHF_TORCH_DIR=/path/to/site-packages/torch")
endif()
set(TORCH_INSTALL_PREFIX "${RLHF_TORCH_DIR}")
set(TORCH_INCLUDE_DIRS "${RLHF_TORCH_DIR}/include" "${RLHF_TORCH_DIR}/include/torch/csrc/api/include")

file(STRINGS "${RLHF_TORCH_DIR}/include/torch/headeronly/version.h" _rlhf_torch_version
     REGEX "define TORCH_VERSION_(MAJOR|MINOR|PATCH) ")
string(REGEX REPLACE "[^;]*MAJOR ([0-9]+);[^;]*MINOR ([0-9]+);[^;]*PATCH ([0-9]+)" "\\1.\\2.\\3"
       RLHF_TORCH_VERSION "${_rlhf_torch_version}")

# The wheel's CUDA libraries live beside torch, in site-packages/nvidia/<name>/lib.
# cuBLAS stands for all of them: a CPU-only set-up has the CUDA runtime wheel, but not this one.
file(GLOB_RECURSE _rlhf_wheel_cublas "${RLHF_TORCH_DIR}/../nvidia/*/libcublas.so*")
set(_rlhf_wheel_has_cuda OFF)
if(EXISTS "${RLHF_TORCH_DIR}/lib/libtorch_cuda.so" AND _rlhf_wheel_cublas)
  set(_rlhf_wheel_has_cuda ON)
endif()

set(RLHF_HAVE_CUDA OFF)
if(NOT RLHF_CUDA STREQUAL "OFF" AND _rlhf_wheel_has_cuda)
  find_package(CUDAToolkit QUIET)
  if(CUDAToolkit_FOUND)
    set(RLHF_HAVE_CUDA ON)
  endif()
endif()
if(RLHF_CUDA STREQUAL "ON" AND NOT RLHF_HAVE_CUDA)
  message(FATAL_ERROR "RLHF_CUDA=ON, but the CUDA path cannot be built here: "
                      "wheel with CUDA libraries: ${_rlhf_wheel_has_cuda}, CUDA toolkit (nvcc) found: ${CUDAToolkit_FOUND}")
endif()

if(RLHF_HAVE_CUDA)
  if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST} AND NOT TORCH_CUDA_ARCH_LIST)
    set(TORCH_CUDA_ARCH_LIST "8.0;9.0")  # we compile no kernels; this only quiets the package's probe
  endif()
  find_package(Torch REQUIRED PATHS "${RLHF_TORCH_DIR}/share/cmake" NO_DEFAULT_PATH)
else()
  # What the wheel's package would give torch_cpu (Caffe2Targets.cmake), without its CUDA half.
  add_library(rlhf_libtorch_cpu INTERFACE)
  target_include_directories(rlhf_libtorch_cpu SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
  target_compile_definitions(rlhf_libtorch_cpu INTERFACE USE_DISTRIBUTED USE_C10D_GLOO USE_RPC USE_TENSORPIPE)
  target_link_libraries(rlhf_libtorch_cpu INTERFACE
    "-Wl,--no-as-needed,${RLHF_TORCH_DIR}/lib/libtorch_cpu.so" "-Wl,--as-needed"
    "${RLHF_TORCH_DIR}/lib/libc10.so"
    "-Wl,-rpath,${RLHF_TORCH_DIR}/lib")
  set(TORCH_LIBRARIES rlhf_libtorch_cpu)
endif()
message(STATUS "LibTorch ${RLHF_TORCH_VERSION} from ${RLHF_TORCH_DIR}: CUDA path ${RLHF_HAVE_CUDA}")

# The wheel's libtorch.so and libtorch_cpu.so export a copy of std::filesystem of their own (another
# GCC's, unversioned). Bound to it, our calls crash (remove_all jumps through a null pointer).
# libstdc++ named before every object binds those symbols to the system's library and puts it first
# in each binary's lookup order.
add_link_options("LINKER:--push-state,--no-as-needed" "-lstdc++" "LINKER:--pop-state")
