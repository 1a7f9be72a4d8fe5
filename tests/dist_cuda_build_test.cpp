// What the CUDA path guarantees on a machine without a GPU: the build has CUDA exactly when CMake
// said so, NCCL is a backend of every CUDA build (its library loads and reports its version), and
// asking for a GPU that is not there fails with one line that names the cause.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <algorithm>
#include <regex>
#include <stdexcept>
#include <string>

#include "dist/distributed.h"
#include "dist/runtime.h"

namespace rlhf {
namespace {

bool has_backend(const std::string& name) {
  const auto names = compiled_backends();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string device_error(const std::string& name) {
  try {
    select_device(name);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(CudaBuildTest, CudaIsCompiledInExactlyWhenTheBuildSaysSo) {
  EXPECT_EQ(cuda_compiled_in(), static_cast<bool>(RLHF_EXPECT_CUDA));
}

TEST(CudaBuildTest, EveryBuildHasGlooAndEveryCudaBuildHasNccl) {
  EXPECT_TRUE(has_backend("gloo"));
  EXPECT_EQ(has_backend("nccl"), static_cast<bool>(RLHF_EXPECT_CUDA));
  if (RLHF_EXPECT_CUDA) {
    EXPECT_TRUE(std::regex_match(nccl_version(), std::regex(R"(2\.\d+\.\d+)"))) << nccl_version();
  } else {
    EXPECT_EQ(nccl_version(), "");
  }
}

TEST(CudaBuildTest, AskingForAGpuThatIsNotThereFailsWithOneLineNamingTheCause) {
  if (torch::cuda::is_available()) {
    const auto message = device_error("cuda:" + std::to_string(torch::cuda::device_count()));
    EXPECT_NE(message.find("numbered from 0"), std::string::npos) << message;
    return;
  }
  const auto message = device_error("cuda");
  EXPECT_EQ(message.rfind("--device cuda: ", 0), 0u) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  const char* cause = cuda_compiled_in() ? "no CUDA GPU is visible" : "this build has no CUDA";
  EXPECT_NE(message.find(cause), std::string::npos) << message;
  EXPECT_NE(device_error("cuda:1").find("--device cuda:1: "), std::string::npos);
}

TEST(CudaBuildTest, AutoChoosesTheGpuOnlyWhenOneIsVisible) {
  EXPECT_EQ(select_device("auto").is_cuda(), torch::cuda::is_available());
  EXPECT_TRUE(select_device("cpu").is_cpu());
}

TEST(CudaBuildTest, AnUnknownDeviceNameIsAnErrorListingTheValidOnes) {
  EXPECT_NE(device_error("tpu").find("expected cpu, cuda, cuda:N or auto"), std::string::npos);
}

}  // namespace
}  // namespace rlhf
