// Reward shaping against hand-computed values: the score's scale, clip and missing-EOS penalty
// (TRL's sign: subtracted), the per-token KL penalty and where the score lands.
#include <gtest/gtest.h>

#include "ppo/rollout.h"

namespace rlhf {
namespace {

// Row 0 ended with EOS after two tokens; row 1 hit max_new_tokens (three tokens, no EOS). Every
// real token has log-prob -1 under the policy and -1.5 under the reference: k1 = 0.5 per token.
Rollout two_responses() {
  Rollout r;
  r.prompts = {"a", "b"};
  r.finished = {true, false};
  r.mask = torch::tensor({1.0f, 1.0f, 0.0f, 1.0f, 1.0f, 1.0f}).view({2, 3});  // (B, N)
  r.logprobs = -1.0f * r.mask;
  r.ref_logprobs = -1.5f * r.mask;
  r.values = torch::zeros({2, 3});
  return r;
}

RewardShaping shaping(double score_scale, double score_clip, double missing_eos_penalty) {
  RewardShaping s;
  s.beta = 0.1;
  s.score_scale = score_scale;
  s.score_clip = score_clip;
  s.missing_eos_penalty = missing_eos_penalty;
  s.whiten_advantages = false;
  return s;
}

void expect_close(const torch::Tensor& actual, const torch::Tensor& expected) {
  EXPECT_TRUE(torch::allclose(actual, expected, 0, 1e-6)) << actual << "\nexpected\n" << expected;
}

TEST(PpoRollout, AMissingEosPenaltyIsSubtractedFromTheTruncatedResponsesScoreOnly) {
  Rollout r = two_responses();
  shape_rewards(r, torch::tensor({2.0f, -1.0f}), shaping(1.0, 0.0, 1.0));
  expect_close(r.scores, torch::tensor({2.0f, -2.0f}));
  // -beta * kl = -0.05 on every real token; the score arrives with the last real token.
  expect_close(r.rewards, torch::tensor({-0.05f, 1.95f, 0.0f, -0.05f, -0.05f, -2.05f}).view({2, 3}));
}

TEST(PpoRollout, TheScoreIsScaledThenClippedThenPenalised) {
  Rollout r = two_responses();
  // 2 * 0.5 = 1 clipped to 0.75; -1 * 0.5 = -0.5 inside the clip, then -1 for the missing EOS.
  shape_rewards(r, torch::tensor({2.0f, -1.0f}), shaping(0.5, 0.75, 1.0));
  expect_close(r.scores, torch::tensor({0.75f, -1.5f}));
  expect_close(r.rewards, torch::tensor({-0.05f, 0.7f, 0.0f, -0.05f, -0.05f, -1.55f}).view({2, 3}));
}

TEST(PpoRollout, WithoutScaleClipOrPenaltyTheRawScoreIsTheScore) {
  Rollout r = two_responses();
  shape_rewards(r, torch::tensor({2.0f, -1.0f}), shaping(1.0, 0.0, 0.0));
  expect_close(r.scores, torch::tensor({2.0f, -1.0f}));
}

}  // namespace
}  // namespace rlhf
