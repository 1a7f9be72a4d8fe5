// The bag-of-words bar: words as it counts them, a fit that finds the words deciding a preference,
// ties where a pair differs in no known word, determinism, and its accuracy on the shipped HH pairs.
#include <gtest/gtest.h>

#include "reward/bag_of_words.h"
#include "reward/rankings.h"
#include "test_util.h"

namespace rlhf {
namespace {

RankingGroup pair_of(const std::string& winner, const std::string& loser) {
  RankingGroup g;
  g.prompt = "\n\nHuman: q\n\nAssistant:";
  g.responses = {winner, loser};
  g.pairs = {{0, 1, 1.0}};
  return g;
}

// Winners say "please", losers "idiot"; the other words are shared noise.
std::vector<RankingGroup> polite_pairs(int n, int offset) {
  const std::vector<std::string> noise = {"the", "cat", "sat", "on", "a", "mat", "today", "again"};
  std::vector<RankingGroup> groups;
  for (int i = 0; i < n; ++i) {
    const std::string a = noise[(i + offset) % noise.size()], b = noise[(i * 3 + offset + 1) % noise.size()];
    groups.push_back(pair_of(" " + a + " please " + b, " " + b + " idiot " + a));
  }
  return groups;
}

TEST(BagOfWords, WordsAreLowerCasedRunsOfLettersDigitsAndApostrophes) {
  EXPECT_EQ(words_of(" Don't SHOUT, it's 3am!"), (std::vector<std::string>{"don't", "shout", "it's", "3am"}));
  EXPECT_EQ(words_of("caf\xc3\xa9 ok"), (std::vector<std::string>{"caf\xc3\xa9", "ok"}));
  EXPECT_TRUE(words_of(" ... ").empty());
}

TEST(BagOfWords, FindsTheWordsThatDecideThePreference) {
  auto model = fit_bag_of_words(polite_pairs(40, 0), polite_pairs(10, 3));
  EXPECT_GT(model.score(" please"), 0.0);
  EXPECT_LT(model.score(" idiot"), 0.0);
  auto hits = bag_of_words_hits(model, polite_pairs(20, 5));
  EXPECT_EQ(hits.pairs, 20);
  EXPECT_EQ(hits.correct, 20.0);
  // Swapped, every held-out pair is wrong.
  std::vector<RankingGroup> swapped;
  for (auto g : polite_pairs(20, 5)) swapped.push_back(pair_of(g.responses[1], g.responses[0]));
  EXPECT_EQ(bag_of_words_hits(model, swapped).correct, 0.0);
}

TEST(BagOfWords, APairThatDiffersInNoKnownWordIsATie) {
  auto model = fit_bag_of_words(polite_pairs(40, 0), polite_pairs(10, 3));
  auto hits = bag_of_words_hits(model, {pair_of(" unseen words", " other unknown words"), pair_of(" the cat", " cat the")});
  EXPECT_EQ(hits.pairs, 2);
  EXPECT_EQ(hits.correct, 1.0);  // two halves
}

TEST(BagOfWords, WordsInFewerThanMinCountResponsesAreLeftOut) {
  auto model = fit_bag_of_words({pair_of(" rare common", " common")}, {pair_of(" common", " rare")}, 2);
  EXPECT_EQ(model.vocabulary.count("rare"), 0u);
  EXPECT_EQ(model.vocabulary.count("common"), 1u);
}

TEST(BagOfWords, FittingTwiceGivesTheSameWeights) {
  auto a = fit_bag_of_words(polite_pairs(30, 1), polite_pairs(10, 2));
  auto b = fit_bag_of_words(polite_pairs(30, 1), polite_pairs(10, 2));
  EXPECT_TRUE(torch::equal(a.theta, b.theta));
  EXPECT_EQ(a.l2, b.l2);
}

TEST(BagOfWords, SavedAndLoadedItScoresTheSame) {
  test::TempDir tmp;
  auto model = fit_bag_of_words(polite_pairs(30, 1), polite_pairs(10, 2));
  save_bag_of_words(tmp / "bow.json", model);
  auto again = load_bag_of_words(tmp / "bow.json");
  EXPECT_EQ(again.vocabulary, model.vocabulary);
  EXPECT_EQ(again.l2, model.l2);
  for (const auto& text : {" please sit", " idiot cat", " nothing known"}) EXPECT_EQ(again.score(text), model.score(text));
}

TEST(BagOfWords, ABadFileIsRefusedNamingItAndTheField) {
  test::TempDir tmp;
  auto error_of = [&](const std::string& text) {
    test::write_text(tmp / "bow.json", text);
    try {
      load_bag_of_words(tmp / "bow.json");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of(R"({"kind": "reward"})").find("bow.json: not a bag-of-words model"), std::string::npos);
  EXPECT_NE(error_of(R"({"kind": "bag_of_words", "words": ["a"], "weights": []})").find("\"words\" and \"weights\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"kind": "bag_of_words", "words": [1], "weights": [0.5]})").find("entry 0"), std::string::npos);
  EXPECT_NE(error_of("{oops").find("bow.json"), std::string::npos);
}

TEST(BagOfWords, BeatsChanceOnTheShippedHeldOutHhPairs) {
  const auto hh = test::project_file("data/preference/hh-rlhf/harmless-base-test.jsonl.gz");
  auto train = load_rankings(hh, HhSplitUse::kAllButRewardEval, false, nullptr);
  auto eval = load_rankings(hh, HhSplitUse::kRewardEval, false, nullptr);
  std::vector<RankingGroup> fit(train.begin(), train.begin() + train.size() * 85 / 100);
  std::vector<RankingGroup> valid(train.begin() + train.size() * 85 / 100, train.end());
  auto model = fit_bag_of_words(fit, valid);
  auto hits = bag_of_words_hits(model, eval);
  const double accuracy = hits.correct / hits.pairs;
  std::printf("bag-of-words: %.3f on %lld held-out pairs (l2 %g, %zu words)\n", accuracy,
              static_cast<long long>(hits.pairs), model.l2, model.vocabulary.size());
  EXPECT_EQ(hits.pairs, 440);
  EXPECT_GT(accuracy, 0.55);
}

}  // namespace
}  // namespace rlhf
