// Continuation log-likelihoods equal a direct computation from the logits, whatever the batch
// companions and however the context is cut to fit; held-out loss equals the model's own loss.
#include <gtest/gtest.h>

#include "eval/likelihood.h"
#include "sft_test_util.h"

namespace rlhf {
namespace {

double direct_logprob(GPT& model, const Tokenizer& tok, const std::string& context, const std::string& continuation) {
  auto ctx = tok.encode(context), cont = tok.encode(continuation);
  std::vector<int64_t> ids(ctx.begin(), ctx.end());
  ids.insert(ids.end(), cont.begin(), cont.end());
  torch::NoGradGuard no_grad;
  auto logp = torch::log_softmax(model->forward(torch::tensor(ids).unsqueeze(0)).logits, -1)[0];  // (T, V)
  double total = 0.0;
  for (size_t i = 0; i < cont.size(); ++i) total += logp[ctx.size() + i - 1][cont[i]].item<double>();
  return total;
}

GPT tiny_gpt() {
  GPTConfig config = test::tiny_config();
  config.vocab_size = test::constitution_tokenizer().vocab_size();
  config.block_size = 48;
  torch::manual_seed(4);
  GPT model(config);
  model->eval();
  return model;
}

TEST(EvalLikelihood, ContinuationLogprobsMatchTheLogitsAndIgnoreBatchCompanions) {
  auto model = tiny_gpt();
  const auto& tok = test::constitution_tokenizer();
  std::vector<std::pair<std::string, std::string>> items = {
      {"Q: Who makes the laws?\nA:", " Congress."},
      {"Q: How long is a term?\nA:", " Six years, and each Senator shall have one vote."},
      {"Q: Hi\nA:", " Hello."}};
  auto batched = continuation_logprobs(model, tok, items, 3);
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_NEAR(batched[i].logprob, direct_logprob(model, tok, items[i].first, items[i].second), 1e-4) << i;
    EXPECT_EQ(batched[i].tokens, static_cast<int64_t>(tok.encode(items[i].second).size()));
    EXPECT_NEAR(continuation_logprobs(model, tok, {items[i]}, 1)[0].logprob, batched[i].logprob, 1e-4);
  }
}

TEST(EvalLikelihood, LongContextsKeepTheirEnd) {
  auto model = tiny_gpt();
  const auto& tok = test::constitution_tokenizer();
  std::string long_context;
  for (int i = 0; i < 30; ++i) long_context += "the United States ";
  auto cut = continuation_logprobs(model, tok, {{long_context + "Q: Who?\nA:", " Congress."}})[0];
  // The same as scoring with only the context's last tokens that fit the 48-token window.
  auto ctx = tok.encode(long_context + "Q: Who?\nA:");
  const auto cont = tok.encode(" Congress.");
  ctx.erase(ctx.begin(), ctx.end() - (48 - static_cast<int64_t>(cont.size())));
  EXPECT_NEAR(cut.logprob, direct_logprob(model, tok, tok.decode(ctx), " Congress."), 1e-3);
}

TEST(EvalLikelihood, MeanTokenLossIsTheModelLossOverWindows) {
  auto model = tiny_gpt();
  std::vector<TokenId> tokens;
  for (int i = 0; i < 48 * 3 + 1; ++i) tokens.push_back(static_cast<TokenId>((i * 37) % 300));
  const double loss = mean_token_loss(model, tokens, 48 * 3, 2);
  torch::NoGradGuard no_grad;
  auto all = torch::tensor(std::vector<int64_t>(tokens.begin(), tokens.end()));
  auto x = all.narrow(0, 0, 144).view({3, 48}), y = all.narrow(0, 1, 144).view({3, 48});
  EXPECT_NEAR(loss, model->loss(model->forward(x).logits, y).item<double>(), 1e-5);
  EXPECT_THROW(mean_token_loss(model, std::vector<TokenId>(10, 1), 1000), std::runtime_error);
}

}  // namespace
}  // namespace rlhf
