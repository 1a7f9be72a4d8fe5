// train/autocast: which precision a training run uses, and bad settings named. (The bf16 path itself
// runs only on CUDA; see bench/README.md for the device check.)
#include <gtest/gtest.h>

#include "train/autocast.h"

namespace rlhf {
namespace {

TEST(Autocast, AutoMeansBf16OnCudaAndFp32OnTheCpu) {
  EXPECT_FALSE(use_bf16_autocast("auto", torch::kCPU, "train.precision"));
  EXPECT_TRUE(use_bf16_autocast("auto", torch::Device(torch::kCUDA, 0), "train.precision"));
  EXPECT_TRUE(use_bf16_autocast("bf16", torch::Device(torch::kCUDA, 0), "train.precision"));
  EXPECT_FALSE(use_bf16_autocast("fp32", torch::Device(torch::kCUDA, 0), "train.precision"));
}

TEST(Autocast, BadSettingsNameTheField) {
  try {
    use_bf16_autocast("bf16", torch::kCPU, "train.precision");
    FAIL() << "bf16 on the CPU accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("train.precision \"bf16\" needs a CUDA device"), std::string::npos) << e.what();
  }
  try {
    use_bf16_autocast("fp16", torch::kCPU, "precision");
    FAIL() << "fp16 accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("precision \"fp16\": expected auto, bf16 or fp32"), std::string::npos) << e.what();
  }
}

TEST(Autocast, ScopeRestoresTheGlobalAutocastState) {
  ASSERT_FALSE(cuda_bf16_autocast_enabled());
  {
    BF16Autocast on(true);
    EXPECT_TRUE(cuda_bf16_autocast_enabled());
    {
      BF16Autocast off(false);  // disabled scopes leave the state alone
      EXPECT_TRUE(cuda_bf16_autocast_enabled());
    }
  }
  EXPECT_FALSE(cuda_bf16_autocast_enabled());
}

}  // namespace
}  // namespace rlhf
