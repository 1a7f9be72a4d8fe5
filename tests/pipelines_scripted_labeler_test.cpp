// The scripted labeler ranks by its stated rule through the labeling service's own functions, and
// its rankings are exported under its name, never as human data.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "labeling/export.h"
#include "labeling/import.h"
#include "pipelines/scripted_labeler.h"
#include "storage/schema.h"
#include "model_test_util.h"

namespace rlhf {
namespace {

using nlohmann::json;

std::vector<json> rankings(storage::Database& db) {
  std::ostringstream out;
  labeling::export_jsonl(db, labeling::ExportFormat::Rankings, out);
  std::vector<json> rows;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line));
  return rows;
}

TEST(ScriptedLabeler, RanksByPromptOverlapWithTiesAndIsNamedAsTheSource) {
  test::TempDir tmp;
  auto db = storage::open_database((tmp / "labels.db").string());
  std::istringstream tasks(
      json{{"id", "t1"}, {"prompt", "Which planet has rings made of ice?"},
           {"responses", {json{{"id", "none"}, {"text", "I like cheese."}},
                          json{{"id", "two"}, {"text", "That planet has rings."}},
                          json{{"id", "three"}, {"text", "Saturn: the planet has rings of ice."}},
                          json{{"id", "also-none"}, {"text", "Maybe tomorrow."}}}}}.dump() + "\n");
  labeling::import_jsonl(db, tasks, labeling::ImportFormat::Tasks, "inline");
  EXPECT_EQ(run_scripted_labeler(db, "prompt_overlap"), 1);
  EXPECT_EQ(run_scripted_labeler(db, "prompt_overlap"), 0);  // nothing left to rank
  auto rows = rankings(db);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["source"], "scripted-prompt_overlap");
  EXPECT_EQ(rows[0]["tiers"], json::parse(R"([["three"], ["two"], ["none", "also-none"]])"));
}

TEST(ScriptedLabeler, TheLongerRuleAndUnknownRules) {
  test::TempDir tmp;
  auto db = storage::open_database((tmp / "labels.db").string());
  std::istringstream tasks(json{{"id", "t1"}, {"prompt", "Say something."},
                                {"responses", {json{{"id", "short"}, {"text", "Hi."}},
                                               json{{"id", "long"}, {"text", "Hello there, how are you?"}}}}}
                               .dump() + "\n");
  labeling::import_jsonl(db, tasks, labeling::ImportFormat::Tasks, "inline");
  EXPECT_EQ(run_scripted_labeler(db, "longer"), 1);
  EXPECT_EQ(rankings(db)[0]["tiers"], json::parse(R"([["long"], ["short"]])"));
  EXPECT_THROW(run_scripted_labeler(db, "coin_flip"), std::runtime_error);
  EXPECT_NE(scripted_rule_description("longer").find("not human judgement"), std::string::npos);
}

}  // namespace
}  // namespace rlhf
