#include "labeling/rankings.h"

#include <stdexcept>

namespace rlhf::labeling {

std::vector<RankingRecord> load_live_rankings(storage::Database& db) {
  std::map<int64_t, storage::Labeler> labelers;
  for (auto& labeler : storage::list_labelers(db)) labelers[labeler.id] = labeler;
  std::vector<RankingRecord> records;
  for (auto& submission : storage::live_submissions(db)) {
    RankingRecord record;
    record.assignment = *storage::find_assignment(db, submission.assignment_id);
    record.labeler = labelers.at(submission.labeler_id);
    record.prompt = *storage::find_prompt(db, record.assignment.prompt_id);
    record.responses = storage::responses_of(db, record.prompt.id);
    record.tiers = storage::load_tiers(db, submission.id);
    record.submission = std::move(submission);
    records.push_back(std::move(record));
  }
  return records;
}

std::map<int64_t, size_t> tier_of(const storage::Tiers& tiers) {
  std::map<int64_t, size_t> tiers_by_response;
  for (size_t tier = 0; tier < tiers.size(); ++tier) {
    for (int64_t id : tiers[tier]) tiers_by_response[id] = tier;
  }
  return tiers_by_response;
}

}  // namespace rlhf::labeling
