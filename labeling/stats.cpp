#include "labeling/stats.h"

#include <algorithm>
#include <map>
#include <vector>

#include "labeling/rankings.h"
#include "storage/assignments.h"
#include "storage/labelers.h"

namespace rlhf::labeling {
namespace {

struct Tally {
  int64_t agree = 0;
  int64_t total = 0;
  void add(bool same) { agree += same ? 1 : 0, total += 1; }
  json rate() const { return total ? json(static_cast<double>(agree) / total) : json(nullptr); }
};

// -1: a ranked above b, +1: b above a, 0: tied.
int order(const std::map<int64_t, size_t>& tiers, int64_t a, int64_t b) {
  const size_t ta = tiers.at(a), tb = tiers.at(b);
  return ta < tb ? -1 : (ta > tb ? 1 : 0);
}

std::vector<int64_t> response_ids(const RankingRecord& record) {
  std::vector<int64_t> ids;
  for (const auto& response : record.responses) ids.push_back(response.id);
  return ids;
}

void compare(const RankingRecord& x, const RankingRecord& y, Tally& tally) {
  const auto tx = tier_of(x.tiers), ty = tier_of(y.tiers);
  const auto ids = response_ids(x);
  for (size_t i = 0; i < ids.size(); ++i) {
    for (size_t j = i + 1; j < ids.size(); ++j) {
      const int ox = order(tx, ids[i], ids[j]), oy = order(ty, ids[i], ids[j]);
      if (ox != 0 && oy != 0) tally.add(ox == oy);
    }
  }
}

void score_gold(const RankingRecord& record, Tally& tally) {
  const auto gold = tier_of(*record.prompt.gold_ranking), mine = tier_of(record.tiers);
  const auto ids = response_ids(record);
  for (size_t i = 0; i < ids.size(); ++i) {
    for (size_t j = i + 1; j < ids.size(); ++j) {
      const int expected = order(gold, ids[i], ids[j]);
      if (expected != 0) tally.add(order(mine, ids[i], ids[j]) == expected);
    }
  }
}

json median(std::vector<int64_t> values) {
  if (values.empty()) return nullptr;
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

json overall_counts(storage::Database& db, size_t submissions) {
  // submitted_labels is the prompt's count of submitted assignments (kept by the schema).
  storage::Statement query = db.prepare(
      "SELECT count(*), coalesce(sum(submitted_labels >= target_labels), 0) FROM prompts WHERE target_labels > 0");
  query.step();
  return {{"prompts", query.column_int(0)}, {"prompts_complete", query.column_int(1)}, {"submissions", submissions}};
}

}  // namespace

json labeling_stats(storage::Database& db) {
  storage::Transaction snapshot(db, storage::Transaction::Mode::Read);
  std::vector<RankingRecord> human;
  for (auto& record : load_live_rankings(db)) {
    if (record.labeler.role != "external") human.push_back(std::move(record));
  }
  std::map<int64_t, Tally> agreement, gold;
  std::map<int64_t, std::vector<int64_t>> durations;
  Tally overall;
  for (size_t i = 0; i < human.size(); ++i) {
    const auto& record = human[i];
    if (record.submission.duration_ms) durations[record.labeler.id].push_back(*record.submission.duration_ms);
    if (record.prompt.is_gold) score_gold(record, gold[record.labeler.id]);
    for (size_t j = i + 1; j < human.size(); ++j) {
      const auto& other = human[j];
      if (other.prompt.id != record.prompt.id || other.labeler.id == record.labeler.id) continue;
      Tally pair;
      compare(record, other, pair);
      for (auto* tally : {&agreement[record.labeler.id], &agreement[other.labeler.id], &overall}) {
        tally->agree += pair.agree, tally->total += pair.total;
      }
    }
  }
  json labelers = json::array();
  for (const auto& labeler : storage::list_labelers(db)) {
    if (labeler.role == "external") continue;
    const storage::AssignmentCounts done = storage::count_assignments(db, labeler.id);
    labelers.push_back({{"name", labeler.name},
                        {"submitted", done.submitted},
                        {"skipped", done.skipped},
                        {"median_duration_ms", median(durations[labeler.id])},
                        {"agreement", agreement[labeler.id].rate()},
                        {"agreement_pairs", agreement[labeler.id].total},
                        {"gold_accuracy", gold[labeler.id].rate()},
                        {"gold_pairs", gold[labeler.id].total}});
  }
  json overall_json = overall_counts(db, human.size());
  overall_json["pairwise_agreement"] = overall.rate();
  overall_json["agreement_pairs"] = overall.total;
  snapshot.commit();
  return {{"labelers", labelers}, {"overall", overall_json}};
}

}  // namespace rlhf::labeling
