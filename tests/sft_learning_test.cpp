// Short real runs on shipped data: pretraining must beat the unigram baseline, and SFT on real
// demonstrations must lower the held-out response loss of the model it starts from.
#include <gtest/gtest.h>

#include "pretrain/pretrain.h"
#include "sft/sft.h"
#include "sft_test_util.h"

namespace rlhf {
namespace {

TEST(SftLearning, PretrainBeatsUnigramThenSftLowersHeldOutLoss) {
  test::TempDir tmp;
  PretrainConfig pretrain = test::small_pretrain_config(tmp.path(), /*block_size=*/96, /*steps=*/200);
  pretrain.train.eval_every = 100;
  pretrain.eval_batches = 4;
  auto p = run_pretrain(pretrain, false);
  std::printf("pretrain: val loss %.3f, unigram %.3f, first train loss %.3f, %.0f tokens/s\n",
              p["val_loss"].get<double>(), p["unigram_val_loss"].get<double>(), p["train_loss_first"].get<double>(),
              p["tokens_per_s"].get<double>());
  EXPECT_LT(p["val_loss"].get<double>(), p["unigram_val_loss"].get<double>() - 0.3);
  EXPECT_LT(p["train_loss_last"].get<double>(), p["train_loss_first"].get<double>() - 1.0);

  SftConfig sft;
  sft.init_from = (tmp / "pretrain" / "best").string();
  sft.data.files = {test::project_file("data/sft/self-instruct/seed_tasks.jsonl").string(),
                    test::project_file("data/preference/hh-rlhf/harmless-base-test.jsonl.gz").string()};
  sft.train.max_steps = 60;
  sft.train.batch_size = 16;
  sft.train.lr = 1e-3;
  sft.train.min_lr = 1e-4;
  sft.train.warmup_steps = 6;
  sft.train.eval_every = 60;
  sft.out_dir = (tmp / "sft").string();
  sft.runtime.device = "cpu";
  auto s = run_sft(sft, false);
  std::printf("sft: held-out response loss %.3f -> %.3f\n", s["base_eval_loss"].get<double>(), s["eval_loss"].get<double>());
  EXPECT_LT(s["eval_loss"].get<double>(), s["base_eval_loss"].get<double>() - 0.2);
}

}  // namespace
}  // namespace rlhf
