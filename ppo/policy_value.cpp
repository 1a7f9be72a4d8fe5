#include "ppo/policy_value.h"

#include <iostream>
#include <stdexcept>

#include "model/model_io.h"
#include "model/state_dict.h"
#include "ppo/losses.h"

namespace rlhf {

namespace {

// The LM head runs from the position that predicts the first response token: the prompt's other
// positions would cost a (P - 1) x V x C product (and its backward) that nothing reads.
ForwardOptions response_forward_options(const torch::Tensor& attention_mask, int64_t prompt_length) {
  ForwardOptions options;
  options.attention_mask = attention_mask;
  options.logits_from = prompt_length - 1;
  return options;
}

// (B, N + 1, V) logits from position P - 1 on -> the N that predict the response tokens.
torch::Tensor response_logits(const torch::Tensor& logits, int64_t response_length) {
  return logits.narrow(1, 0, response_length);                                        // (B, N, V)
}

torch::Tensor log_softmax_at(const torch::Tensor& logits, double temperature) {
  return torch::log_softmax(logits.to(torch::kFloat) / temperature, -1);              // (B, N, V)
}

torch::Tensor pick(const torch::Tensor& logp, const torch::Tensor& tokens) {
  return logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1);                           // (B, N)
}

}  // namespace

ValueModelImpl::ValueModelImpl(const std::optional<GPTConfig>& trunk_config, int64_t n_embd) {
  if (trunk_config) {
    gpt = GPT(*trunk_config);
    register_module("transformer", gpt->transformer);
  }
  head = register_module("head", torch::nn::Linear(n_embd, 1));
  torch::NoGradGuard no_grad;
  head->weight.zero_();
  head->bias.zero_();
}

void ValueModelImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (!gpt.is_empty()) gpt->train(on);
}

void PolicyValueImpl::train(bool on) {
  torch::nn::Module::train(on);
  policy->train(on);
}

PolicyValueImpl::PolicyValueImpl(const GPTConfig& policy_config, const std::optional<GPTConfig>& value_trunk_config,
                                 bool with_value) {
  policy = GPT(policy_config);
  register_module("transformer", policy->transformer);  // GPT-2 names: the checkpoint is a policy checkpoint
  if (!with_value) return;
  value = register_module("value", ValueModel(value_trunk_config,
                                              value_trunk_config ? value_trunk_config->n_embd : policy_config.n_embd));
}

ResponseEvaluation PolicyValueImpl::evaluate(const torch::Tensor& ids, const torch::Tensor& attention_mask,
                                             int64_t prompt_length, double temperature, bool with_entropy) {
  const int64_t N = ids.size(1) - prompt_length;
  auto out = policy->forward(ids, response_forward_options(attention_mask, prompt_length));  // logits (B, N + 1, V)
  auto logits = response_logits(out.logits, N);                                       // (B, N, V)
  auto tokens = ids.narrow(1, prompt_length, N);                                      // (B, N)
  ResponseEvaluation result;
  auto logp = log_softmax_at(logits, temperature);                                    // (B, N, V), once
  result.logprobs = pick(logp, tokens);
  if (with_entropy) result.entropy = entropy_from_logprobs(logp);                     // (B, N)
  if (!has_value()) return result;
  torch::Tensor hidden = out.hidden;                                                  // (B, T, C)
  if (!value->shared()) {
    ForwardOptions value_options;
    value_options.attention_mask = attention_mask;
    value_options.logits = false;
    hidden = value->gpt->forward(ids, value_options).hidden;
  }
  auto values = value->head(hidden.narrow(1, prompt_length - 1, N)).squeeze(-1);      // (B, N)
  result.values = values.to(torch::kFloat);
  return result;
}

torch::Tensor response_logprobs(GPT& model, const torch::Tensor& ids, const torch::Tensor& attention_mask,
                                int64_t prompt_length, double temperature) {
  const int64_t N = ids.size(1) - prompt_length;
  auto logits = response_logits(model->forward(ids, response_forward_options(attention_mask, prompt_length)).logits, N);
  return pick(log_softmax_at(logits, temperature), ids.narrow(1, prompt_length, N));
}

