// The simple-model bar a reward model has to clear: a logistic regression on which words a response
// contains, fit on the same training pairs, P(w beats l) = sigmoid(theta . (x_w - x_l)) with x the
// 0/1 presence of each vocabulary word in the reply. A reward model at or below it has learnt
// nothing a linear model on word presence could not (and PPO will optimise what it did learn).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "reward/rankings.h"

namespace rlhf {

// Lower-cased words: runs of letters, digits and apostrophes (bytes of UTF-8 characters count as
// letters, so non-English words stay whole).
std::vector<std::string> words_of(std::string_view text);

struct BagOfWords {
  std::unordered_map<std::string, int64_t> vocabulary;  // word -> feature index
  torch::Tensor theta;                                   // (V) one weight per word
  double l2 = 0.0;                                       // the penalty validation chose

  // theta . x(response): the model's reward of one response.
  double score(std::string_view response) const;
};

// Words in at least `min_count` training responses form the vocabulary; the L2 penalty is chosen
// from a fixed grid by pair accuracy on `valid` (ties keep the larger penalty). Deterministic.
BagOfWords fit_bag_of_words(const std::vector<RankingGroup>& fit, const std::vector<RankingGroup>& valid,
                            int64_t min_count = 2);

struct PairHits {
  double correct = 0.0;  // ties count one half
  int64_t pairs = 0;
};
PairHits bag_of_words_hits(const BagOfWords& model, const std::vector<RankingGroup>& groups);

// As JSON ({"kind": "bag_of_words", "l2", "words": [...], "weights": [...]}, written atomically), so
// later stages can use it as a judge that PPO never optimised. Loading names the file and field at fault.
void save_bag_of_words(const std::filesystem::path& file, const BagOfWords& model);
BagOfWords load_bag_of_words(const std::filesystem::path& file);

}  // namespace rlhf
