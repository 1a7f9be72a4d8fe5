// ppo/policy_value: the policy keeps the mode it is put in across sampling, and a reward model over
// another vocabulary does not start the value trunk.
#include <gtest/gtest.h>

#include "model/generate.h"
#include "model/model_io.h"
#include "ppo/policy_value.h"
#include "ppo_test_util.h"
#include "text/bpe_trainer.h"

namespace rlhf {
namespace {

bool any_in_training(const torch::nn::Module& m) {
  if (m.is_training()) return true;
  for (const auto& child : m.modules(/*include_self=*/false))
    if (child->is_training()) return true;
  return false;
}

TEST(PolicyValue, SamplingLeavesAPolicyInEvalModeInEvalMode) {
  test::TempDir tmp;
  test::write_tiny_checkpoint(tmp / "sft", 64);
  auto sft = load_checkpoint(tmp / "sft");
  PolicyValue model = make_policy_value(sft, nullptr, /*shared_value=*/false, torch::kCPU);
  model->eval();
  ASSERT_FALSE(any_in_training(*model));
  SamplingConfig sampling;
  sampling.max_new_tokens = 4;
  generate(model->policy, {{1, 2, 3}}, sampling, /*eos_id=*/-1);
  EXPECT_FALSE(any_in_training(*model)) << "generate() put the policy back into training mode";
  EXPECT_FALSE(any_in_training(*model->policy));
  model->train();
  EXPECT_TRUE(model->policy->is_training());
  EXPECT_TRUE(model->policy->transformer->is_training());
  EXPECT_TRUE(model->value->gpt->is_training());
}

TEST(PolicyValue, ARewardModelOverAnotherVocabularyDoesNotStartTheValueTrunk) {
  test::TempDir tmp;
  test::write_tiny_checkpoint(tmp / "sft", 64);
  auto sft = load_checkpoint(tmp / "sft");
  // A reward model on its own tokenizer (trained on another text, so other ids mean other bytes).
  const Tokenizer other = train_bpe({test::project_file("data/corpus/austen/persuasion.txt")}, {300, 2});
  GPTConfig config = sft.model;
  config.vocab_size = other.vocab_size();
  torch::manual_seed(5);
  GPT trunk(config);
  save_checkpoint(tmp / "gpt_other", make_checkpoint(trunk, other));
  auto base = load_checkpoint(tmp / "gpt_other");
  auto rm = reward_model_from_checkpoint(base, torch::kCPU, "gpt_other");
  save_checkpoint(tmp / "rm_other", reward_checkpoint(rm, other, {}));
  auto reward = load_checkpoint(tmp / "rm_other");
  ASSERT_FALSE(same_vocabulary(*sft.tokenizer, *reward.tokenizer));

  PolicyValue model = make_policy_value(sft, &reward, /*shared_value=*/false, torch::kCPU);
  auto& value = model->value;
  EXPECT_EQ(value->gpt->config().vocab_size, sft.model.vocab_size);
  EXPECT_TRUE(torch::equal(value->gpt->transformer->wte->weight, sft.weights.at("transformer.wte.weight")));
  EXPECT_EQ(value->head->weight.abs().sum().item<double>(), 0.0);
  // And it evaluates the policy's ids without an index error.
  auto ids = torch::randint(0, sft.model.vocab_size, {2, 10}, torch::kLong);
  torch::NoGradGuard no_grad;
  auto out = model->evaluate(ids, torch::ones({2, 10}, torch::kLong), 6, 1.0, false);
  EXPECT_EQ(out.values.sizes(), (std::vector<int64_t>{2, 4}));
}

TEST(PolicyValue, ARewardModelOverTheSameVocabularyStartsTheValueTrunk) {
  test::TempDir tmp;
  test::write_tiny_checkpoint(tmp / "sft", 64);
  test::write_tiny_reward_checkpoint(tmp / "sft", tmp / "rm");
  auto sft = load_checkpoint(tmp / "sft");
  auto reward = load_checkpoint(tmp / "rm");
  EXPECT_TRUE(same_vocabulary(*sft.tokenizer, *reward.tokenizer));
  PolicyValue model = make_policy_value(sft, &reward, /*shared_value=*/false, torch::kCPU);
  EXPECT_NE(model->value->head->weight.abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace rlhf
