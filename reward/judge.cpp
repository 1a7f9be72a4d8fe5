#include "reward/judge.h"

#include <filesystem>
#include <stdexcept>

#include "model/model_io.h"

namespace rlhf {

Judge::Judge(const std::string& path, torch::Device device, const std::string& field) : path_(path) {
  if (std::filesystem::is_regular_file(path)) {
    kind_ = "bag_of_words";
    bag_of_words_ = load_bag_of_words(path);
    return;
  }
  if (!std::filesystem::is_directory(path))
    throw std::runtime_error(field + ": " + path + " is neither a reward checkpoint nor a bag-of-words file");
  auto checkpoint = load_any_checkpoint(path);
  if (checkpoint.info.value("kind", "") != "reward" || !checkpoint.tokenizer)
    throw std::runtime_error(field + ": " + path + " is not a reward checkpoint (info.kind \"" +
                             checkpoint.info.value("kind", "") + "\")");
  kind_ = "reward_model";
  tokenizer_ = *checkpoint.tokenizer;
  reward_model_ = reward_model_from_checkpoint(checkpoint, device, path);
  for (auto& p : reward_model_->parameters()) p.set_requires_grad(false);
}

std::vector<double> Judge::score(const std::vector<std::pair<std::string, std::string>>& items) {
  if (bag_of_words_) {
    std::vector<double> scores;
    for (const auto& item : items) scores.push_back(bag_of_words_->score(item.second));
    return scores;
  }
  return score_texts(reward_model_, *tokenizer_, items);
}

}  // namespace rlhf