bool same_vocabulary(const Tokenizer& a, const Tokenizer& b) {
  if (a.vocab_size() != b.vocab_size()) return false;
  for (int64_t id = 0; id < a.vocab_size(); ++id)
    if (a.decode_token(static_cast<TokenId>(id)) != b.decode_token(static_cast<TokenId>(id))) return false;
  return true;
}

PolicyValue make_policy_value(const Checkpoint& policy_init, const Checkpoint* reward_init, bool shared_value,
                              torch::Device device) {
  // The value trunk reads the policy's token ids: a reward model over another vocabulary (which
  // the scorer handles, through text) cannot start it.
  if (reward_init && !shared_value && policy_init.tokenizer && reward_init->tokenizer &&
      !same_vocabulary(*policy_init.tokenizer, *reward_init->tokenizer)) {
    std::cerr << "ppo: the reward model's tokenizer is not the policy's: the value trunk starts from the policy, "
                 "with a zero head\n";
    reward_init = nullptr;
  }
  std::optional<GPTConfig> trunk;
  if (!shared_value) trunk = reward_init ? reward_init->model : policy_init.model;
  PolicyValue model(policy_init.model, trunk);
  load_state_dict(*model->policy, policy_init.weights, "policy", "", /*strict=*/false);
  if (!shared_value) load_state_dict(*model->value->gpt, reward_init ? reward_init->weights : policy_init.weights,
                                     reward_init ? "reward model" : "policy", "", /*strict=*/false);
  if (reward_init && !shared_value) {
    // value = gain * (w . h + b) + bias: the reward head with the reward's normalisation folded in
    const double gain = reward_init->info.value("normalization", nlohmann::json::object()).value("gain", 1.0);
    const double bias = reward_init->info.value("normalization", nlohmann::json::object()).value("bias", 0.0);
    torch::NoGradGuard no_grad;
    model->value->head->weight.copy_(reward_init->weights.at("reward_head.weight") * gain);
    model->value->head->bias.copy_(reward_init->weights.at("reward_head.bias") * gain + bias);
  }
  model->to(device);
  return model;
}

PolicyValue make_policy_only(const Checkpoint& policy_init, torch::Device device) {
  PolicyValue model(policy_init.model, std::nullopt, /*with_value=*/false);
  load_state_dict(*model->policy, policy_init.weights, "policy", "", /*strict=*/false);
  model->to(device);
  return model;
}

Checkpoint policy_value_checkpoint(const PolicyValue& model, const Tokenizer& tokenizer, nlohmann::json info) {
  info["kind"] = "policy";
  if (!model->has_value()) {
    info["value"] = {{"none", true}};
    return make_checkpoint(*model, model->policy->config(), tokenizer, std::move(info));
  }
  info["value"] = {{"shared", model->value->shared()}};
  if (!model->value->shared()) info["value"]["model"] = model->value->gpt->config();
  return make_checkpoint(*model, model->policy->config(), tokenizer, std::move(info));
}

PolicyValue policy_value_from_checkpoint(const Checkpoint& checkpoint, torch::Device device, const std::string& source) {
  if (checkpoint.info.value("kind", "") != "policy" || !checkpoint.info.contains("value"))
    throw std::runtime_error(source + ": not a PPO checkpoint (info.kind \"policy\" with info.value)");
  const bool with_value = !checkpoint.info["value"].value("none", false);
  std::optional<GPTConfig> trunk;
  if (with_value && !checkpoint.info["value"].value("shared", false))
    trunk = checkpoint.info["value"].at("model").get<GPTConfig>();
  PolicyValue model(checkpoint.model, trunk, with_value);
  load_state_dict(*model, checkpoint.weights, source, "", /*strict=*/true);
  model->to(device);
  return model;
}

}  // namespace rlhf
