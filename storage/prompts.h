// Prompts and their K candidate responses. JSON columns (conversation, gold ranking) are passed
// as JSON text: storage checks they are valid JSON, labeling/ gives them meaning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite.h"

namespace rlhf::storage {

using Tiers = std::vector<std::vector<int64_t>>;  // response ids, best tier first

struct NewResponse {
  std::string external_id;
  std::string text;
  std::optional<std::string> model;
};

struct NewPrompt {
  std::string external_id;
  std::string kind;               // helpful, harmless, honest, general
  std::string conversation_json;  // [{"role","content"}, ...]
  int target_labels = 1;          // 0: never assigned to people (e.g. already ranked elsewhere)
  std::optional<std::vector<std::vector<std::string>>> gold;  // tiers of response external ids
  std::optional<std::string> batch;
  std::string source = "tasks";   // tasks or hh-rlhf
  std::string content_hash;       // lets a re-import of the same line be a no-op
  std::vector<NewResponse> responses;
};

struct Prompt {
  int64_t id = 0;
  std::string external_id;
  std::string kind;
  std::string conversation_json;
  int target_labels = 0;
  bool is_gold = false;
  std::optional<Tiers> gold_ranking;  // response database ids
  std::optional<std::string> batch;
  std::string source;
  std::string content_hash;
};

struct Response {
  int64_t id = 0;
  int64_t prompt_id = 0;
  std::string external_id;
  std::string text;
  std::optional<std::string> model;
  int position = 0;
};

// Inserts the prompt and its responses; the caller owns the transaction.
int64_t insert_prompt(Database& db, const NewPrompt& prompt, const std::string& now);
std::optional<Prompt> find_prompt(Database& db, int64_t id);
std::optional<Prompt> find_prompt_by_external_id(Database& db, const std::string& external_id);
std::vector<Prompt> all_prompts(Database& db);  // in insertion order
std::vector<Response> responses_of(Database& db, int64_t prompt_id);  // in import order
int64_t count_prompts(Database& db);

std::string tiers_to_json(const Tiers& tiers);
Tiers tiers_from_json(const std::string& json);

}  // namespace rlhf::storage
