#include "ppo/rollout.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "ppo/advantages.h"
#include "ppo/group_advantages.h"
#include "ppo/kl.h"

namespace rlhf {

int64_t Rollout::response_tokens_total() const {
  int64_t total = 0;
  for (const auto& t : response_tokens) total += static_cast<int64_t>(t.size());
  return total;
}

Rollout sample_rollout(GPT& policy, const std::vector<std::string>& prompts,
                       const std::vector<std::vector<TokenId>>& prompt_ids, const SamplingConfig& sampling,
                       const Tokenizer& tokenizer, int64_t chunk) {
  Rollout r;
  r.prompts = prompts;
  const TokenId eos = tokenizer.eot_id();
  for (size_t first = 0; first < prompts.size(); first += chunk) {
    const size_t last = std::min(prompts.size(), first + static_cast<size_t>(chunk));
    std::vector<std::vector<TokenId>> batch(prompt_ids.begin() + first, prompt_ids.begin() + last);
    SamplingConfig config = sampling;
    config.seed = sampling.seed + first;  // each chunk its own stream, reproducible
    Generation g = generate(policy, batch, config, eos, &tokenizer);
    for (int64_t b = 0; b < static_cast<int64_t>(batch.size()); ++b) {
      r.response_tokens.push_back(g.row_tokens(b));
      r.responses.push_back(g.texts[b]);
      r.finished.push_back(g.finished[b]);
    }
  }
  // One layout for the whole rollout: [pad ... prompt][response ... pad].
  const int64_t B = r.size();
  int64_t P = 1, N = 1;
  for (int64_t b = 0; b < B; ++b) {
    P = std::max<int64_t>(P, static_cast<int64_t>(prompt_ids[b].size()));
    N = std::max<int64_t>(N, static_cast<int64_t>(r.response_tokens[b].size()));
  }
  r.prompt_length = P;
  r.ids = torch::full({B, P + N}, static_cast<int64_t>(eos), torch::kLong);     // (B, P + N)
  r.attention_mask = torch::zeros({B, P + N}, torch::kLong);
  r.mask = torch::zeros({B, N}, torch::kFloat);                                 // (B, N)
  auto ids = r.ids.accessor<int64_t, 2>();
  auto attention = r.attention_mask.accessor<int64_t, 2>();
  auto mask = r.mask.accessor<float, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompt_ids[b];
    const auto& t = r.response_tokens[b];
    const int64_t offset = P - static_cast<int64_t>(p.size());
    for (size_t i = 0; i < p.size(); ++i) {
      ids[b][offset + i] = p[i];
      attention[b][offset + i] = 1;
    }
    for (size_t i = 0; i < t.size(); ++i) {
      ids[b][P + i] = t[i];
      attention[b][P + i] = 1;
      mask[b][i] = 1.0f;
    }
  }
  const auto device = policy->transformer->wte->weight.device();
  r.ids = r.ids.to(device);
  r.attention_mask = r.attention_mask.to(device);
  r.mask = r.mask.to(device);
  return r;
}

torch::Tensor take_rows(const torch::Tensor& tensor, const torch::Tensor& rows) {
  return tensor.index_select(0, rows.to(tensor.device()));
}

void evaluate_rollout(Rollout& rollout, PolicyValue& model, GPT& reference, double temperature, int64_t chunk) {
  torch::NoGradGuard no_grad;
  model->eval();
  std::vector<torch::Tensor> logprobs, values, ref_logprobs;
  const int64_t B = rollout.size();
  for (int64_t first = 0; first < B; first += chunk) {
    const int64_t n = std::min(chunk, B - first);
    auto ids = rollout.ids.narrow(0, first, n);
    auto attention = rollout.attention_mask.narrow(0, first, n);
    auto out = model->evaluate(ids, attention, rollout.prompt_length, temperature, /*with_entropy=*/false);
    logprobs.push_back(out.logprobs);
    if (model->has_value()) values.push_back(out.values);
    ref_logprobs.push_back(response_logprobs(reference, ids, attention, rollout.prompt_length, temperature));
  }
  rollout.logprobs = torch::cat(logprobs) * rollout.mask;                       // (B, N)
  if (!values.empty()) rollout.values = torch::cat(values) * rollout.mask;
  rollout.ref_logprobs = torch::cat(ref_logprobs) * rollout.mask;
}

