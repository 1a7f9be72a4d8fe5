// The task queue (storage/task_queue.h): the next prompt and the "remaining" count of GET /me are
// exactly what a look at every prompt gives, through in-flight, expired, submitted and skipped
// assignments and gold prompts, and the hot routes never read every prompt to find them.
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "labeling/tasks.h"
#include "storage/assignments.h"
#include "storage/clock.h"
#include "storage/prompts.h"
#include "storage/skips.h"
#include "storage/submissions.h"
#include "storage/task_queue.h"
#include "labeling_fixtures.h"

using namespace rlhf;
using namespace rlhf::test;

namespace {

constexpr const char* kNow = "2025-06-01T12:00:00Z";
constexpr const char* kExpired = "2025-06-01T11:00:00Z";
constexpr const char* kInFlight = "2025-06-01T13:00:00Z";

storage::NewPrompt make_prompt(const std::string& id, int target_labels, bool gold) {
  storage::NewPrompt prompt;
  prompt.external_id = id;
  prompt.kind = "general";
  prompt.conversation_json = R"([{"role":"user","content":"question )" + id + R"("}])";
  prompt.target_labels = target_labels;
  prompt.content_hash = id;
  prompt.responses = {{"a", "first", std::nullopt}, {"b", "second", std::nullopt}};
  if (gold) prompt.gold = std::vector<std::vector<std::string>>{{"a"}, {"b"}};
  return prompt;
}

// ---- The reference: the rule of storage/task_queue.h applied to every row, in plain C++. ----

struct ReferenceCandidate {
  int64_t id = 0;
  bool gold = false;
  int64_t need = 0;
};

// Every prompt the labeler could be given, best first.
std::vector<int64_t> reference_queue(storage::Database& db, int64_t labeler_id, const std::string& now,
                                     bool want_gold) {
  std::map<int64_t, int64_t> submitted, holding;
  std::set<int64_t> mine;
  storage::Statement assignments = db.prepare("SELECT labeler_id, prompt_id, status, expires_at FROM assignments");
  while (assignments.step()) {
    const int64_t prompt = assignments.column_int(1);
    const std::string status = assignments.column_text(2);
    if (assignments.column_int(0) == labeler_id) mine.insert(prompt);
    if (status == "submitted") ++submitted[prompt];
    if (status == "open" && assignments.column_text(3) > now) ++holding[prompt];
  }
  std::vector<ReferenceCandidate> candidates;
  storage::Statement prompts = db.prepare("SELECT id, is_gold, target_labels FROM prompts");
  while (prompts.step()) {
    const int64_t id = prompts.column_int(0);
    const bool gold = prompts.column_int(1) != 0;
    const int64_t target = prompts.column_int(2);
    if (target <= 0 || mine.count(id)) continue;
    const int64_t need = target - submitted[id] - holding[id];
    if (gold || need > 0) candidates.push_back({id, gold, need});
  }
  std::sort(candidates.begin(), candidates.end(), [&](const auto& a, const auto& b) {
    if ((a.gold == want_gold) != (b.gold == want_gold)) return a.gold == want_gold;
    if (a.need != b.need) return a.need > b.need;
    return a.id < b.id;
  });
  std::vector<int64_t> ids;
  for (const auto& candidate : candidates) ids.push_back(candidate.id);
  return ids;
}

// ---- A campaign: labelers taking, submitting, skipping, abandoning and coming back late. ----

struct Campaign {
  storage::Database db = storage::open_database(":memory:");
  std::vector<int64_t> labelers;
  std::vector<int64_t> prompts;
  std::mt19937 rng{7};

  Campaign() {
    storage::Transaction transaction(db);
    // Targets 1-4, a few gold prompts, and a few with target 0 (HH-style: never assigned here).
    for (int i = 0; i < 32; ++i) {
      const bool gold = i % 8 == 3;
      const int target = i % 16 == 5 ? 0 : 1 + i % 4;
      prompts.push_back(storage::insert_prompt(db, make_prompt("p" + std::to_string(i), target, gold), kNow));
    }
    for (int i = 0; i < 5; ++i) {
      labelers.push_back(storage::insert_labeler(db, "l" + std::to_string(i), "labeler",
                                                 std::string(63, 'a') + std::to_string(i), kNow));
    }
    transaction.commit();
  }

