#include "train/seed.h"

namespace rlhf {

uint64_t step_seed(uint64_t seed, int64_t step, uint64_t stream) {
  // splitmix64 of the triple: well-mixed, stable across platforms and runs
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(step) + 1) + 0xbf58476d1ce4e5b9ULL * stream;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace rlhf
