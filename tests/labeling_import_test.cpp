// JSONL import: all-or-nothing, errors that name the line and the field, idempotent re-import,
// and HH-RLHF transcripts split into a shared prompt and two already-ranked answers.
#include <sstream>

#include "labeling/hh_transcript.h"
#include "labeling/tasks.h"
#include "storage/labelers.h"
#include "storage/prompts.h"
#include "labeling_fixtures.h"

using namespace rlhf;
using namespace rlhf::test;

namespace {

std::string import_error(storage::Database& db, const std::string& text,
                         labeling::ImportFormat format = labeling::ImportFormat::Auto) {
  std::istringstream input(text);
  try {
    labeling::import_jsonl(db, input, format, "f.jsonl");
  } catch (const labeling::ImportError& error) {
    return error.what();
  }
  return "";
}

const std::string kGood = R"({"id":"p","prompt":"q","responses":[{"id":"a","text":"x"},{"id":"b","text":"y"}]})";

}  // namespace

TEST(LabelingImport, AnErrorNamesTheLineAndFieldAndWritesNothing) {
  auto db = storage::open_database(":memory:");
  try {
    import_fixture(db, "tasks_bad_line3.jsonl");
    FAIL() << "line 3 is invalid";
  } catch (const labeling::ImportError& error) {
    EXPECT_EQ(error.line, 3);
    EXPECT_EQ(error.field, "responses[1].text");
    EXPECT_NE(std::string(error.what()).find("tasks_bad_line3.jsonl line 3, field responses[1].text"), std::string::npos)
        << error.what();
  }
  EXPECT_EQ(storage::count_prompts(db), 0);
}

TEST(LabelingImport, EachRuleNamesItsField) {
  auto db = storage::open_database(":memory:");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"id":"p","prompt":"q","responses":[{"id":"a","text":"x"},{"id":"b","text":"y"}],"colour":1})", "field colour"},
      {R"({"id":"p","responses":[{"id":"a","text":"x"},{"id":"b","text":"y"}]})", "field prompt"},
      {R"({"id":"p","prompt":"q","responses":[{"id":"a","text":"x"}]})", "field responses:"},
      {R"({"id":"p","prompt":"q","responses":[{"id":"a","text":"x"},{"id":"a","text":"y"}]})", "field responses[1].id"},
      {R"({"id":"p","kind":"funny","prompt":"q","responses":[{"id":"a","text":"x"},{"id":"b","text":"y"}]})", "field kind"},
      {R"({"id":"p","prompt":"q","responses":[{"id":"a","text":"x"},{"id":"b","text":"y"}],"target_labels":0})", "field target_labels"},
      {R"({"id":"p","prompt":"q","responses":[{"id":"a","text":"x"},{"id":"b","text":"y"}],"gold":[["a"]]})", "field gold"},
      {R"({"id":"p","conversation":[{"role":"user","content":"q"},{"role":"assistant","content":"r"}],"responses":[{"id":"a","text":"x"},{"id":"b","text":"y"}]})", "field conversation"},
      {R"({"id":"p","prompt":"q","responses":[{"id":"a","text":"x"},{"id":"b","text":"y"}])", "field (line): is not valid JSON"},
      {R"({"chosen":"\n\nHuman: a\n\nAssistant: b","rejected":"totally different"})", "field rejected"},
  };
  for (const auto& [line, expected] : cases) {
    const std::string message = import_error(db, kGood + "\n\n" + line + "\n");
    EXPECT_NE(message.find("line 3, " + expected), std::string::npos) << "got: " << message;
  }
  EXPECT_EQ(storage::count_prompts(db), 0);
}

TEST(LabelingImport, ReimportingTheSameFileIsANoOpButChangedContentIsRefused) {
  auto db = storage::open_database(":memory:");
  EXPECT_EQ(import_fixture(db, "tasks.jsonl").imported, 4);
  const auto again = import_fixture(db, "tasks.jsonl");
  EXPECT_EQ(again.imported, 0);
  EXPECT_EQ(again.unchanged, 4);
  const std::string changed = R"({"id":"t3","prompt":"different","responses":[{"id":"a","text":"x"},{"id":"b","text":"y"}]})";
  EXPECT_NE(import_error(db, changed).find("line 1, field id: prompt 't3' already exists"), std::string::npos);
  EXPECT_NE(import_error(db, kGood + "\n" + R"({"id":"p","prompt":"other","responses":[{"id":"a","text":"x"},{"id":"b","text":"y"}]})")
                .find("line 2, field id"),
            std::string::npos);
}

TEST(LabelingImport, GoldRankingIsStoredAsDatabaseIds) {
  auto db = storage::open_database(":memory:");
  import_fixture(db, "tasks.jsonl");
  const auto gold = storage::find_prompt_by_external_id(db, "g1");
  ASSERT_TRUE(gold && gold->is_gold);
  const auto responses = storage::responses_of(db, gold->id);
  const storage::Tiers expected = {{responses[0].id}, {responses[1].id, responses[2].id}};
  EXPECT_EQ(*gold->gold_ranking, expected);
}

TEST(LabelingImport, HhTranscriptsSplitAtTheLastSharedAssistantTurn) {
  const auto split = labeling::split_hh_comparison(
      "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: joke?\n\nAssistant: Sure. Human: knock knock",
      "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: joke?\n\nAssistant: No.");
  ASSERT_EQ(split.conversation.size(), 3u);
  EXPECT_EQ(split.conversation[2]["content"], "joke?");
  EXPECT_EQ(split.chosen, "Sure. Human: knock knock");
  EXPECT_EQ(split.rejected, "No.");
  EXPECT_EQ(labeling::render_hh_prompt(split.conversation), "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: joke?\n\nAssistant:");
}

TEST(LabelingImport, HhPairsAreRankedByTheExternalLabelerAndNeverAssigned) {
  auto db = storage::open_database(":memory:");
  EXPECT_EQ(import_fixture(db, "hh_pairs.jsonl").imported, 3);
  EXPECT_EQ(import_fixture(db, "hh_pairs.jsonl").unchanged, 3);
  EXPECT_EQ(count_rows(db, "SELECT count(*) FROM submissions s JOIN labelers l ON l.id = s.labeler_id WHERE l.role = 'external'"), 3);
  EXPECT_EQ(count_rows(db, "SELECT count(*) FROM responses WHERE text = ''"), 1);  // an empty answer can win
  const auto hh = storage::find_labeler_by_name(db, "hh-rlhf");
  ASSERT_TRUE(hh);
  EXPECT_FALSE(hh->active);
  const auto person = labeling::add_labeler(db, "ann", "labeler");
  EXPECT_TRUE(labeling::next_task(db, *labeling::authenticate(db, person.token))["assignment"].is_null());
}