  int chance() { return std::uniform_int_distribution<int>(0, 99)(rng); }

  // One labeler does one thing: answer, skip or abandon their open task, or take a new one
  // (usually the queue's choice, sometimes any prompt they never had, as old rows may hold).
  void step() {
    const int64_t labeler = labelers[std::uniform_int_distribution<size_t>(0, labelers.size() - 1)(rng)];
    storage::Transaction transaction(db);
    if (auto open = storage::find_open_assignment(db, labeler)) {
      const int roll = chance();
      if (roll < 40) {
        submit(*open);
      } else if (roll < 60) {
        storage::insert_skip(db, open->id, "other", "", kNow);
      } else if (roll < 75) {
        storage::set_assignment_expiry(db, open->id, roll < 70 ? kExpired : kNow);  // kNow: expired too
      }
    } else if (chance() < 80) {
      if (auto prompt = storage::pick_next_prompt(db, labeler, kNow, chance() < 20)) take(labeler, *prompt);
    } else {
      const int64_t prompt = prompts[std::uniform_int_distribution<size_t>(0, prompts.size() - 1)(rng)];
      if (!has_had(labeler, prompt)) take(labeler, prompt);
    }
    transaction.commit();
  }

  void take(int64_t labeler, int64_t prompt) {
    std::vector<int64_t> order;
    for (const auto& response : storage::responses_of(db, prompt)) order.push_back(response.id);
    storage::insert_assignment(db, labeler, prompt, order, kNow, chance() < 15 ? kExpired : kInFlight);
  }

  void submit(const storage::Assignment& assignment) {
    storage::NewSubmission submission;
    submission.assignment_id = assignment.id;
    submission.labeler_id = assignment.labeler_id;
    submission.idempotency_key = "submission-" + std::to_string(assignment.id);
    submission.request_json = "{}";
    submission.tiers = {{assignment.shown_order[0]}, {assignment.shown_order[1]}};
    storage::insert_submission(db, submission, kNow);
  }

  bool has_had(int64_t labeler, int64_t prompt) {
    return count_rows(db, "SELECT count(*) FROM assignments WHERE labeler_id = " + std::to_string(labeler) +
                              " AND prompt_id = " + std::to_string(prompt)) > 0;
  }
};

// ---- Watching the statements a route runs. ----

// The SQL text of every statement run on the connection (triggers show as "-- TRIGGER name").
class StatementLog {
 public:
  explicit StatementLog(storage::Database& db) : db_(db) {
    sqlite3_trace_v2(db_.handle(), SQLITE_TRACE_STMT, &StatementLog::on_statement, this);
  }
  ~StatementLog() { sqlite3_trace_v2(db_.handle(), 0, nullptr, nullptr); }
  const std::set<std::string>& statements() const { return statements_; }

 private:
  static int on_statement(unsigned, void* self, void*, void* sql) {
    static_cast<StatementLog*>(self)->statements_.insert(static_cast<const char*>(sql));
    return 0;
  }
  storage::Database& db_;
  std::set<std::string> statements_;
};

// Counts (about) the virtual machine instructions SQLite runs on the connection, triggers
// included: a measure of work that does not depend on the machine's speed.
class WorkCounter {
 public:
  explicit WorkCounter(storage::Database& db) : db_(db) {
    sqlite3_progress_handler(db_.handle(), 1, &WorkCounter::on_instruction, this);
  }
  ~WorkCounter() { sqlite3_progress_handler(db_.handle(), 0, nullptr, nullptr); }
  int64_t instructions() const { return instructions_; }

