#include "storage/task_queue.h"

#include <limits>
#include <stdexcept>
#include <vector>

namespace rlhf::storage {
namespace {

struct Candidate {
  int64_t prompt_id = 0;
  int64_t need = 0;
};

// Queue order: more labels needed first, then the older prompt.
bool ranks_before(const Candidate& a, const Candidate& b) {
  return a.need != b.need ? a.need > b.need : a.prompt_id < b.prompt_id;
}

// A prompt that someone's open, unexpired assignment holds.
struct InFlight {
  int64_t prompt_id = 0;
  bool is_gold = false;
  int64_t missing = 0;  // target_labels - submitted assignments
  int64_t holders = 0;  // open, unexpired assignments
  int64_t need() const { return missing - holders; }
};

// The in-flight prompts this labeler never had, found through assignments_open_by_expiry: at most
// one per labeler.
std::vector<InFlight> in_flight_prompts(Database& db, int64_t labeler_id, const std::string& now) {
  Statement query = db.prepare(R"sql(
    SELECT p.id, p.is_gold, p.missing_labels, count(*)
    FROM assignments a JOIN prompts p ON p.id = a.prompt_id
    WHERE a.status = 'open' AND a.expires_at > ?2 AND p.target_labels > 0
      AND NOT EXISTS (SELECT 1 FROM assignments mine WHERE mine.labeler_id = ?1 AND mine.prompt_id = p.id)
    GROUP BY p.id)sql");
  query.bind(1, labeler_id).bind(2, now);
  std::vector<InFlight> prompts;
  while (query.step()) {
    prompts.push_back({query.column_int(0), query.column_int(1) != 0, query.column_int(2), query.column_int(3)});
  }
  return prompts;
}

// The first prompt of the kind in queue order that nobody holds and the labeler never had; its
// need is its missing_labels. The lower bound on missing_labels keeps the walk for the other kind
// off the prompts that have all their labels (they would all be read, to be refused); gold prompts
// are candidates whatever they miss.
std::optional<Candidate> first_free_prompt(Database& db, int64_t labeler_id, const std::string& now, bool gold) {
  Statement query = db.prepare(R"sql(
    SELECT p.id, p.missing_labels FROM prompts p
    WHERE p.target_labels > 0 AND p.is_gold = ?3 AND p.missing_labels > ?4
      AND NOT EXISTS (SELECT 1 FROM assignments mine WHERE mine.labeler_id = ?1 AND mine.prompt_id = p.id)
      AND NOT EXISTS (SELECT 1 FROM assignments a
                      WHERE a.prompt_id = p.id AND a.status = 'open' AND a.expires_at > ?2)
    ORDER BY p.missing_labels DESC, p.id ASC
    LIMIT 1)sql");
  const int64_t above = gold ? std::numeric_limits<int64_t>::min() : 0;
  query.bind(1, labeler_id).bind(2, now).bind(3, gold ? 1 : 0).bind(4, above);
  if (!query.step()) return std::nullopt;
  return Candidate{query.column_int(0), query.column_int(1)};
}

std::optional<Candidate> best_of_kind(Database& db, int64_t labeler_id, const std::string& now, bool gold,
                                      const std::vector<InFlight>& in_flight) {
  std::optional<Candidate> best = first_free_prompt(db, labeler_id, now, gold);
  for (const InFlight& prompt : in_flight) {
    if (prompt.is_gold != gold || (!gold && prompt.need() <= 0)) continue;
    const Candidate candidate{prompt.prompt_id, prompt.need()};
    if (!best || ranks_before(candidate, *best)) best = candidate;
  }
  return best;
}

}  // namespace

std::optional<int64_t> pick_next_prompt(Database& db, int64_t labeler_id, const std::string& now,
                                        bool want_gold) {
  const std::vector<InFlight> in_flight = in_flight_prompts(db, labeler_id, now);
  for (const bool gold : {want_gold, !want_gold}) {
    if (auto best = best_of_kind(db, labeler_id, now, gold, in_flight)) return best->prompt_id;
  }
  return std::nullopt;
}

int64_t count_available_prompts(Database& db, int64_t labeler_id, const std::string& now) {
  // Every gold and wanted prompt, less those the labeler already had...
  Statement query = db.prepare(
      "SELECT q.gold_prompts + q.wanted_prompts - c.gold_assigned - c.wanted_assigned "
      "FROM queue_counts q JOIN labeler_counts c ON c.labeler_id = ?1 WHERE q.id = 1");
  query.bind(1, labeler_id);
  if (!query.step()) throw std::runtime_error("no queue counts for labeler " + std::to_string(labeler_id));
  int64_t available = query.column_int(0);
  // ...less the wanted prompts whose missing labels are all held by someone right now.
  for (const InFlight& prompt : in_flight_prompts(db, labeler_id, now)) {
    if (!prompt.is_gold && prompt.missing > 0 && prompt.need() <= 0) --available;
  }
  return available;
}

}  // namespace rlhf::storage
