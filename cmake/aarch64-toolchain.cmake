# Cross-compiling for 64-bit Arm Linux with Debian's g++-aarch64-linux-gnu; binaries are linked
# statically so qemu-aarch64(-static) runs them without an aarch64 sysroot.
#   cmake -S . -B build-neon -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-toolchain.cmake -DRNNKIT_BUILD_TESTS=ON
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# -static: no target sysroot needed at run time. The whole archive of libpthread is not needed
# with glibc >= 2.34 (pthread lives in libc).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# ctest runs the test binaries through the emulator.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(RNNKIT_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
  if(RNNKIT_QEMU_AARCH64)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${RNNKIT_QEMU_AARCH64})
  endif()
endif()