 private:
  static int on_instruction(void* self) {
    ++static_cast<WorkCounter*>(self)->instructions_;
    return 0;
  }
  storage::Database& db_;
  int64_t instructions_ = 0;
};

std::vector<std::string> query_plan(storage::Database& db, const std::string& sql) {
  storage::Statement explain = db.prepare("EXPLAIN QUERY PLAN " + sql);
  std::vector<std::string> lines;
  while (explain.step()) lines.push_back(explain.column_text(3));
  return lines;
}

// A labeler's round trip, as the page makes it: next task (and again, as after a reload), answer
// it (or skip it), progress.
void label_one(storage::Database& db, const storage::Labeler& labeler, bool skip_it, int round) {
  const json task = labeling::next_task(db, labeler)["assignment"];
  ASSERT_FALSE(task.is_null());
  ASSERT_EQ(labeling::next_task(db, labeler)["assignment"]["id"], task["id"]);
  if (skip_it) {
    labeling::skip(db, labeler, task["id"], {{"reason", "other"}});
  } else {
    json tiers = json::array();
    for (const auto& response : task["responses"]) tiers.push_back(json::array({response["id"]}));
    const auto outcome = labeling::submit(db, labeler, task["id"], "round-" + std::to_string(round) + "-" +
                                          labeler.name, {{"tiers", tiers}});
    ASSERT_EQ(outcome.status, 201);
  }
  labeling::me(db, labeler);
}

// A database with `plain` ordinary prompts (target 3) and 20 gold ones, and three labelers.
std::vector<storage::Labeler> fill(storage::Database& db, int plain) {
  storage::Transaction transaction(db);
  for (int i = 0; i < plain; ++i) storage::insert_prompt(db, make_prompt("p" + std::to_string(i), 3, false), kNow);
  for (int i = 0; i < 20; ++i) storage::insert_prompt(db, make_prompt("g" + std::to_string(i), 1, true), kNow);
  transaction.commit();
  std::vector<storage::Labeler> labelers;
  for (const char* name : {"ann", "bob", "cy"}) {
    labelers.push_back(*labeling::authenticate(db, labeling::add_labeler(db, name, "labeler").token));
  }
  return labelers;
}

// Instructions SQLite runs for a fixed session of three labelers (answers, skips, progress).
int64_t work_of_a_session(int plain_prompts) {
  auto db = storage::open_database(":memory:");
  const auto labelers = fill(db, plain_prompts);
  WorkCounter counter(db);
  for (int round = 0; round < 6; ++round) {
    for (const auto& labeler : labelers) label_one(db, labeler, round % 3 == 2, round);
  }
  return counter.instructions();
}

}  // namespace

TEST(LabelingTaskQueue, NextPromptIsTheReferenceChoiceThroughInFlightExpiredSubmittedSkippedAndGold) {
  Campaign campaign;
  for (int step = 0; step < 400; ++step) {
    campaign.step();
    for (const int64_t labeler : campaign.labelers) {
      for (const bool want_gold : {false, true}) {
        const auto expected = reference_queue(campaign.db, labeler, kNow, want_gold);
        const auto picked = storage::pick_next_prompt(campaign.db, labeler, kNow, want_gold);
        ASSERT_EQ(picked.has_value(), !expected.empty()) << "step " << step << ", labeler " << labeler;
        if (picked) {
          ASSERT_EQ(*picked, expected.front()) << "step " << step << ", labeler " << labeler;
        }
      }
    }
  }
  // The campaign went through every state the rule distinguishes.
  auto& db = campaign.db;
  EXPECT_GT(count_rows(db, "SELECT count(*) FROM assignments WHERE status = 'submitted'"), 20);
  EXPECT_GT(count_rows(db, "SELECT count(*) FROM assignments WHERE status = 'skipped'"), 10);
  EXPECT_GT(count_rows(db, "SELECT count(*) FROM assignments a JOIN prompts p ON p.id = a.prompt_id "
                           "WHERE p.is_gold = 1 AND a.status = 'submitted'"), 5);
  EXPECT_GT(count_rows(db, "SELECT count(*) FROM prompts p WHERE target_labels > 0 AND target_labels < "
                           "(SELECT count(*) FROM assignments a WHERE a.prompt_id = p.id AND a.status = 'submitted')"), 0)
      << "some prompt should have more labels than its target (a late answer)";
}

