/*
 * Compatibility shims for building mlx-c (mlx-sys 0.7.0) on Linux x86_64 with
 * GCC 12. Force-included into mlx-c's translation units by mlx-c-compat.cmake
 * during `cargo mithril setup`.
 */
#ifndef MITHRIL_MLX_C_COMPAT_H
#define MITHRIL_MLX_C_COMPAT_H

/*
 * mlx-c's half.h enables the float16/bfloat16 entry points only on aarch64,
 * but mlx-rs calls them on every target. mlx-c moves these values through
 * pointers (item<T>, data<T>), so 16-bit storage types carry the bits intact;
 * the matching Rust side is bindgen's 16-bit wrapper.
 */
#if defined(__x86_64__) && !defined(HAS_FLOAT16)
#define HAS_FLOAT16
#define HAS_BFLOAT16
typedef unsigned short float16_t;
typedef unsigned short bfloat16_t;
#endif

#ifdef __cplusplus
#include <version>
/* GCC 12's libstdc++ has no std::format; mlx-c only formats `{}` placeholders. */
#if !defined(__cpp_lib_format)
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
namespace std {
namespace mithril_compat {
inline void format_rest(std::ostringstream& out, std::string_view fmt) { out << fmt; }
template <class T, class... Rest>
void format_rest(std::ostringstream& out, std::string_view fmt, T&& value, Rest&&... rest) {
  auto at = fmt.find("{}");
  if (at == std::string_view::npos) {
    out << fmt;
    return;
  }
  out << fmt.substr(0, at) << std::forward<T>(value);
  format_rest(out, fmt.substr(at + 2), std::forward<Rest>(rest)...);
}
}  // namespace mithril_compat
template <class... Args>
std::string format(std::string_view fmt, Args&&... args) {
  std::ostringstream out;
  mithril_compat::format_rest(out, fmt, std::forward<Args>(args)...);
  return out.str();
}
}  // namespace std
#endif
#endif

#endif /* MITHRIL_MLX_C_COMPAT_H */
