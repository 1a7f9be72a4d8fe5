// Best-of-N, the inference-time method every RLHF comparison needs beside the trained ones (Nakano et
// al. 2021; Gao et al. 2022 plot it against PPO): draw n responses to a prompt from one policy and
// keep the one a reward model scores highest. It needs no training; its cost is n samples and n
// scores per prompt, and its KL from the sampling policy is known in closed form.
#pragma once

#include <cstdint>
#include <vector>

namespace rlhf {

// KL(best-of-n || policy) = log n - (n - 1) / n nats (Stiennon et al. 2020, appendix G.3): exact for
// continuous scores without ties, an upper bound otherwise.
double best_of_n_kl(int64_t n);

// scores holds n candidates per prompt, prompt by prompt: [p0c0, p0c1, ..., p0c(n-1), p1c0, ...].
// Returns, per prompt, the index (0..n-1) of its highest-scoring candidate; a tie keeps the first.
std::vector<int64_t> best_of_each(const std::vector<double>& scores, int64_t n);

}  // namespace rlhf
