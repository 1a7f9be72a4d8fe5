#include "reward/bag_of_words.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "io/files.h"
#include "train/metrics.h"

namespace rlhf {

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '\'' || c >= 0x80) {
      word += static_cast<char>(std::tolower(c));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

namespace {

// The vocabulary indices a response contains, each once.
std::vector<int64_t> present_words(const BagOfWords& model, std::string_view response) {
  std::set<int64_t> present;
  for (const auto& w : words_of(response)) {
    auto it = model.vocabulary.find(w);
    if (it != model.vocabulary.end()) present.insert(it->second);
  }
  return {present.begin(), present.end()};
}

// The pairs as a sparse matrix of x_w - x_l: entry k is (row[k], column[k], value[k]).
struct PairFeatures {
  torch::Tensor row, column, value;  // (nnz) long, long, double
  int64_t pairs = 0;
};

PairFeatures pair_features(const BagOfWords& model, const std::vector<RankingGroup>& groups) {
  std::vector<int64_t> rows, columns;
  std::vector<double> values;
  PairFeatures f;
  for (const auto& g : groups) {
    std::vector<std::vector<int64_t>> present;
    for (const auto& r : g.responses) present.push_back(present_words(model, r));
    for (const auto& p : g.pairs) {
      std::map<int64_t, double> diff;
      for (int64_t i : present[p.winner]) diff[i] += 1.0;
      for (int64_t i : present[p.loser]) diff[i] -= 1.0;
      for (const auto& [i, v] : diff) {
        if (v == 0.0) continue;
        rows.push_back(f.pairs);
        columns.push_back(i);
        values.push_back(v);
      }
      ++f.pairs;
    }
  }
  f.row = torch::tensor(rows, torch::kLong);
  f.column = torch::tensor(columns, torch::kLong);
  f.value = torch::tensor(values, torch::kDouble);
  return f;
}

// theta . (x_w - x_l) for every pair.
torch::Tensor pair_margins(const PairFeatures& f, const torch::Tensor& theta) {
  auto contributions = theta.index_select(0, f.column) * f.value;                               // (nnz)
  return torch::zeros({f.pairs}, theta.options()).index_add(0, f.row, contributions);            // (P)
}

// Mean -log sigmoid(margin) + l2 |theta|^2, minimised by L-BFGS from zero (convex: one optimum).
torch::Tensor fit_theta(const PairFeatures& f, int64_t vocab_size, double l2) {
  auto theta = torch::zeros({vocab_size}, torch::kDouble).requires_grad_(true);
  torch::optim::LBFGS optimizer({theta}, torch::optim::LBFGSOptions(1.0)
                                             .max_iter(500)
                                             .tolerance_grad(1e-9)
                                             .tolerance_change(1e-12)
                                             .line_search_fn("strong_wolfe"));
  optimizer.step([&] {
    optimizer.zero_grad();
    auto loss = torch::nn::functional::softplus(-pair_margins(f, theta)).mean() + l2 * theta.pow(2).sum();
    loss.backward();
    return loss;
  });
  return theta.detach();
}

PairHits hits_of(const PairFeatures& f, const torch::Tensor& theta) {
  PairHits hits;
  auto margins = pair_margins(f, theta).contiguous();
  auto m = margins.accessor<double, 1>();
  for (int64_t i = 0; i < f.pairs; ++i) hits.correct += pairwise_win(m[i], 0.0);
  hits.pairs = f.pairs;
  return hits;
}

}  // namespace

double BagOfWords::score(std::string_view response) const {
  double s = 0.0;
  auto t = theta.accessor<double, 1>();
  for (int64_t i : present_words(*this, response)) s += t[i];
  return s;
}

BagOfWords fit_bag_of_words(const std::vector<RankingGroup>& fit, const std::vector<RankingGroup>& valid,
                            int64_t min_count) {
  torch::NoGradGuard outside;  // the fit turns gradients on for theta alone
  BagOfWords model;
  std::map<std::string, int64_t> responses_with;  // sorted: indices do not depend on hashing
  for (const auto& g : fit)
    for (const auto& r : g.responses) {
      auto words = words_of(r);
      for (const auto& w : std::set<std::string>(words.begin(), words.end())) ++responses_with[w];
    }
  for (const auto& [word, count] : responses_with)
    if (count >= min_count) model.vocabulary.emplace(word, static_cast<int64_t>(model.vocabulary.size()));
  const auto vocab_size = static_cast<int64_t>(model.vocabulary.size());

  const auto train_features = pair_features(model, fit), valid_features = pair_features(model, valid);
  double best_accuracy = -1.0;
  for (double l2 : {1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5}) {  // strongest first: a tie keeps it
    torch::AutoGradMode enable(true);
    auto theta = fit_theta(train_features, vocab_size, l2);
    auto hits = hits_of(valid_features, theta);
    const double accuracy = hits.correct / static_cast<double>(std::max<int64_t>(1, hits.pairs));
    if (accuracy > best_accuracy) {
      best_accuracy = accuracy;
      model.theta = theta;
      model.l2 = l2;
    }
  }
  return model;
}

PairHits bag_of_words_hits(const BagOfWords& model, const std::vector<RankingGroup>& groups) {
  torch::NoGradGuard no_grad;
  return hits_of(pair_features(model, groups), model.theta);
}

void save_bag_of_words(const std::filesystem::path& file, const BagOfWords& model) {
  std::vector<std::string> words(model.vocabulary.size());
  for (const auto& [word, index] : model.vocabulary) words[index] = word;
  auto theta = model.theta.contiguous();
  std::vector<double> weights(theta.data_ptr<double>(), theta.data_ptr<double>() + theta.numel());
  nlohmann::json j = {{"kind", "bag_of_words"}, {"l2", model.l2}, {"words", words}, {"weights", weights}};
  write_file_atomic(file, j.dump() + "\n");
}

BagOfWords load_bag_of_words(const std::filesystem::path& file) {
  const auto j = read_json_file(file);
  const std::string where = file.string();
  if (!j.is_object() || j.value("kind", "") != "bag_of_words")
    throw std::runtime_error(where + ": not a bag-of-words model (\"kind\": \"bag_of_words\")");
  if (!j.contains("words") || !j["words"].is_array() || !j.contains("weights") || !j["weights"].is_array() ||
      j["words"].size() != j["weights"].size())
    throw std::runtime_error(where + ": fields \"words\" and \"weights\" must be arrays of one length");
  BagOfWords model;
  std::vector<double> weights;
  for (size_t i = 0; i < j["words"].size(); ++i) {
    if (!j["words"][i].is_string() || !j["weights"][i].is_number())
      throw std::runtime_error(where + ": entry " + std::to_string(i) + " of \"words\"/\"weights\" is not a word and a number");
    model.vocabulary.emplace(j["words"][i].get<std::string>(), static_cast<int64_t>(i));
    weights.push_back(j["weights"][i].get<double>());
  }
  model.theta = torch::tensor(weights, torch::kDouble);
  model.l2 = j.value("l2", 0.0);
  return model;
}

}  // namespace rlhf
