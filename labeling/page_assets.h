// The labeling page (HTML/CSS/JS) embedded in the binary. The implementation is generated from
// labeling/page/ by the page owner; the server only looks assets up by request path.
#pragma once

#include <string_view>

namespace rlhf::labeling {

struct PageAsset {
  std::string_view content_type;
  std::string_view body;
};

// The asset for a request path such as "/", "/app.js", "/style.css", "/guidelines", or nullptr.
const PageAsset* find_page_asset(std::string_view path);

}  // namespace rlhf::labeling
