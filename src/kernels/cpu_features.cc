#include "kernels/cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace longcat {

bool cpu_has_avx2_fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

bool cpu_has_avx512_core() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

bool cpu_has_avx512_vnni_gfni() {
  __builtin_cpu_init();
  return cpu_has_avx512_core() && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("gfni");
}

bool use_avx2_kernels() {
  static const bool use = [] {
    const char* isa = std::getenv("LONGCAT_ISA");
    if (isa && std::strcmp(isa, "generic") == 0) return false;
    return cpu_has_avx2_fma();
  }();
  return use;
}

namespace {
std::atomic<bool> avx512_allowed{true}, avx512_vnni_allowed{true};
}

bool use_avx512_kernels() {
  static const bool available = [] {
    const char* isa = std::getenv("LONGCAT_ISA");
    if (isa && std::strcmp(isa, "avx2") == 0) return false;
    return use_avx2_kernels() && cpu_has_avx512_core();
  }();
  return available && avx512_allowed.load(std::memory_order_relaxed);
}

void allow_avx512_kernels(bool allowed) { avx512_allowed.store(allowed, std::memory_order_relaxed); }

bool use_avx512_vnni_kernels() {
  static const bool available = [] {
    const char* isa = std::getenv("LONGCAT_ISA");
    if (isa && std::strcmp(isa, "avx512") == 0) return false;
    return cpu_has_avx512_vnni_gfni();
  }();
  return use_avx512_kernels() && available && avx512_vnni_allowed.load(std::memory_order_relaxed);
}

void allow_avx512_vnni_kernels(bool allowed) { avx512_vnni_allowed.store(allowed, std::memory_order_relaxed); }

}  // namespace longcat
