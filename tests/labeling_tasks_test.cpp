// Which task a labeler gets next: one gold prompt in every block of five, at a place a labeler
// cannot predict from the progress counter.
#include <set>
#include <sstream>

#include "labeling/tasks.h"
#include "storage/prompts.h"
#include "labeling_fixtures.h"

using namespace rlhf;
using namespace rlhf::test;

TEST(LabelingTasks, GoldTasksComeOncePerFiveTasksAtARandomPlace) {
  auto db = storage::open_database(":memory:");
  std::ostringstream lines;
  const std::string responses = R"("responses":[{"id":"a","text":"x"},{"id":"b","text":"y"}])";
  for (int i = 0; i < 16; ++i) lines << R"({"id":"g)" << i << R"(","prompt":"gold",)" << responses << R"(,"gold":[["a"],["b"]]})" << "\n";
  for (int i = 0; i < 64; ++i) lines << R"({"id":"p)" << i << R"(","prompt":"plain",)" << responses << "}\n";
  std::istringstream input(lines.str());
  labeling::import_jsonl(db, input, labeling::ImportFormat::Tasks, "inline");
  const auto account = labeling::add_labeler(db, "ann", "labeler");
  const auto ann = *labeling::authenticate(db, account.token);
  std::set<int> gold_places;
  for (int block = 0; block < 16; ++block) {
    int golds = 0;
    for (int place = 0; place < 5; ++place) {
      const json task = labeling::next_task(db, ann)["assignment"];
      ASSERT_FALSE(task.is_null());
      if (storage::find_prompt(db, task["prompt"]["id"])->is_gold) {
        ++golds;
        gold_places.insert(place);
      }
      labeling::skip(db, ann, task["id"], {{"reason", "other"}});
    }
    EXPECT_EQ(golds, 1) << "block " << block;
  }
  // A fixed place gives one value; random places give one value in 16 blocks with probability 5^-15.
  EXPECT_GT(gold_places.size(), 1u);
}