TEST(LabelingTaskQueue, RemainingCountIsTheReferenceCountAfterEveryStep) {
  Campaign campaign;
  int64_t in_flight_seen = 0, exhausted_seen = 0;
  for (int step = 0; step < 400; ++step) {
    campaign.step();
    in_flight_seen += count_rows(campaign.db, std::string("SELECT count(*) FROM assignments WHERE status = 'open' "
                                                          "AND expires_at > '") + kNow + "'");
    for (const int64_t labeler : campaign.labelers) {
      const auto expected = static_cast<int64_t>(reference_queue(campaign.db, labeler, kNow, false).size());
      ASSERT_EQ(storage::count_available_prompts(campaign.db, labeler, kNow), expected)
          << "step " << step << ", labeler " << labeler;
      exhausted_seen += expected == 0 ? 1 : 0;
    }
  }
  EXPECT_GT(in_flight_seen, 100);
  EXPECT_GT(exhausted_seen, 0) << "the campaign should run some labeler out of prompts";
}

TEST(LabelingTaskQueue, MeReportsTheProgressOfARecount) {
  // GET /me compares expiry with the clock: far past and far future stand for expired and held.
  Campaign campaign;
  for (int step = 0; step < 250; ++step) campaign.step();
  auto& db = campaign.db;
  db.exec("UPDATE assignments SET expires_at = '2000-01-01T00:00:00Z' WHERE expires_at <= '" + std::string(kNow) + "'");
  db.exec("UPDATE assignments SET expires_at = '2999-01-01T00:00:00Z' WHERE expires_at > '" + std::string(kNow) + "'");
  ASSERT_GT(count_rows(db, "SELECT count(*) FROM assignments WHERE status = 'open'"), 0);
  for (const int64_t id : campaign.labelers) {
    storage::Labeler labeler;
    labeler.id = id;
    const json progress = labeling::me(db, labeler)["progress"];
    const std::string mine = "SELECT count(*) FROM assignments WHERE labeler_id = " + std::to_string(id);
    EXPECT_EQ(progress["submitted"], count_rows(db, mine + " AND status = 'submitted'"));
    EXPECT_EQ(progress["skipped"], count_rows(db, mine + " AND status = 'skipped'"));
    EXPECT_EQ(progress["remaining"], reference_queue(db, id, storage::utc_now(), false).size());
  }
}