namespace {

// Fills scores (raw * score_scale, clipped, minus the missing-EOS penalty) and kl (B, N).
void score_and_kl(Rollout& rollout, const torch::Tensor& raw_scores, const RewardShaping& shaping) {
  const auto device = rollout.mask.device();
  auto scores = raw_scores.to(device, torch::kFloat) * shaping.score_scale;     // (B)
  if (shaping.score_clip > 0) scores = scores.clamp(-shaping.score_clip, shaping.score_clip);
  if (shaping.missing_eos_penalty != 0) {
    std::vector<float> unfinished;
    for (bool f : rollout.finished) unfinished.push_back(f ? 0.0f : 1.0f);
    // After the clip, so that a clipped score still pays for the truncation.
    scores = scores - shaping.missing_eos_penalty * torch::tensor(unfinished).to(device);
  }
  rollout.scores = scores;
  rollout.kl = kl_estimate(rollout.logprobs, rollout.ref_logprobs, shaping.kl_estimator) * rollout.mask;  // (B, N)
}

// rewards (B, N): -beta * kl per token (none when beta is 0 here), plus the score at each
// response's last real token, where it arrives.
void place_rewards(Rollout& rollout, double beta) {
  rollout.rewards = -beta * rollout.kl;
  auto last = (rollout.mask.sum(1) - 1).clamp_min(0).to(torch::kLong);         // (B)
  rollout.rewards.scatter_add_(1, last.unsqueeze(1), rollout.scores.unsqueeze(1));
}

torch::Tensor maybe_whiten(const torch::Tensor& advantages, const torch::Tensor& mask, const RewardShaping& shaping) {
  if (!shaping.whiten_advantages) return advantages;
  if (shaping.across_ranks) return masked_whiten(advantages, mask, *shaping.across_ranks);
  return masked_whiten(advantages, mask);
}

}  // namespace

void shape_rewards(Rollout& rollout, const torch::Tensor& raw_scores, const RewardShaping& shaping) {
  torch::NoGradGuard no_grad;
  score_and_kl(rollout, raw_scores, shaping);
  place_rewards(rollout, shaping.beta);
  auto gae = compute_gae(rollout.rewards, rollout.values, rollout.mask, shaping.gamma, shaping.lambda);
  rollout.returns = gae.returns;
  rollout.advantages = maybe_whiten(gae.advantages, rollout.mask, shaping);
}

void shape_group_rewards(Rollout& rollout, const torch::Tensor& raw_scores, const RewardShaping& shaping,
                         const GroupShaping& group) {
  torch::NoGradGuard no_grad;
  const int64_t k = group.samples_per_prompt;
  if (k < 2 || rollout.size() % k != 0)
    throw std::invalid_argument("samples_per_prompt " + std::to_string(k) + ": the rollout's " +
                                std::to_string(rollout.size()) + " responses are not whole groups of k >= 2");
  score_and_kl(rollout, raw_scores, shaping);
  place_rewards(rollout, group.kl_in_loss ? 0.0 : shaping.beta);
  rollout.sequence_returns = sequence_returns(rollout.scores, rollout.kl, shaping.beta, !group.kl_in_loss);  // (B)
  // In double: the mean of k equal floats is then exactly each of them, so a group whose responses
  // all returned the same gets advantages of exactly 0.
  auto returns = rollout.sequence_returns.to(torch::kDouble).view({-1, k});                                 // (P, k)
  auto advantages = group_advantages(group.algorithm, returns).reshape({-1}).to(torch::kFloat);              // (B)
  rollout.advantages = maybe_whiten(advantages.unsqueeze(1) * rollout.mask, rollout.mask, shaping);        // (B, N)
}

}  // namespace rlhf
