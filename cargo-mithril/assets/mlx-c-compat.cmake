# Included into mlx-c's project(): force-include the compatibility header into
# every C and C++ translation unit of mlx-c.
add_compile_options("SHELL:-include ${CMAKE_CURRENT_LIST_DIR}/mlx_c_compat.h")
