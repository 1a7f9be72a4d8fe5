// The safetensors reader/writer: round trips in every dtype we use, and malformed files rejected
// with a message (never a crash), including random corruption of a real file.
#include <gtest/gtest.h>

#include <random>

#include "io/atomic_file.h"
#include "model/safetensors.h"
#include "model_test_util.h"

namespace rlhf {
namespace {

std::string header_bytes(const std::string& json_header, const std::string& data = "") {
  std::string out(8, '\0');
  uint64_t n = json_header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + json_header + data;
}

std::string parse_error(const std::string& bytes) {
  try {
    safetensors::parse(bytes, "f.safetensors");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, RoundTripKeepsDtypeShapeValuesAndMetadata) {
  test::TempDir tmp;
  safetensors::TensorMap tensors = {
      {"f32", torch::randn({3, 4})},
      {"f16", torch::randn({5}).to(torch::kHalf)},
      {"bf16", torch::randn({2, 2, 2}).to(torch::kBFloat16)},
      {"i64", torch::arange(7, torch::kLong)},
      {"empty", torch::zeros({0, 3})},
      {"scalar", torch::tensor(3.5)},
  };
  safetensors::save(tmp / "t.safetensors", tensors, {{"who", "test"}});
  auto file = safetensors::load(tmp / "t.safetensors");
  EXPECT_EQ(file.metadata.at("who"), "test");
  ASSERT_EQ(file.tensors.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    EXPECT_EQ(file.tensors.at(name).scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(file.tensors.at(name), t)) << name;
  }
}

TEST(Safetensors, ReadsTheHfFixture) {
  auto file = safetensors::load(test::test_data("hf-gpt2-tiny/model.safetensors"));
  EXPECT_EQ(file.tensors.size(), 28u);
  EXPECT_EQ(file.tensors.at("transformer.wte.weight").sizes(), (std::vector<int64_t>{1000, 64}));
  EXPECT_EQ(file.metadata.at("format"), "pt");
}

TEST(Safetensors, MalformedFilesAreRejectedWithAReason) {
  EXPECT_NE(parse_error("abc").find("shorter than 8 bytes"), std::string::npos);
  EXPECT_NE(parse_error(header_bytes("{}").substr(0, 8) + "{").find("exceeds the file size"), std::string::npos);
  EXPECT_NE(parse_error(header_bytes("{not json")).find("not valid JSON"), std::string::npos);
  EXPECT_NE(parse_error(header_bytes("[1,2]")).find("JSON object"), std::string::npos);
  EXPECT_NE(parse_error(header_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "1234")).find("outside"),
            std::string::npos);
  EXPECT_NE(parse_error(header_bytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", "12345678")).find("do not match"),
            std::string::npos);
  EXPECT_NE(parse_error(header_bytes(R"({"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}})", "1")).find("unsupported dtype"),
            std::string::npos);
  EXPECT_NE(parse_error(header_bytes(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "1234")).find("non-negative"),
            std::string::npos);
  EXPECT_NE(parse_error(header_bytes(R"({"a":{"dtype":"F32","shape":[1]}})", "1234")).find("data_offsets"), std::string::npos);
  EXPECT_NE(parse_error(header_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", "12345678")).find("outside"),
            std::string::npos);
}

TEST(Safetensors, RandomCorruptionNeverCrashes) {
  const std::string original = read_file(test::test_data("hf-gpt2-tiny/model.safetensors"));
  std::mt19937 rng(1234);
  int rejected = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string bytes = original;
    // Corrupt the header region (where the structure lives) or cut the file short.
    if (trial % 3 == 0) {
      bytes.resize(rng() % bytes.size());
    } else {
      for (int k = 0; k < 4; ++k) bytes[rng() % 2200] = static_cast<char>(rng());
    }
    try {
      safetensors::parse(bytes, "corrupt");
    } catch (const std::runtime_error&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 100);  // most corruptions are detected; none may crash
}

}  // namespace
}  // namespace rlhf
