// JSONL import of prompts with their K candidate responses ("tasks" lines) and of HH-RLHF
// comparisons ("hh" lines, stored as already-ranked by the external labeler "hh-rlhf").
// All-or-nothing: every line is validated first, then everything is written in one transaction.
#pragma once

#include <istream>
#include <stdexcept>
#include <string>

#include "storage/sqlite.h"

namespace rlhf::labeling {

enum class ImportFormat { Auto, Tasks, Hh };

ImportFormat parse_import_format(const std::string& name);  // auto, tasks, hh

struct ImportSummary {
  int imported = 0;
  int unchanged = 0;  // lines identical to what the database already holds
};

// What import_jsonl throws: the message reads "SOURCE line N, field F: problem".
struct ImportError : std::runtime_error {
  ImportError(const std::string& message, int line, std::string field)
      : std::runtime_error(message), line(line), field(std::move(field)) {}
  int line;
  std::string field;
};

// Throws ImportError and writes nothing on any error.
ImportSummary import_jsonl(storage::Database& db, std::istream& input, ImportFormat format,
                           const std::string& source_name);

}  // namespace rlhf::labeling
