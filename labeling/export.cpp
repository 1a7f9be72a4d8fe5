#include "labeling/export.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "labeling/hh_transcript.h"
#include "labeling/json_fields.h"
#include "labeling/rankings.h"

namespace rlhf::labeling {
namespace {

const storage::Response& response_by_id(const RankingRecord& record, int64_t id) {
  for (const auto& response : record.responses) {
    if (response.id == id) return response;
  }
  throw std::runtime_error("submission " + std::to_string(record.submission.id) + " ranks unknown response " + std::to_string(id));
}

std::string external_id(const RankingRecord& record, int64_t id) { return response_by_id(record, id).external_id; }

json external_tiers(const RankingRecord& record, const storage::Tiers& tiers) {
  json result = json::array();
  for (const auto& tier : tiers) {
    json row = json::array();
    for (int64_t id : tier) row.push_back(external_id(record, id));
    result.push_back(row);
  }
  return result;
}

json ranking_line(storage::Database& db, const RankingRecord& record) {
  const auto& submission = record.submission;
  const json conversation = json::parse(record.prompt.conversation_json);
  json responses = json::array();
  for (const auto& response : record.responses) {
    responses.push_back({{"id", response.external_id}, {"text", response.text},
                         {"model", response.model ? json(*response.model) : json(nullptr)}});
  }
  json shown = json::array();
  for (int64_t id : record.assignment.shown_order) shown.push_back(external_id(record, id));
  json likert = json::object();
  for (const auto& [id, value] : storage::load_likert(db, submission.id)) likert[external_id(record, id)] = value;
  json flags = json::object();
  for (const auto& [id, codes] : storage::load_flags(db, submission.id)) flags[external_id(record, id)] = codes;
  const bool external = record.labeler.role == "external";
  return {{"submission_id", submission.id},
          {"version", submission.version},
          {"supersedes", submission.supersedes ? json(*submission.supersedes) : json(nullptr)},
          {"prompt_id", record.prompt.external_id},
          {"kind", record.prompt.kind},
          {"batch", record.prompt.batch ? json(*record.prompt.batch) : json(nullptr)},
          {"is_gold", record.prompt.is_gold},
          {"conversation", conversation},
          {"prompt", render_hh_prompt(conversation)},
          {"responses", responses},
          {"shown_order", shown},
          {"tiers", external_tiers(record, record.tiers)},
          {"likert", likert},
          {"flags", flags},
          {"comment", submission.comment},
          // Anonymised: a stable id per labeler, never the name.
          {"labeler", external ? record.labeler.name : "labeler-" + std::to_string(record.labeler.id)},
          {"source", external ? record.labeler.name : "human"},
          {"duration_ms", submission.duration_ms ? json(*submission.duration_ms) : json(nullptr)},
          {"guidelines_version", submission.guidelines_version ? json(*submission.guidelines_version) : json(nullptr)},
          {"created_at", submission.created_at}};
}

size_t write_pairs(const RankingRecord& record, std::ostream& out) {
  const std::string prompt = render_hh_prompt(json::parse(record.prompt.conversation_json));
  const std::string group = record.prompt.external_id + "#" + std::to_string(record.submission.id);
  size_t lines = 0;
  for (size_t better = 0; better < record.tiers.size(); ++better) {
    for (size_t worse = better + 1; worse < record.tiers.size(); ++worse) {
      for (int64_t chosen : record.tiers[better]) {
        for (int64_t rejected : record.tiers[worse]) {
          out << json{{"prompt", prompt},
                      {"chosen", response_by_id(record, chosen).text},
                      {"rejected", response_by_id(record, rejected).text},
                      {"group_id", group},
                      {"margin", worse - better}}.dump()
              << '\n';
          ++lines;
        }
      }
    }
  }
  return lines;
}

}  // namespace

ExportFormat parse_export_format(const std::string& name) {
  if (name == "rankings") return ExportFormat::Rankings;
  if (name == "pairs") return ExportFormat::Pairs;
  if (name == "prompts") return ExportFormat::Prompts;
  throw std::runtime_error("export format must be rankings, pairs or prompts, not '" + name + "'");
}

size_t export_jsonl(storage::Database& db, ExportFormat format, std::ostream& out) {
  // One read transaction: the export is a consistent snapshot even while labelers submit.
  storage::Transaction snapshot(db, storage::Transaction::Mode::Read);
  size_t lines = 0;
  if (format == ExportFormat::Prompts) {
    for (const auto& prompt : storage::all_prompts(db)) {
      if (prompt.is_gold) continue;
      out << json{{"prompt", render_hh_prompt(json::parse(prompt.conversation_json))},
                  {"kind", prompt.kind},
                  {"prompt_id", prompt.external_id}}.dump()
          << '\n';
      ++lines;
    }
    snapshot.commit();
    return lines;
  }
  for (const auto& record : load_live_rankings(db)) {
    if (format == ExportFormat::Pairs) {
      lines += write_pairs(record, out);
    } else {
      out << ranking_line(db, record).dump() << '\n';
      ++lines;
    }
  }
  snapshot.commit();
  return lines;
}

size_t export_to_file(storage::Database& db, ExportFormat format, const std::string& path) {
  std::ostringstream buffer;
  const size_t lines = export_jsonl(db, format, buffer);
  const std::string text = buffer.str();
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + temporary + ": " + std::strerror(errno));
  // A failed export leaves the old file (if any) and no half-written temporary behind.
  const auto fail = [&](const std::string& what, int error) {
    ::unlink(temporary.c_str());
    throw std::runtime_error(what + ": " + std::strerror(error));
  };
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      fail("cannot write " + temporary, error);
    }
    written += static_cast<size_t>(n);
  }
  const int synced = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  if (synced != 0) fail("cannot write " + temporary, synced);
  if (std::rename(temporary.c_str(), path.c_str()) != 0) fail("cannot write " + path, errno);
  return lines;
}

}  // namespace rlhf::labeling
