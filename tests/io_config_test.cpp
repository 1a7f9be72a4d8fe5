// Config loading: defaults, file values, --set overrides, and errors that name the source, the key
// and the closest valid key.
#include <gtest/gtest.h>

#include "io/atomic_file.h"
#include "io/config.h"
#include "model/gpt_config.h"
#include "test_util.h"

namespace rlhf {
namespace {

struct TrainSection {
  double lr = 3e-4;
  int64_t max_steps = 100;
  std::string name = "run";
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TrainSection, lr, max_steps, name)

struct StageConfig {
  GPTConfig model;
  TrainSection train;
  bool verbose = false;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StageConfig, model, train, verbose)

std::string load_error(const std::string& text, const std::vector<std::string>& overrides = {}) {
  test::TempDir tmp;
  write_file_atomic(tmp / "c.json", text);
  try {
    load_config<StageConfig>(tmp / "c.json", overrides);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, MissingKeysKeepTheirDefaults) {
  test::TempDir tmp;
  write_file_atomic(tmp / "c.json", R"({"train": {"lr": 0.01}})");
  auto c = load_config<StageConfig>(tmp / "c.json");
  EXPECT_DOUBLE_EQ(c.train.lr, 0.01);
  EXPECT_EQ(c.train.max_steps, 100);
  EXPECT_EQ(c.model.n_layer, GPTConfig{}.n_layer);
}

TEST(Config, UnknownKeyNamesFileKeyAndClosestValidKey) {
  auto error = load_error(R"({"train": {"lrr": 0.01}})");
  EXPECT_NE(error.find("c.json"), std::string::npos) << error;
  EXPECT_NE(error.find("\"train.lrr\""), std::string::npos) << error;
  EXPECT_NE(error.find("did you mean \"train.lr\""), std::string::npos) << error;
  error = load_error(R"({"modle": {}})");
  EXPECT_NE(error.find("did you mean \"model\""), std::string::npos) << error;
}

TEST(Config, UnknownKeyFarFromAnyValidKeyListsTheValidKeys) {
  auto error = load_error(R"({"completely_unrelated": 1})");
  EXPECT_NE(error.find("valid keys: model, train, verbose"), std::string::npos) << error;
}

TEST(Config, WrongTypeNamesTheKey) {
  auto error = load_error(R"({"model": {"n_layer": "four"}})");
  EXPECT_NE(error.find("\"model.n_layer\" must be a integer"), std::string::npos) << error;
  error = load_error(R"({"model": {"n_layer": 2.5}})");
  EXPECT_NE(error.find("model.n_layer"), std::string::npos) << error;
  error = load_error(R"({"train": 3})");
  EXPECT_NE(error.find("\"train\" must be a object"), std::string::npos) << error;
}

TEST(Config, InvalidJsonNamesTheFile) {
  EXPECT_NE(load_error("{oops").find("c.json: invalid JSON"), std::string::npos);
}

TEST(Config, SetOverridesFileValuesWithTypedValues) {
  test::TempDir tmp;
  write_file_atomic(tmp / "c.json", R"({"train": {"lr": 0.01}})");
  auto c = load_config<StageConfig>(tmp / "c.json", {"train.lr=0.5", "train.name=hello world", "verbose=true",
                                                     "model.n_layer=6"});
  EXPECT_DOUBLE_EQ(c.train.lr, 0.5);
  EXPECT_EQ(c.train.name, "hello world");
  EXPECT_TRUE(c.verbose);
  EXPECT_EQ(c.model.n_layer, 6);
}

TEST(Config, BadSetIsRejectedNamingTheAssignment) {
  auto error = load_error("{}", {"train.lrate=1"});
  EXPECT_NE(error.find("--set train.lrate=1"), std::string::npos) << error;
  EXPECT_NE(error.find("did you mean \"train.lr\""), std::string::npos) << error;
  EXPECT_NE(load_error("{}", {"novalue"}).find("expected KEY=VALUE"), std::string::npos);
}

TEST(Config, EmptyPathGivesDefaults) {
  auto c = load_config<StageConfig>("", {"train.max_steps=5"});
  EXPECT_EQ(c.train.max_steps, 5);
}

TEST(Config, MissingFileIsAClearError) {
  EXPECT_THROW(load_config<StageConfig>("/nonexistent/c.json"), std::runtime_error);
}

TEST(Config, ClosestKeyPrefersSmallEdits) {
  EXPECT_EQ(closest_key("n_layers", {"n_layer", "n_head", "n_embd"}), "n_layer");
  EXPECT_EQ(closest_key("xyzzy_foo_bar", {"n_layer"}), "");
}

}  // namespace
}  // namespace rlhf
