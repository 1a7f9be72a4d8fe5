// Native checkpoints: round trips (weights, tokenizer, trainer state, optimizer), atomic replacement,
// and clear errors for truncated, foreign and wrong-version directories.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "model/checkpoint.h"
#include "model/hf_gpt2.h"
#include "model/model_io.h"
#include "model/state_dict.h"
#include "text/bpe_trainer.h"
#include "model_test_util.h"

namespace rlhf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

const Tokenizer& small_tokenizer() {
  static const Tokenizer tokenizer = train_bpe({test::project_file("data/corpus/us_constitution.txt")}, {300, 2});
  return tokenizer;
}

Checkpoint tiny_checkpoint() {
  auto model = test::tiny_model(11);
  return make_checkpoint(model, small_tokenizer(), {{"stage", "test"}});
}

TEST(Checkpoint, RoundTripKeepsWeightsConfigTokenizerAndInfo) {
  test::TempDir tmp;
  auto saved = tiny_checkpoint();
  saved.trainer_state = {{"step", 42}};
  save_checkpoint(tmp / "ckpt", saved);
  auto loaded = load_checkpoint(tmp / "ckpt");
  EXPECT_EQ(json(loaded.model), json(saved.model));
  EXPECT_EQ(loaded.info["stage"], "test");
  EXPECT_EQ(loaded.trainer_state["step"], 42);
  ASSERT_TRUE(loaded.tokenizer.has_value());
  EXPECT_EQ(loaded.tokenizer->vocab_size(), 300);
  EXPECT_EQ(loaded.tokenizer->encode("We the People"), small_tokenizer().encode("We the People"));
  ASSERT_EQ(loaded.weights.size(), saved.weights.size());
  for (const auto& [name, tensor] : saved.weights) EXPECT_TRUE(torch::equal(tensor, loaded.weights.at(name))) << name;

  auto model = build_gpt(loaded, torch::kCPU, "ckpt");
  auto original = build_gpt(saved, torch::kCPU, "saved");
  torch::NoGradGuard no_grad;
  auto ids = torch::randint(0, 50, {1, 6}, torch::kLong);
  EXPECT_TRUE(torch::equal(model->forward(ids).logits, original->forward(ids).logits));
}

TEST(Checkpoint, APackedCheckpointHasHalfWeightsNoTrainerStateAndTheSameModel) {
  test::TempDir tmp;
  auto trained = tiny_checkpoint();
  trained.trainer_state = {{"step", 42}};
  save_checkpoint(tmp / "packed", release_checkpoint(trained, torch::kFloat16));
  EXPECT_FALSE(fs::exists(tmp / "packed" / "trainer_state.json"));
  auto loaded = load_checkpoint(tmp / "packed");
  EXPECT_TRUE(loaded.trainer_state.is_null());
  EXPECT_EQ(loaded.info["released_dtype"], "Half");
  EXPECT_EQ(loaded.info["stage"], "test");
  for (const auto& [name, tensor] : loaded.weights) EXPECT_EQ(tensor.scalar_type(), torch::kFloat16) << name;

  auto model = build_gpt(loaded, torch::kCPU, "packed");
  auto original = build_gpt(trained, torch::kCPU, "trained");
  for (const auto& p : model->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat32);  // cast back on load
  torch::NoGradGuard no_grad;
  auto ids = torch::randint(0, 50, {1, 6}, torch::kLong);
  const double diff = test::max_abs_diff(model->forward(ids).logits, original->forward(ids).logits);
  EXPECT_GT(diff, 0.0);   // the weights were rounded
  EXPECT_LT(diff, 1e-2);  // to fp16's precision, not changed
}

TEST(Checkpoint, OptimizerStateRoundTripGivesTheSameNextStep) {
  test::TempDir tmp;
  auto run_steps = [](GPT& model, torch::optim::AdamW& opt, int steps) {
    for (int i = 0; i < steps; ++i) {
      torch::manual_seed(100 + i);
      auto ids = torch::randint(0, 50, {2, 8}, torch::kLong);
      opt.zero_grad();
      auto logits = model->forward(ids).logits;
      model->loss(logits.narrow(1, 0, 7), ids.narrow(1, 1, 7)).backward();
      opt.step();
    }
  };
  auto model = test::tiny_model(12);
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-2));
  run_steps(model, opt, 2);
  save_checkpoint(tmp / "ckpt", make_checkpoint(model, std::nullopt), &opt);
  run_steps(model, opt, 1);  // the uninterrupted run

  auto loaded = load_checkpoint(tmp / "ckpt");
  auto resumed = build_gpt(loaded, torch::kCPU, "ckpt");
  torch::optim::AdamW resumed_opt(resumed->parameters(), torch::optim::AdamWOptions(1e-2));
  ASSERT_TRUE(has_optimizer_state(tmp / "ckpt"));
  load_optimizer_state(tmp / "ckpt", resumed_opt);
  run_steps(resumed, resumed_opt, 1);
  auto a = state_dict(*model), b = state_dict(*resumed);
  for (const auto& [name, tensor] : a) EXPECT_LT(test::max_abs_diff(tensor, b.at(name)), 1e-7) << name;
}

TEST(Checkpoint, SavingOverAnExistingCheckpointReplacesItAndLeavesNoTemporaries) {
  test::TempDir tmp;
  auto first = tiny_checkpoint();
  first.info["n"] = 1;
  save_checkpoint(tmp / "ckpt", first);
  auto second = tiny_checkpoint();
  second.info["n"] = 2;
  save_checkpoint(tmp / "ckpt", second);
  EXPECT_EQ(load_checkpoint(tmp / "ckpt").info["n"], 2);
  EXPECT_FALSE(fs::exists(tmp / "ckpt.tmp"));
  EXPECT_FALSE(fs::exists(tmp / "ckpt.old"));
}

