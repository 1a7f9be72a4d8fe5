#include "reward/reward_model.h"

#include <stdexcept>

#include "model/model_io.h"
#include "model/state_dict.h"

namespace rlhf {

RewardModelImpl::RewardModelImpl(const GPTConfig& config, std::string pooling_mode) : pooling(std::move(pooling_mode)) {
  if (pooling != "last" && pooling != "mean")
    throw std::runtime_error("pooling \"" + pooling + "\": expected last or mean");
  gpt = GPT(config);
  register_module("transformer", gpt->transformer);  // GPT-2 names, so backbone checkpoints load as is
  reward_head = register_module("reward_head", torch::nn::Linear(config.n_embd, 1));
  torch::NoGradGuard no_grad;
  reward_head->weight.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(config.n_embd + 1)));  // as Ziegler et al.
  reward_head->bias.zero_();
}

torch::Tensor RewardModelImpl::forward(const torch::Tensor& ids, const torch::Tensor& lengths,
                                       const torch::Tensor& response_starts) {
  ForwardOptions options;
  options.logits = false;
  auto hidden = gpt->forward(ids, options).hidden;                               // (B, T, C)
  torch::Tensor h;
  if (pooling == "mean") {
    auto positions = torch::arange(ids.size(1), lengths.options()).unsqueeze(0);  // (1, T)
    auto in_response = (positions >= response_starts.unsqueeze(1)) & (positions < lengths.unsqueeze(1));  // (B, T)
    auto weights = in_response.to(hidden.scalar_type()).unsqueeze(-1);          // (B, T, 1)
    h = (hidden * weights).sum(1) / weights.sum(1).clamp_min(1.0);              // (B, C)
  } else {
    auto last = (lengths - 1).view({-1, 1, 1}).expand({-1, 1, hidden.size(2)}); // (B, 1, C)
    h = hidden.gather(1, last).squeeze(1);                                      // (B, C)
  }
  return reward_head(h).squeeze(-1);                                            // (B)
}

RewardModel reward_model_from_checkpoint(const Checkpoint& checkpoint, torch::Device device, const std::string& source,
                                         const std::string& pooling) {
  const bool is_reward = checkpoint.info.value("kind", "") == "reward";
  RewardModel model(checkpoint.model, is_reward ? checkpoint.info.value("pooling", "last") : pooling);
  // A backbone checkpoint has no head: load the transformer only and keep the fresh head.
  load_state_dict(*model->gpt, checkpoint.weights, source, "", /*strict=*/false);
  if (is_reward) {
    load_state_dict(*model->reward_head, checkpoint.weights, source, "reward_head.", /*strict=*/true);
    model->normalization = checkpoint.info.value("normalization", RewardNormalization{});
  }
  model->to(device);
  model->eval();
  return model;
}

Checkpoint reward_checkpoint(const RewardModel& model, const Tokenizer& tokenizer, nlohmann::json info) {
  info["kind"] = "reward";
  info["normalization"] = model->normalization;
  info["pooling"] = model->pooling;
  return make_checkpoint(*model, model->gpt->config(), tokenizer, std::move(info));
}

ScoredSequence reward_input(const Tokenizer& tokenizer, const std::string& prompt, const std::string& response,
                            int64_t block_size) {
  ScoredSequence out;
  auto prompt_ids = tokenizer.encode(prompt);
  auto response_ids = tokenizer.encode(response);
  const int64_t min_prompt = std::min<int64_t>(static_cast<int64_t>(prompt_ids.size()), block_size / 4);
  const int64_t max_response = block_size - 1 - min_prompt;  // room for EOS
  if (static_cast<int64_t>(response_ids.size()) > max_response) {
    response_ids.resize(std::max<int64_t>(0, max_response));
    out.truncated = true;
  }
  const int64_t room = block_size - 1 - static_cast<int64_t>(response_ids.size());
  if (static_cast<int64_t>(prompt_ids.size()) > room) {
    prompt_ids.erase(prompt_ids.begin(), prompt_ids.end() - room);
    out.truncated = true;
  }
  out.response_start = static_cast<int64_t>(prompt_ids.size());
  out.ids = std::move(prompt_ids);
  out.ids.insert(out.ids.end(), response_ids.begin(), response_ids.end());
  out.ids.push_back(tokenizer.eot_id());
  return out;
}

PaddedSequences pad_sequences(const std::vector<const ScoredSequence*>& sequences, torch::Device device) {
  const int64_t B = static_cast<int64_t>(sequences.size());
  int64_t T = 1;
  for (const auto* s : sequences) T = std::max<int64_t>(T, static_cast<int64_t>(s->ids.size()));
  auto ids = torch::zeros({B, T}, torch::kLong);
  auto lengths = torch::zeros({B}, torch::kLong);
  auto starts = torch::zeros({B}, torch::kLong);
  auto ids_acc = ids.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = sequences[b]->ids;
    if (s.empty()) throw std::runtime_error("reward model: empty sequence");
    for (size_t t = 0; t < s.size(); ++t) ids_acc[b][t] = s[t];
    lengths[b] = static_cast<int64_t>(s.size());
    starts[b] = sequences[b]->response_start;
  }
  return {ids.to(device), lengths.to(device), starts.to(device)};
}

std::vector<double> score_texts(RewardModel& model, const Tokenizer& tokenizer,
                                const std::vector<std::pair<std::string, std::string>>& items, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const auto device = model->reward_head->weight.device();
  const int64_t block_size = model->gpt->config().block_size;
  std::vector<double> scores;
  for (size_t first = 0; first < items.size(); first += batch_size) {
    std::vector<ScoredSequence> inputs;
    for (size_t i = first; i < std::min(items.size(), first + batch_size); ++i)
      inputs.push_back(reward_input(tokenizer, items[i].first, items[i].second, block_size));
    std::vector<const ScoredSequence*> seqs;
    for (const auto& in : inputs) seqs.push_back(&in);
    auto batch = pad_sequences(seqs, device);
    auto raw = model->forward(batch.ids, batch.lengths, batch.response_starts);
    auto r = model->normalized(raw).to(torch::kCPU, torch::kDouble);
    scores.insert(scores.end(), r.data_ptr<double>(), r.data_ptr<double>() + r.numel());
  }
  return scores;
}

}  // namespace rlhf
