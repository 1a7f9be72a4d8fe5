// Exports for the reward stage: pair counts for strict rankings (K(K-1)/2), ties (no pair among
// tied answers), all-tied and skipped answers (no pairs), and a lossless rankings line.
#include <filesystem>
#include <sstream>

#include "labeling/export.h"
#include "labeling/tasks.h"
#include "storage/labelers.h"
#include "storage/prompts.h"
#include "labeling_fixtures.h"

using namespace rlhf;
using namespace rlhf::test;

namespace {

struct LabelingExport : ::testing::Test {
  storage::Database db = storage::open_database(":memory:");
  storage::Labeler ann = make("ann");

  storage::Labeler make(const std::string& name) {
    const auto account = labeling::add_labeler(db, name, "labeler");
    return *labeling::authenticate(db, account.token);
  }
  void import(const std::string& text) {
    std::istringstream input(text);
    labeling::import_jsonl(db, input, labeling::ImportFormat::Auto, "inline");
  }
  // Imports one prompt with responses a, b, c, ... (K of them) and returns its assignment for ann.
  json task_with(int k) {
    json responses = json::array();
    for (int i = 0; i < k; ++i) responses.push_back({{"id", std::string(1, char('a' + i))}, {"text", "answer " + std::to_string(i)}});
    import(json{{"id", "k" + std::to_string(k)}, {"prompt", "question"}, {"responses", responses}}.dump());
    return labeling::next_task(db, ann)["assignment"];
  }
  // Response database id by the external id letter.
  int64_t id(const json& task, char letter) {
    for (const auto& r : storage::responses_of(db, task["prompt"]["id"])) {
      if (r.external_id == std::string(1, letter)) return r.id;
    }
    return -1;
  }
  int submit(const json& task, const json& body, const std::string& key = "export-key-1") {
    return labeling::submit(db, ann, task["id"], key, body).status;
  }
  std::vector<json> lines(labeling::ExportFormat format) {
    std::ostringstream out;
    labeling::export_jsonl(db, format, out);
    std::vector<json> rows;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line));
    return rows;
  }
};

}  // namespace

TEST_F(LabelingExport, AStrictRankingOfKGivesKTimesKMinusOneOverTwoPairs) {
  const json task = task_with(4);
  ASSERT_EQ(submit(task, {{"tiers", {{id(task, 'c')}, {id(task, 'a')}, {id(task, 'd')}, {id(task, 'b')}}}}), 201);
  const auto pairs = lines(labeling::ExportFormat::Pairs);
  ASSERT_EQ(pairs.size(), 6u);
  std::multiset<int> margins;
  for (const auto& pair : pairs) {
    margins.insert(pair["margin"].get<int>());
    EXPECT_EQ(pair["group_id"], pairs[0]["group_id"]);
    EXPECT_EQ(pair["prompt"], "\n\nHuman: question\n\nAssistant:");
    EXPECT_EQ(pair.size(), 5u);  // exactly prompt, chosen, rejected, group_id, margin
  }
  EXPECT_EQ(margins, (std::multiset<int>{1, 1, 1, 2, 2, 3}));
  EXPECT_EQ(pairs[0]["chosen"], "answer 2");  // c first
  EXPECT_EQ(pairs[0]["rejected"], "answer 0");
}

TEST_F(LabelingExport, TiedAnswersGiveNoPairBetweenThem) {
  const json task = task_with(4);
  ASSERT_EQ(submit(task, {{"tiers", {{id(task, 'a')}, {id(task, 'b'), id(task, 'c')}, {id(task, 'd')}}}}), 201);
  const auto pairs = lines(labeling::ExportFormat::Pairs);
  EXPECT_EQ(pairs.size(), 5u);  // 6 minus the b-c pair
  for (const auto& pair : pairs) {
    const bool b_vs_c = (pair["chosen"] == "answer 1" && pair["rejected"] == "answer 2") ||
                        (pair["chosen"] == "answer 2" && pair["rejected"] == "answer 1");
    EXPECT_FALSE(b_vs_c);
  }
}

TEST_F(LabelingExport, AllTiedGivesNoPairsButKeepsTheRankingRow) {
  const json task = task_with(3);
  ASSERT_EQ(submit(task, {{"tiers", {{id(task, 'a'), id(task, 'b'), id(task, 'c')}}}}), 201);
  EXPECT_EQ(lines(labeling::ExportFormat::Pairs).size(), 0u);
  EXPECT_EQ(lines(labeling::ExportFormat::Rankings).size(), 1u);
}

TEST_F(LabelingExport, SkippedAssignmentsAreNotExported) {
  const json task = task_with(3);
  labeling::skip(db, ann, task["id"], {{"reason", "responses_broken"}});
  EXPECT_EQ(lines(labeling::ExportFormat::Pairs).size(), 0u);
  EXPECT_EQ(lines(labeling::ExportFormat::Rankings).size(), 0u);
}

