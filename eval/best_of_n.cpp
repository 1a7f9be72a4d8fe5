#include "eval/best_of_n.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace rlhf {

double best_of_n_kl(int64_t n) {
  if (n < 1) throw std::runtime_error("best of n: n must be >= 1 (got " + std::to_string(n) + ")");
  return std::log(static_cast<double>(n)) - static_cast<double>(n - 1) / static_cast<double>(n);
}

std::vector<int64_t> best_of_each(const std::vector<double>& scores, int64_t n) {
  if (n < 1 || scores.size() % static_cast<size_t>(n) != 0)
    throw std::runtime_error("best of n: " + std::to_string(scores.size()) + " scores are not whole groups of " +
                             std::to_string(n));
  std::vector<int64_t> best;
  for (size_t first = 0; first < scores.size(); first += n) {
    int64_t pick = 0;
    for (int64_t k = 1; k < n; ++k)
      if (scores[first + k] > scores[first + pick]) pick = k;
    best.push_back(pick);
  }
  return best;
}

}  // namespace rlhf
