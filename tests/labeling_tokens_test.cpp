// Tokens: enough randomness, a correct SHA-256, and a comparison that does not stop early.
#include <gtest/gtest.h>

#include <set>

#include "labeling/tokens.h"

using namespace rlhf::labeling;

TEST(LabelingTokens, Sha256MatchesTheFipsTestVectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(LabelingTokens, TokensAre256BitHexAndNeverRepeat) {
  std::set<std::string> tokens;
  for (int i = 0; i < 200; ++i) {
    const std::string token = generate_token();
    ASSERT_EQ(token.size(), 64u);
    EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
    tokens.insert(token);
  }
  EXPECT_EQ(tokens.size(), 200u);
}

TEST(LabelingTokens, ConstantTimeEqualComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equal("abcdef", "abcdef"));
  EXPECT_FALSE(constant_time_equal("abcdef", "abcdeg"));
  EXPECT_FALSE(constant_time_equal("abcdef", "abcde"));
  EXPECT_TRUE(constant_time_equal("", ""));
}
