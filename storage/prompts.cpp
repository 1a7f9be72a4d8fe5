#include "storage/prompts.h"

#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace rlhf::storage {
namespace {

constexpr const char* kPromptColumns =
    "id, external_id, kind, conversation, target_labels, is_gold, gold_ranking, batch, source, "
    "content_hash";

Prompt read_prompt(const Statement& row) {
  Prompt prompt;
  prompt.id = row.column_int(0);
  prompt.external_id = row.column_text(1);
  prompt.kind = row.column_text(2);
  prompt.conversation_json = row.column_text(3);
  prompt.target_labels = static_cast<int>(row.column_int(4));
  prompt.is_gold = row.column_int(5) != 0;
  if (auto gold = row.column_optional_text(6)) prompt.gold_ranking = tiers_from_json(*gold);
  prompt.batch = row.column_optional_text(7);
  prompt.source = row.column_text(8);
  prompt.content_hash = row.column_text(9);
  return prompt;
}

template <typename Value>
std::optional<Prompt> find_one(Database& db, const char* where, const Value& value) {
  Statement query = db.prepare(std::string("SELECT ") + kPromptColumns + " FROM prompts WHERE " + where);
  query.bind(1, value);
  if (!query.step()) return std::nullopt;
  return read_prompt(query);
}

// Gold tiers arrive as external ids; stored as database ids like every other ranking.
std::string gold_to_json(const std::vector<std::vector<std::string>>& gold,
                         const std::map<std::string, int64_t>& ids) {
  Tiers tiers;
  for (const auto& tier : gold) {
    std::vector<int64_t> row;
    for (const auto& external_id : tier) {
      auto found = ids.find(external_id);
      if (found == ids.end()) throw std::runtime_error("gold ranking names unknown response " + external_id);
      row.push_back(found->second);
    }
    tiers.push_back(row);
  }
  return tiers_to_json(tiers);
}

}  // namespace

int64_t insert_prompt(Database& db, const NewPrompt& prompt, const std::string& now) {
  db.prepare(
        "INSERT INTO prompts (external_id, kind, conversation, target_labels, is_gold, batch, source, "
        "content_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(1, prompt.external_id)
      .bind(2, prompt.kind)
      .bind(3, prompt.conversation_json)
      .bind(4, prompt.target_labels)
      .bind(5, 0)
      .bind(6, prompt.batch)
      .bind(7, prompt.source)
      .bind(8, prompt.content_hash)
      .bind(9, now)
      .run();
  const int64_t prompt_id = db.last_insert_rowid();

  std::map<std::string, int64_t> response_ids;
  Statement insert = db.prepare(
      "INSERT INTO responses (prompt_id, external_id, text, model, position) VALUES (?, ?, ?, ?, ?)");
  for (size_t i = 0; i < prompt.responses.size(); ++i) {
    const NewResponse& response = prompt.responses[i];
    insert.reset();
    insert.bind(1, prompt_id).bind(2, response.external_id).bind(3, response.text);
    insert.bind(4, response.model).bind(5, static_cast<int64_t>(i)).run();
    response_ids[response.external_id] = db.last_insert_rowid();
  }
  if (prompt.gold) {
    // Gold needs the response ids, which exist only now; both columns change together so the
    // CHECK (is_gold = (gold_ranking IS NOT NULL)) holds after every statement.
    db.prepare("UPDATE prompts SET is_gold = 1, gold_ranking = ? WHERE id = ?")
        .bind(1, gold_to_json(*prompt.gold, response_ids))
        .bind(2, prompt_id)
        .run();
  }
  return prompt_id;
}

std::optional<Prompt> find_prompt(Database& db, int64_t id) { return find_one(db, "id = ?", id); }

std::optional<Prompt> find_prompt_by_external_id(Database& db, const std::string& external_id) {
  return find_one(db, "external_id = ?", external_id);
}

std::vector<Prompt> all_prompts(Database& db) {
  Statement query = db.prepare(std::string("SELECT ") + kPromptColumns + " FROM prompts ORDER BY id");
  std::vector<Prompt> prompts;
  while (query.step()) prompts.push_back(read_prompt(query));
  return prompts;
}

std::vector<Response> responses_of(Database& db, int64_t prompt_id) {
  Statement query = db.prepare(
      "SELECT id, prompt_id, external_id, text, model, position FROM responses WHERE prompt_id = ? "
      "ORDER BY position");
  query.bind(1, prompt_id);
  std::vector<Response> responses;
  while (query.step()) {
    Response response;
    response.id = query.column_int(0);
    response.prompt_id = query.column_int(1);
    response.external_id = query.column_text(2);
    response.text = query.column_text(3);
    response.model = query.column_optional_text(4);
    response.position = static_cast<int>(query.column_int(5));
    responses.push_back(std::move(response));
  }
  return responses;
}

int64_t count_prompts(Database& db) {
  Statement query = db.prepare("SELECT count(*) FROM prompts");
  query.step();
  return query.column_int(0);
}

std::string tiers_to_json(const Tiers& tiers) { return nlohmann::json(tiers).dump(); }

Tiers tiers_from_json(const std::string& json) { return nlohmann::json::parse(json).get<Tiers>(); }

}  // namespace rlhf::storage
