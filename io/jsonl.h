// Line-oriented input: text and JSONL files, optionally gzip-compressed (the shipped HH-RLHF files
// are), with errors that name FILE:LINE and the field at fault.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rlhf {

// A whole file, transparently gunzipping *.gz.
std::string read_text(const std::filesystem::path& file);

// The lines of a text file (optionally .gz), without their '\n'.
std::vector<std::string> read_lines(const std::filesystem::path& file);

// Calls visit(object, "FILE:LINE") for every non-blank line of a JSONL file (optionally .gz); a line
// that is not a JSON object is an error naming FILE:LINE.
void for_each_json_line(const std::filesystem::path& file,
                        const std::function<void(const nlohmann::json& line, const std::string& where)>& visit);

// object[field] as a string; otherwise an error "WHERE: field "FIELD" must be a string".
std::string required_string(const nlohmann::json& object, const char* field, const std::string& where);

}  // namespace rlhf