TEST(Checkpoint, InterruptedReplacementFallsBackToThePreviousCheckpoint) {
  test::TempDir tmp;
  save_checkpoint(tmp / "ckpt", tiny_checkpoint());
  fs::rename(tmp / "ckpt", tmp / "ckpt.old");  // as if killed between the two renames
  EXPECT_TRUE(is_native_checkpoint(tmp / "ckpt"));
  EXPECT_EQ(load_checkpoint(tmp / "ckpt").info["stage"], "test");
}

TEST(Checkpoint, TruncatedWeightsAreAClearError) {
  test::TempDir tmp;
  save_checkpoint(tmp / "ckpt", tiny_checkpoint());
  auto path = tmp / "ckpt" / "model.safetensors";
  fs::resize_file(path, fs::file_size(path) - 100);
  auto error = error_of([&] { load_checkpoint(tmp / "ckpt"); });
  EXPECT_NE(error.find("model.safetensors"), std::string::npos) << error;
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
}

TEST(Checkpoint, ForeignDirectoryIsRejectedWithAHint) {
  auto error = error_of([&] { load_checkpoint(test::test_data("hf-gpt2-tiny")); });
  EXPECT_NE(error.find("not an rlhf checkpoint"), std::string::npos) << error;
  EXPECT_NE(error.find("import-hf"), std::string::npos) << error;
}

TEST(Checkpoint, WrongFormatVersionIsRejected) {
  test::TempDir tmp;
  save_checkpoint(tmp / "ckpt", tiny_checkpoint());
  auto config = json::parse(read_file(tmp / "ckpt" / "config.json"));
  config["format_version"] = 99;
  write_file_atomic(tmp / "ckpt" / "config.json", config.dump());
  auto error = error_of([&] { load_checkpoint(tmp / "ckpt"); });
  EXPECT_NE(error.find("format_version 99"), std::string::npos) << error;
}

TEST(Checkpoint, MissingDirectoryAndMissingConfigAreClearErrors) {
  test::TempDir tmp;
  EXPECT_NE(error_of([&] { load_checkpoint(tmp / "nope"); }).find("no such directory"), std::string::npos);
  fs::create_directories(tmp / "empty");
  EXPECT_NE(error_of([&] { load_checkpoint(tmp / "empty"); }).find("config.json is missing"), std::string::npos);
  EXPECT_NE(error_of([&] { load_any_checkpoint(tmp / "empty"); }).find("neither"), std::string::npos);
}

TEST(Checkpoint, WeightsOfTheWrongShapeNameTheTensor) {
  auto checkpoint = tiny_checkpoint();
  checkpoint.weights["transformer.wpe.weight"] = torch::zeros({3, 3});
  auto error = error_of([&] { build_gpt(checkpoint, torch::kCPU, "bad"); });
  EXPECT_NE(error.find("transformer.wpe.weight"), std::string::npos) << error;
}

TEST(HfInterop, ExportThenImportGivesTheSameModel) {
  test::TempDir tmp;
  auto original = import_hf_gpt2(test::test_data("hf-gpt2-tiny"));
  export_hf_gpt2(original, tmp / "hf");
  EXPECT_TRUE(is_hf_gpt2_dir(tmp / "hf"));
  auto again = import_hf_gpt2(tmp / "hf");
  EXPECT_EQ(json(again.model), json(original.model));
  for (const auto& [name, tensor] : original.weights) EXPECT_TRUE(torch::equal(tensor, again.weights.at(name))) << name;
  // The exported file stores Conv1D weights as HF does, byte for byte like the fixture.
  auto ours = safetensors::load(tmp / "hf" / "model.safetensors").tensors;
  auto theirs = safetensors::load(test::test_data("hf-gpt2-tiny/model.safetensors")).tensors;
  EXPECT_EQ(ours.size(), theirs.size());
  for (const auto& [name, tensor] : theirs) EXPECT_TRUE(torch::equal(tensor, ours.at(name))) << name;
}

TEST(HfInterop, HalfPrecisionWeightsAreImportedAsFloat) {
  test::TempDir tmp;
  fs::create_directories(tmp / "hf16");
  fs::copy_file(test::test_data("hf-gpt2-tiny/config.json"), tmp / "hf16" / "config.json");
  auto tensors = safetensors::load(test::test_data("hf-gpt2-tiny/model.safetensors")).tensors;
  for (auto& [name, tensor] : tensors) tensor = tensor.to(name.find("h.0") != std::string::npos ? torch::kBFloat16 : torch::kHalf);
  safetensors::save(tmp / "hf16" / "model.safetensors", tensors);
  auto half = import_hf_gpt2(tmp / "hf16");
  auto full = import_hf_gpt2(test::test_data("hf-gpt2-tiny"));
  for (const auto& [name, tensor] : full.weights) {
    EXPECT_EQ(half.weights.at(name).scalar_type(), torch::kFloat32);
    EXPECT_LT(test::max_abs_diff(half.weights.at(name), tensor), 2e-2) << name;
  }
}

TEST(HfInterop, UnsupportedActivationIsRejected) {
  test::TempDir tmp;
  fs::create_directories(tmp / "hf");
  auto config = json::parse(read_file(test::test_data("hf-gpt2-tiny/config.json")));
  config["activation_function"] = "relu";
  write_file_atomic(tmp / "hf" / "config.json", config.dump());
  fs::copy_file(test::test_data("hf-gpt2-tiny/model.safetensors"), tmp / "hf" / "model.safetensors");
  EXPECT_NE(error_of([&] { import_hf_gpt2(tmp / "hf"); }).find("activation_function"), std::string::npos);
}

}  // namespace
}  // namespace rlhf
