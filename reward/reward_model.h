// The reward model: the GPT backbone plus a scalar head read at the last real token (the EOS that
// ends every scored sequence). Sequences are right-padded, so causal attention makes a score
// independent of padding. A normalisation (gain, bias) learnt after training is stored in the
// checkpoint and applied by every consumer through score().
#pragma once

#include <torch/torch.h>

#include <vector>

#include <nlohmann/json.hpp>

#include "model/checkpoint.h"
#include "model/gpt.h"
#include "text/tokenizer.h"

namespace rlhf {

struct RewardNormalization {
  double gain = 1.0;
  double bias = 0.0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RewardNormalization, gain, bias)

class RewardModelImpl : public torch::nn::Module {
 public:
  // pooling: "last" reads the hidden state of the last real token (the EOS); "mean" averages the
  // hidden states of the response tokens (EOS included), which generalises better for small
  // backbones that cannot summarise a whole response in one position.
  explicit RewardModelImpl(const GPTConfig& config, std::string pooling = "last");
  // ids (B, T) right-padded, lengths (B), response_starts (B): raw (unnormalised) rewards (B).
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& lengths, const torch::Tensor& response_starts);
  torch::Tensor normalized(const torch::Tensor& raw) const { return raw * normalization.gain + normalization.bias; }

  GPT gpt{nullptr};                 // forward only; its parameters are registered below as "transformer"
  torch::nn::Linear reward_head{nullptr};
  RewardNormalization normalization;
  std::string pooling;
};
TORCH_MODULE(RewardModel);

// A backbone checkpoint (any kind) -> reward model with a fresh head and the given pooling; a reward
// checkpoint -> the trained model with its pooling and normalisation.
RewardModel reward_model_from_checkpoint(const Checkpoint& checkpoint, torch::Device device, const std::string& source,
                                         const std::string& pooling = "last");
Checkpoint reward_checkpoint(const RewardModel& model, const Tokenizer& tokenizer, nlohmann::json info);

// prompt + response + <|endoftext|> as ids that fit block_size: the prompt loses tokens from the
// left, then (if the response alone is too long) the response from the right; EOS is always last.
struct ScoredSequence {
  std::vector<TokenId> ids;
  int64_t response_start = 0;  // ids[response_start:] are the response and the EOS
  bool truncated = false;
};
ScoredSequence reward_input(const Tokenizer& tokenizer, const std::string& prompt, const std::string& response,
                            int64_t block_size);

// Sequences right-padded into one batch on a device.
struct PaddedSequences {
  torch::Tensor ids;              // (B, T)
  torch::Tensor lengths;          // (B)
  torch::Tensor response_starts;  // (B)
};
PaddedSequences pad_sequences(const std::vector<const ScoredSequence*>& sequences, torch::Device device);

// Normalised rewards of (prompt, response) texts, in batches, without grad.
std::vector<double> score_texts(RewardModel& model, const Tokenizer& tokenizer,
                                const std::vector<std::pair<std::string, std::string>>& items, int64_t batch_size = 16);

}  // namespace rlhf
