# CMake toolchain file for the build of mlx-c (mlx-sys 0.7.0) that
# `cargo mithril setup` runs once per user on Linux x86_64 (through the
# `cmake` crate's CMAKE_TOOLCHAIN_FILE_x86_64_unknown_linux_gnu).
#
# mlx-c would clone MLX from GitHub; instead it uses the prebuilt MLX of the
# PyPI wheel that setup unpacked, whose location setup passes in
# MITHRIL_MLX_WHEEL.

if(NOT DEFINED ENV{MITHRIL_MLX_WHEEL})
  message(FATAL_ERROR "MITHRIL_MLX_WHEEL is not set: this toolchain file is used by `cargo mithril setup`")
endif()
set(_mithril_wheel "$ENV{MITHRIL_MLX_WHEEL}")
if(NOT EXISTS "${_mithril_wheel}/mlx/share/cmake/MLX/MLXConfig.cmake")
  message(FATAL_ERROR "no MLX CMake package under ${_mithril_wheel}")
endif()

set(MLX_C_USE_SYSTEM_MLX ON CACHE BOOL "use the wheel's MLX" FORCE)
set(MLX_C_BUILD_EXAMPLES OFF CACHE BOOL "" FORCE)
set(MLX_DIR "${_mithril_wheel}/mlx/share/cmake/MLX" CACHE PATH "" FORCE)
# Runs inside mlx-c's project() call, where add_compile_options reaches its targets.
set(CMAKE_PROJECT_INCLUDE "${CMAKE_CURRENT_LIST_DIR}/mlx-c-compat.cmake" CACHE FILEPATH "" FORCE)