TEST_F(LabelingExport, ARevisedAnswerExportsOnlyTheLiveVersion) {
  const json task = task_with(2);
  const auto first = labeling::submit(db, ann, task["id"], "first-key-1", {{"tiers", {{id(task, 'a')}, {id(task, 'b')}}}});
  labeling::submit(db, ann, task["id"], "second-key-1",
                   {{"tiers", {{id(task, 'b')}, {id(task, 'a')}}}, {"supersedes", first.body["submission"]["id"]}});
  const auto pairs = lines(labeling::ExportFormat::Pairs);
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0]["chosen"], "answer 1");
}

TEST_F(LabelingExport, RankingsAreLosslessAndAnonymised) {
  const json task = task_with(3);
  const json body = {{"tiers", {{id(task, 'b')}, {id(task, 'a'), id(task, 'c')}}},
                     {"annotations", {{{"response_id", id(task, 'a')}, {"likert", 2}, {"flags", {"hallucination", "dishonest"}}}}},
                     {"comment", "a invents a date"},
                     {"duration_ms", 4200},
                     {"guidelines_version", "1"}};
  ASSERT_EQ(submit(task, body), 201);
  const auto rows = lines(labeling::ExportFormat::Rankings);
  ASSERT_EQ(rows.size(), 1u);
  const json& row = rows[0];
  EXPECT_EQ(row["prompt_id"], "k3");
  EXPECT_EQ(row["tiers"], json::parse(R"([["b"],["a","c"]])"));
  EXPECT_EQ(row["shown_order"].size(), 3u);
  EXPECT_EQ(row["likert"], json::parse(R"({"a":2})"));
  EXPECT_EQ(row["flags"], json::parse(R"({"a":["hallucination","dishonest"]})"));
  EXPECT_EQ(row["comment"], "a invents a date");
  EXPECT_EQ(row["duration_ms"], 4200);
  EXPECT_EQ(row["source"], "human");
  EXPECT_EQ(row["labeler"], "labeler-" + std::to_string(ann.id));
  EXPECT_EQ(row.dump().find("ann"), std::string::npos);  // the name never leaves the database
  // The shown order is the assignment's shuffle, in external ids.
  std::vector<std::string> shown;
  for (const auto& r : task["responses"]) {
    for (const auto& stored : storage::responses_of(db, task["prompt"]["id"])) {
      if (stored.id == r["id"]) shown.push_back(stored.external_id);
    }
  }
  EXPECT_EQ(row["shown_order"], json(shown));
}

TEST_F(LabelingExport, HhImportsExportAsChosenOverRejected) {
  import_fixture(db, "hh_pairs.jsonl");
  const auto pairs = lines(labeling::ExportFormat::Pairs);
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[0]["prompt"], "\n\nHuman: How do I make tea?\n\nAssistant:");
  EXPECT_EQ(pairs[0]["chosen"], "Boil water and steep the leaves for three minutes.");
  EXPECT_EQ(pairs[0]["rejected"], "Tea is bad.");
  EXPECT_EQ(lines(labeling::ExportFormat::Rankings)[0]["source"], "hh-rlhf");
}

TEST_F(LabelingExport, ExportFileIsWrittenAtomically) {
  const json task = task_with(3);
  ASSERT_EQ(submit(task, {{"tiers", {{id(task, 'a')}, {id(task, 'b')}, {id(task, 'c')}}}}), 201);
  const std::string path = temp_db("export") + ".jsonl";
  EXPECT_EQ(labeling::export_to_file(db, labeling::ExportFormat::Pairs, path), 3u);
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_F(LabelingExport, AFailedRenameLeavesNoTemporaryFile) {
  const json task = task_with(2);
  ASSERT_EQ(submit(task, {{"tiers", {{id(task, 'a')}, {id(task, 'b')}}}}), 201);
  const std::string path = temp_db("export_dir") + ".jsonl";
  std::filesystem::create_directory(path);  // rename() of a file onto a directory fails
  try {
    labeling::export_to_file(db, labeling::ExportFormat::Pairs, path);
    ADD_FAILURE() << "the export replaced a directory";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_TRUE(std::filesystem::is_directory(path));
  std::filesystem::remove(path);
}

TEST_F(LabelingExport, PromptsExportListsEveryNonGoldPromptRankedOrNot) {
  const json ranked = task_with(3);
  ASSERT_EQ(submit(ranked, {{"tiers", {{id(ranked, 'a')}, {id(ranked, 'b')}, {id(ranked, 'c')}}}}), 201);
  import(json{{"id", "unranked"}, {"prompt", "another question"}, {"responses", json::array({json{{"id", "x"}, {"text", "x"}}, json{{"id", "y"}, {"text", "y"}}})}}.dump());
  const auto prompts = lines(labeling::ExportFormat::Prompts);
  ASSERT_EQ(prompts.size(), 2u);
  EXPECT_EQ(prompts[0]["prompt"], "\n\nHuman: question\n\nAssistant:");
  EXPECT_EQ(prompts[1]["prompt"], "\n\nHuman: another question\n\nAssistant:");
  EXPECT_EQ(prompts[1]["prompt_id"], "unranked");
  EXPECT_EQ(labeling::parse_export_format("prompts"), labeling::ExportFormat::Prompts);
}
