# CMake toolchain file for mlx-sys's build of mlx-c on Linux x86_64
# (picked up through CMAKE_TOOLCHAIN_FILE_x86_64_unknown_linux_gnu).
#
# mlx-c would clone MLX from GitHub; instead it uses the prebuilt MLX of the
# PyPI wheel that ./dev.sh unpacked. A changed toolchain file is ignored by an
# existing CMake build directory: run `cargo clean -p mlx-sys` after editing.

if(NOT DEFINED ENV{MITHRIL_MLX_WHEEL})
  message(FATAL_ERROR "MITHRIL_MLX_WHEEL is not set; build through cargo in the mithril workspace (see .cargo/config.toml)")
endif()
set(_mithril_wheel "$ENV{MITHRIL_MLX_WHEEL}")
if(NOT EXISTS "${_mithril_wheel}/mlx/share/cmake/MLX/MLXConfig.cmake")
  message(FATAL_ERROR "MLX wheel not found at ${_mithril_wheel}; run ./dev.sh setup first")
endif()

set(MLX_C_USE_SYSTEM_MLX ON CACHE BOOL "use the wheel's MLX" FORCE)
set(MLX_C_BUILD_EXAMPLES OFF CACHE BOOL "" FORCE)
set(MLX_DIR "${_mithril_wheel}/mlx/share/cmake/MLX" CACHE PATH "" FORCE)
# Runs inside mlx-c's project() call, where add_compile_options reaches its targets.
set(CMAKE_PROJECT_INCLUDE "${CMAKE_CURRENT_LIST_DIR}/mlx-c-compat.cmake" CACHE FILEPATH "" FORCE)
