#include "labeling/submission_input.h"

#include <algorithm>

#include "labeling/limits.h"

namespace rlhf::labeling {
namespace {

int64_t response_id(const json& value, const std::string& field) {
  if (!value.is_number_integer() || value.get<int64_t>() <= 0) {
    throw FieldError(field, "must be a response id (positive integer)");
  }
  return value.get<int64_t>();
}

storage::Tiers parse_tiers(const json& body) {
  if (!body.contains("tiers")) throw FieldError("tiers", "is required");
  const json& tiers = body.at("tiers");
  if (!tiers.is_array() || tiers.empty()) throw FieldError("tiers", "must be a non-empty array of tiers");
  storage::Tiers result;
  for (size_t t = 0; t < tiers.size(); ++t) {
    const std::string field = "tiers[" + std::to_string(t) + "]";
    if (!tiers[t].is_array() || tiers[t].empty()) throw FieldError(field, "must be a non-empty array of response ids");
    std::vector<int64_t> tier;
    for (size_t i = 0; i < tiers[t].size(); ++i) {
      tier.push_back(response_id(tiers[t][i], field + "[" + std::to_string(i) + "]"));
    }
    result.push_back(tier);
  }
  return result;
}

std::vector<std::string> parse_flags(const json& annotation, const std::string& prefix) {
  std::vector<std::string> flags;
  if (!annotation.contains("flags") || annotation.at("flags").is_null()) return flags;
  const json& list = annotation.at("flags");
  if (!list.is_array()) throw FieldError(prefix + ".flags", "must be an array of flag codes");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string field = prefix + ".flags[" + std::to_string(i) + "]";
    std::string code = checked_string(list[i], 64, field);
    if (std::find(flags.begin(), flags.end(), code) != flags.end()) {
      throw FieldError(field, "flag '" + code + "' is given twice");
    }
    flags.push_back(code);
  }
  return flags;
}

std::vector<storage::Annotation> parse_annotations(const json& body) {
  std::vector<storage::Annotation> annotations;
  if (!body.contains("annotations") || body.at("annotations").is_null()) return annotations;
  const json& list = body.at("annotations");
  if (!list.is_array()) throw FieldError("annotations", "must be an array");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string prefix = "annotations[" + std::to_string(i) + "]";
    require_object(list[i], prefix);
    reject_unknown_fields(list[i], {"response_id", "likert", "flags"}, prefix + ".");
    if (!list[i].contains("response_id")) throw FieldError(prefix + ".response_id", "is required");
    storage::Annotation annotation;
    annotation.response_id = response_id(list[i].at("response_id"), prefix + ".response_id");
    if (auto likert = optional_integer(list[i], "likert", kLikertMin, kLikertMax, prefix + ".likert")) {
      annotation.likert = static_cast<int>(*likert);
    }
    annotation.flags = parse_flags(list[i], prefix);
    annotations.push_back(annotation);
  }
  return annotations;
}

}  // namespace

SubmissionInput parse_submission(const json& body) {
  require_object(body, "body");
  reject_unknown_fields(body, {"tiers", "annotations", "comment", "duration_ms", "guidelines_version", "supersedes"});
  SubmissionInput input;
  input.tiers = parse_tiers(body);
  input.annotations = parse_annotations(body);
  input.comment = optional_text(body, "comment", kMaxCommentChars, "comment").value_or("");
  input.duration_ms = optional_integer(body, "duration_ms", 0, 86'400'000, "duration_ms");
  input.guidelines_version = optional_string(body, "guidelines_version", 32, "guidelines_version");
  input.supersedes = optional_integer(body, "supersedes", 1, INT64_MAX, "supersedes");
  input.canonical_json = body.dump();  // nlohmann objects keep keys sorted: same content, same text
  return input;
}

void check_submission(const SubmissionInput& input, const std::vector<int64_t>& shown_order,
                      const std::set<std::string>& flag_codes) {
  const std::set<int64_t> shown(shown_order.begin(), shown_order.end());
  std::set<int64_t> ranked;
  for (const auto& tier : input.tiers) {
    for (int64_t id : tier) {
      if (!shown.count(id)) throw FieldError("tiers", "response " + std::to_string(id) + " was not shown in this assignment");
      if (!ranked.insert(id).second) throw FieldError("tiers", "response " + std::to_string(id) + " appears twice");
    }
  }
  if (ranked.size() != shown.size()) {
    throw FieldError("tiers", "must rank every shown response (" + std::to_string(ranked.size()) + " of " +
                                  std::to_string(shown.size()) + " ranked)");
  }
  std::set<int64_t> annotated;
  for (size_t i = 0; i < input.annotations.size(); ++i) {
    const auto& annotation = input.annotations[i];
    const std::string prefix = "annotations[" + std::to_string(i) + "]";
    if (!shown.count(annotation.response_id)) throw FieldError(prefix + ".response_id", "was not shown in this assignment");
    if (!annotated.insert(annotation.response_id).second) throw FieldError(prefix + ".response_id", "is annotated twice");
    for (const auto& flag : annotation.flags) {
      if (!flag_codes.count(flag)) throw FieldError(prefix + ".flags", "unknown flag '" + flag + "'");
    }
  }
}

SkipInput parse_skip(const json& body, const std::set<std::string>& reason_codes) {
  require_object(body, "body");
  reject_unknown_fields(body, {"reason", "comment"});
  SkipInput input;
  input.reason = required_string(body, "reason", 64, "reason");
  if (!reason_codes.count(input.reason)) throw FieldError("reason", "unknown skip reason '" + input.reason + "'");
  input.comment = optional_text(body, "comment", kMaxCommentChars, "comment").value_or("");
  return input;
}

}  // namespace rlhf::labeling
