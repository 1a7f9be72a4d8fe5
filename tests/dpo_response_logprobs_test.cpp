// Response log-probs: only the response tokens (and the EOS) count, padding changes nothing, and the
// value is the sum of log-softmax entries a direct computation gives.
#include <gtest/gtest.h>

#include "dpo/response_logprobs.h"
#include "model_test_util.h"

namespace rlhf {
namespace {

ScoredSequence sequence(std::vector<TokenId> ids, int64_t response_start) {
  ScoredSequence s;
  s.ids = std::move(ids);
  s.response_start = response_start;
  return s;
}

TEST(ResponseLogprobs, SumsLogSoftmaxOfTheResponseTokensOnly) {
  torch::NoGradGuard no_grad;
  GPT model = test::tiny_model();
  const auto s = sequence({5, 9, 2, 17, 3, 49}, 3);  // prompt 5 9 2, response 17 3 49
  auto lp = response_logprobs(model, pad_sequences({&s}, torch::kCPU));
  auto ids = torch::tensor(std::vector<int64_t>(s.ids.begin(), s.ids.end())).unsqueeze(0);  // (1, 6)
  auto logp = torch::log_softmax(model->forward(ids).logits, -1)[0];                       // (6, V)
  const double expected = logp[2][17].item<double>() + logp[3][3].item<double>() + logp[4][49].item<double>();
  EXPECT_NEAR(lp.sum[0].item<double>(), expected, 1e-5);
  EXPECT_EQ(lp.tokens[0].item<double>(), 3.0);
}

TEST(ResponseLogprobs, PaddingBesideALongerSequenceChangesNothing) {
  torch::NoGradGuard no_grad;
  GPT model = test::tiny_model();
  const auto short_one = sequence({5, 9, 2, 17}, 2), long_one = sequence({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 4);
  auto alone = response_logprobs(model, pad_sequences({&short_one}, torch::kCPU));
  auto batched = response_logprobs(model, pad_sequences({&short_one, &long_one}, torch::kCPU));
  EXPECT_NEAR(alone.sum[0].item<double>(), batched.sum[0].item<double>(), 1e-5);
  EXPECT_EQ(batched.tokens[0].item<double>(), 2.0);
  EXPECT_EQ(batched.tokens[1].item<double>(), 6.0);
}

TEST(ResponseLogprobs, GradientsFlowToTheModel) {
  GPT model = test::tiny_model();
  const auto s = sequence({5, 9, 2, 17}, 2);
  response_logprobs(model, pad_sequences({&s}, torch::kCPU)).sum.sum().backward();
  EXPECT_GT(model->transformer->wte->weight.grad().abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace rlhf