TEST(LabelingTaskQueue, MaintainedCountersEqualARecountAfterEveryKindOfWrite) {
  Campaign campaign;
  auto& db = campaign.db;
  const auto check = [&](const std::string& after) {
    EXPECT_EQ(count_rows(db, R"sql(
      SELECT count(*) FROM prompts
      WHERE submitted_labels != (SELECT count(*) FROM assignments a WHERE a.prompt_id = prompts.id
                                 AND a.status = 'submitted'))sql"), 0) << after;
    EXPECT_EQ(count_rows(db, "SELECT gold_prompts FROM queue_counts"),
              count_rows(db, "SELECT count(*) FROM prompts WHERE target_labels > 0 AND is_gold = 1")) << after;
    EXPECT_EQ(count_rows(db, "SELECT wanted_prompts FROM queue_counts"),
              count_rows(db, "SELECT count(*) FROM prompts WHERE target_labels > 0 AND is_gold = 0 "
                             "AND target_labels > submitted_labels")) << after;
    EXPECT_EQ(count_rows(db, R"sql(
      SELECT count(*) FROM labeler_counts c WHERE
        assigned != (SELECT count(*) FROM assignments a WHERE a.labeler_id = c.labeler_id)
        OR submitted != (SELECT count(*) FROM assignments a WHERE a.labeler_id = c.labeler_id AND a.status = 'submitted')
        OR skipped != (SELECT count(*) FROM assignments a WHERE a.labeler_id = c.labeler_id AND a.status = 'skipped')
        OR gold_assigned != (SELECT count(*) FROM assignments a JOIN prompts p ON p.id = a.prompt_id
                             WHERE a.labeler_id = c.labeler_id AND p.target_labels > 0 AND p.is_gold = 1)
        OR wanted_assigned != (SELECT count(*) FROM assignments a JOIN prompts p ON p.id = a.prompt_id
                               WHERE a.labeler_id = c.labeler_id AND p.target_labels > 0 AND p.is_gold = 0
                               AND p.target_labels > p.submitted_labels))sql"), 0) << after;
    EXPECT_EQ(count_rows(db, "SELECT count(*) FROM labeler_counts"), count_rows(db, "SELECT count(*) FROM labelers"));
  };
  for (int step = 0; step < 300; ++step) {
    campaign.step();
    check("step " + std::to_string(step));
  }
  // Writes the service does not make today, which the counters follow all the same.
  db.exec("UPDATE prompts SET target_labels = target_labels + 2 WHERE id % 3 = 0");
  check("raising targets");
  db.exec("UPDATE prompts SET target_labels = 0 WHERE id % 5 = 0");
  check("withdrawing prompts");
  db.exec("DELETE FROM assignments WHERE status = 'open' AND id % 2 = 0");
  check("releasing open assignments");
  storage::insert_prompt(db, make_prompt("late", 2, false), kNow);
  storage::insert_prompt(db, make_prompt("late-gold", 1, true), kNow);
  db.exec("DELETE FROM responses WHERE prompt_id = (SELECT id FROM prompts WHERE external_id = 'late')");
  db.exec("DELETE FROM prompts WHERE external_id = 'late'");
  check("adding and removing prompts");
  storage::insert_labeler(db, "newcomer", "labeler", std::string(64, 'n'), kNow);
  check("a new labeler");
}

TEST(LabelingTaskQueue, AnAssignmentCannotMoveToAnotherLabelerOrPrompt) {
  Campaign campaign;
  for (int step = 0; step < 20; ++step) campaign.step();
  auto& db = campaign.db;
  EXPECT_THROW(db.exec("UPDATE assignments SET labeler_id = labeler_id + 1 WHERE id = 1"), storage::SqliteError);
  EXPECT_THROW(db.exec("UPDATE assignments SET prompt_id = prompt_id + 1 WHERE id = 1"), storage::SqliteError);
}

TEST(LabelingTaskQueue, HotRoutesSearchIndexesAndNeverScanPromptsOrAssignments) {
  auto db = storage::open_database(":memory:");
  const auto labelers = fill(db, 50);
  std::set<std::string> statements;
  {
    StatementLog log(db);
    for (int round = 0; round < 6; ++round) {
      for (const auto& labeler : labelers) label_one(db, labeler, round % 3 == 2, round);
    }
    statements = log.statements();
  }
  // The vocabulary tables (flags, skip reasons) are a handful of rows: reading them whole is fine.
  const std::set<std::string> small_tables = {"flags", "skip_reasons"};
  int checked = 0;
  for (const std::string& sql : statements) {
    if (sql.rfind("--", 0) == 0) continue;  // a trigger's marker, not a statement
    std::string shown;
    bool touches_large_table = false;
    for (const auto& line : query_plan(db, sql)) {
      shown += "\n    " + line;
      const bool scan = line.rfind("SCAN ", 0) == 0, search = line.rfind("SEARCH ", 0) == 0;
      if (!scan && !search) continue;
      const size_t start = line.find(' ') + 1;
      const std::string table = line.substr(start, line.find(' ', start) - start);
      if (table.front() == '(' || small_tables.count(table)) continue;  // a subquery's rows, or a small table
      touches_large_table = true;
      EXPECT_FALSE(scan) << sql << "\n  reads a whole table:" << shown;
    }
    // Sorting needs every matching row first: the queue's order must come from an index.
    if (touches_large_table) {
      EXPECT_EQ(shown.find("TEMP B-TREE FOR ORDER BY"), std::string::npos) << sql << "\n  sorts:" << shown;
    }
    ++checked;
  }
  EXPECT_GT(checked, 20);
}

TEST(LabelingTaskQueue, WorkPerRequestDoesNotGrowWithThePromptCount) {
  const int64_t small = work_of_a_session(500);
  const int64_t large = work_of_a_session(16 * 500);
  // Sixteen times the prompts: a scan would do about sixteen times the work.
  EXPECT_LT(static_cast<double>(large), 1.25 * static_cast<double>(small)) << small << " vs " << large << " instructions";
}
