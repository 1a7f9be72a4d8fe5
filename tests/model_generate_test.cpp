// Generation: the KV cache gives what full recomputation gives, sampling is seeded, batching and
// left padding change nothing, filters and stops behave.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include "model/generate.h"
#include "model_test_util.h"

namespace rlhf {
namespace {

SamplingConfig sampling(uint64_t seed = 7) {
  SamplingConfig c;
  c.max_new_tokens = 12;
  c.temperature = 0.9;
  c.top_k = 20;
  c.top_p = 0.9;
  c.seed = seed;
  return c;
}

TEST(Generate, CachedSamplingEqualsFullRecomputation) {
  auto model = test::tiny_model(4);
  std::vector<std::vector<TokenId>> prompts = {{1, 2, 3, 4, 5}, {9, 8}, {30, 31, 32}};
  auto config = sampling();
  auto cached = generate(model, prompts, config, /*eos_id=*/-1);
  config.use_cache = false;
  auto full = generate(model, prompts, config, /*eos_id=*/-1);
  EXPECT_TRUE(torch::equal(cached.tokens, full.tokens));
  EXPECT_LT(test::max_abs_diff(cached.logprobs, full.logprobs), 1e-5);
}

TEST(Generate, SameSeedSameTokensOtherSeedOtherTokens) {
  auto model = test::tiny_model(5);
  auto a = generate(model, {{1, 2, 3}}, sampling(1), -1);
  auto b = generate(model, {{1, 2, 3}}, sampling(1), -1);
  auto c = generate(model, {{1, 2, 3}}, sampling(2), -1);
  EXPECT_TRUE(torch::equal(a.tokens, b.tokens));
  EXPECT_FALSE(torch::equal(a.tokens, c.tokens));
}

TEST(Generate, GreedyBatchWithLeftPaddingEqualsOnePromptAtATime) {
  auto model = test::tiny_model(6);
  SamplingConfig config;
  config.greedy = true;
  config.max_new_tokens = 10;
  std::vector<std::vector<TokenId>> prompts = {{1, 2, 3, 4, 5, 6, 7}, {9}, {20, 21, 22}};
  auto batch = generate(model, prompts, config, -1);
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto alone = generate(model, {prompts[i]}, config, -1);
    EXPECT_EQ(batch.row_tokens(i), alone.row_tokens(0)) << "prompt " << i;
    EXPECT_LT(test::max_abs_diff(batch.logprobs[i], alone.logprobs[0]), 1e-5);
  }
}

TEST(Generate, LogprobsAreThoseOfTheModelDistribution) {
  auto model = test::tiny_model(7);
  SamplingConfig config;
  config.greedy = true;
  config.max_new_tokens = 3;
  auto out = generate(model, {{4, 5}}, config, -1);
  torch::NoGradGuard no_grad;
  auto seq = torch::tensor(std::vector<int64_t>{4, 5, out.tokens[0][0].item<int64_t>(), out.tokens[0][1].item<int64_t>()}).unsqueeze(0);
  auto logp = model->forward(seq).logits.log_softmax(-1);                    // (1, 4, V)
  for (int i = 0; i < 2; ++i)
    EXPECT_NEAR(out.logprobs[0][i].item<double>(), logp[0][1 + i][out.tokens[0][i]].item<double>(), 1e-5);
}

TEST(Generate, LogprobsAtATemperatureAreThoseOfTheScaledDistribution) {
  auto model = test::tiny_model(8);
  SamplingConfig config;
  config.temperature = 0.7;
  config.top_k = 0;
  config.max_new_tokens = 3;
  auto out = generate(model, {{4, 5}, {6, 7}}, config, -1);                  // equal lengths: no mask
  torch::NoGradGuard no_grad;
  auto seq = torch::cat({torch::tensor({{4, 5}, {6, 7}}, torch::kLong), out.tokens.narrow(1, 0, 2)}, 1);  // (2, 4)
  auto logp = (model->forward(seq).logits / 0.7).log_softmax(-1);            // (2, 4, V)
  for (int b = 0; b < 2; ++b)
    for (int i = 0; i < 2; ++i)
      EXPECT_NEAR(out.logprobs[b][i].item<double>(), logp[b][1 + i][out.tokens[b][i]].item<double>(), 1e-5);
}

TEST(Generate, StopsAtEosAndMasksTheRest) {
  auto model = test::tiny_model(8);
  SamplingConfig config;
  config.greedy = true;
  config.max_new_tokens = 8;
  auto free_run = generate(model, {{1, 2}}, config, -1);
  TokenId eos = free_run.tokens[0][2].item<int64_t>();                    // pretend the 3rd token is EOS
  auto out = generate(model, {{1, 2}}, config, eos);
  int64_t first_eos = 0;
  while (out.tokens[0][first_eos].item<int64_t>() != eos) ++first_eos;
  EXPECT_LE(first_eos, 2);
  EXPECT_TRUE(out.finished[0]);
  EXPECT_EQ(out.mask[0].sum().item<int64_t>(), first_eos + 1);           // the EOS itself counts
  EXPECT_EQ(out.logprobs[0].narrow(0, first_eos + 1, 8 - first_eos - 1).abs().sum().item<double>(), 0.0);
}

TEST(Generate, TopKOneIsGreedy) {
  auto model = test::tiny_model(9);
  SamplingConfig greedy;
  greedy.greedy = true;
  greedy.max_new_tokens = 8;
  auto config = sampling(3);
  config.top_k = 1;
  config.temperature = 1.0;
  config.max_new_tokens = greedy.max_new_tokens;
  EXPECT_TRUE(torch::equal(generate(model, {{3, 4}}, greedy, -1).tokens, generate(model, {{3, 4}}, config, -1).tokens));
}

TEST(Generate, TopPKeepsOnlyTheNucleus) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
  // Probabilities 0.5, 0.3, 0.15, 0.05: top_p 0.7 keeps the first two tokens only.
  auto logits = torch::tensor({0.5f, 0.3f, 0.15f, 0.05f}).log().unsqueeze(0).repeat({2000, 1});
  SamplingConfig config;
  config.top_p = 0.7;
  auto [ids, logprobs] = sample_next(logits, config, gen);
  EXPECT_EQ(ids.max().item<int64_t>(), 1);
  double share0 = (ids == 0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(share0, 0.5 / 0.8, 0.04);
}

TEST(Generate, PromptTooLongForBlockSizeIsAClearError) {
  auto model = test::tiny_model();
  SamplingConfig config;
  config.max_new_tokens = 30;
  EXPECT_THROW(generate(model, {{1, 2, 3}}, config, -1), std::runtime_error);
}

TEST(Generate, RestoresTrainingMode) {
  auto model = test::tiny_model();
  model->train();
  SamplingConfig config;
  config.max_new_tokens = 2;
  generate(model, {{1}}, config, -1);
  EXPECT_TRUE(model->is_training());
}

}  // namespace
}  // namespace rlhf
