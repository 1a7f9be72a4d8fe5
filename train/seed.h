// Every random stream of a run (data order, dropout, sampling) is a function of (seed, step, stream),
// never of history: that is what makes resume exact and data-parallel ranks reproducible.
#pragma once

#include <cstdint>

namespace rlhf {

// The seed for step s of a run seeded with `seed`; `stream` keeps independent uses apart.
uint64_t step_seed(uint64_t seed, int64_t step, uint64_t stream = 0);

}  // namespace rlhf
