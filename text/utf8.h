// Model output can stop inside a multi-byte character; JSON and HTML writers need valid UTF-8.
#pragma once

#include <string>

namespace rlhf {

// A copy in which every byte sequence that is not valid UTF-8 is replaced by U+FFFD.
std::string valid_utf8(const std::string& text);

// valid_utf8 of the text without leading and trailing whitespace: a model answer as people see it.
std::string clean_answer(const std::string& text);

}  // namespace rlhf
