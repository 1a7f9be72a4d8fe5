#include "storage/catalog.h"

namespace rlhf::storage {

std::vector<Flag> list_flags(Database& db) {
  Statement query = db.prepare("SELECT code, label, description FROM flags ORDER BY sort_order");
  std::vector<Flag> flags;
  while (query.step()) flags.push_back({query.column_text(0), query.column_text(1), query.column_text(2)});
  return flags;
}

std::vector<SkipReason> list_skip_reasons(Database& db) {
  Statement query = db.prepare("SELECT code, label FROM skip_reasons ORDER BY sort_order");
  std::vector<SkipReason> reasons;
  while (query.step()) reasons.push_back({query.column_text(0), query.column_text(1)});
  return reasons;
}

}  // namespace rlhf::storage
