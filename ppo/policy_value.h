// The models PPO trains: the policy (a GPT, parameters "transformer.*", so a PPO checkpoint is also a
// plain policy checkpoint for `rlhf generate` and evaluation) and the value function ("value.*"):
// either its own trunk initialised from the reward model, as InstructGPT did, or - to save memory -
// a head on the policy's trunk. RLOO and GRPO train the policy alone (no "value.*").
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "model/checkpoint.h"
#include "model/gpt.h"
#include "text/tokenizer.h"

namespace rlhf {

class ValueModelImpl : public torch::nn::Module {
 public:
  // trunk_config: the value trunk's architecture; nullopt reads the policy's hidden states instead.
  ValueModelImpl(const std::optional<GPTConfig>& trunk_config, int64_t n_embd);
  bool shared() const { return gpt.is_empty(); }
  // Also the unregistered GPT wrapper's flag (see PolicyValueImpl::train).
  void train(bool on = true) override;

  GPT gpt{nullptr};                // registered as "transformer" when the value has its own trunk
  torch::nn::Linear head{nullptr}; // hidden state -> value of that state
};
TORCH_MODULE(ValueModel);

// Log-probs, values and entropies of the response tokens of sequences laid out as
// [left-padded prompt (P)] [response (N), right-padded].
struct ResponseEvaluation {
  torch::Tensor logprobs;  // (B, N) log p(token | prefix) under softmax(logits / temperature)
  torch::Tensor values;    // (B, N) value of the state before each response token
  torch::Tensor entropy;   // (B, N) policy entropy at each response position (only when asked)
};

class PolicyValueImpl : public torch::nn::Module {
 public:
  // with_value false: the policy alone, no value function (value_trunk_config is then ignored).
  PolicyValueImpl(const GPTConfig& policy_config, const std::optional<GPTConfig>& value_trunk_config,
                  bool with_value = true);
  bool has_value() const { return !value.is_empty(); }
  // ids (B, P + N), attention_mask (B, P + N); response tokens are ids[:, P:]. Without a value
  // function `values` is left undefined.
  ResponseEvaluation evaluate(const torch::Tensor& ids, const torch::Tensor& attention_mask, int64_t prompt_length,
                              double temperature, bool with_entropy);
  // Only the policy's transformer is registered (GPT-2 names), so Module::train would leave the
  // GPT wrapper's own flag behind; generate() saves and restores that flag, and would put the
  // transformer back into training mode (dropout on) after sampling from a policy in eval mode.
  void train(bool on = true) override;

  GPT policy{nullptr};
  ValueModel value{nullptr};  // empty for the policy alone (RLOO, GRPO)
};
TORCH_MODULE(PolicyValue);

// Whether two tokenizers give every id the same bytes (and so the same embedding row its meaning).
bool same_vocabulary(const Tokenizer& a, const Tokenizer& b);

// Log-probs of the response tokens under a plain GPT (the frozen reference): (B, N).
torch::Tensor response_logprobs(GPT& model, const torch::Tensor& ids, const torch::Tensor& attention_mask,
                                int64_t prompt_length, double temperature);

// A new policy/value pair: the policy from `policy_init`; the value trunk and head from a reward
// checkpoint (its normalisation folded into the head, so the initial values are on the normalised
// reward's scale), or from the policy's trunk with a zero head when there is no reward model.
// shared_value puts the head on the policy's trunk instead. A reward model whose tokenizer is not the
// policy's cannot start the value trunk (it would read ids of another vocabulary): the value then
// starts from the policy, and a line on stderr says so.
PolicyValue make_policy_value(const Checkpoint& policy_init, const Checkpoint* reward_init, bool shared_value,
                              torch::Device device);

// The policy alone for the critic-free methods (RLOO, GRPO): a copy of `policy_init`.
PolicyValue make_policy_only(const Checkpoint& policy_init, torch::Device device);

// The PPO checkpoint: the policy's weights under GPT-2 names plus "value.*"; info.value records the
// value layout so that resume rebuilds it ({"none": true} for the policy alone, which has no "value.*").
Checkpoint policy_value_checkpoint(const PolicyValue& model, const Tokenizer& tokenizer, nlohmann::json info);
PolicyValue policy_value_from_checkpoint(const Checkpoint& checkpoint, torch::Device device, const std::string& source);

}  // namespace rlhf
