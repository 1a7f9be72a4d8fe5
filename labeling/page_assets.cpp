// The labeling page embedded in the binary. The bytes come from labeling/page/ through
// labeling/page/embed_page.cmake (a build step, see labeling/CMakeLists.txt); this file only maps
// request paths to them.
#include "labeling/page_assets.h"

#include "labeling_page_data.inc"  // generated into the build tree

namespace rlhf::labeling {
namespace {

std::string_view view(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

struct Route {
  std::string_view path;
  PageAsset asset;
};

const Route kRoutes[] = {
    {"/", {"text/html; charset=utf-8", view(page_data::index_html, page_data::index_html_size)}},
    {"/app.js",
     {"text/javascript; charset=utf-8", view(page_data::app_js, page_data::app_js_size)}},
    {"/ranking.js",
     {"text/javascript; charset=utf-8", view(page_data::ranking_js, page_data::ranking_js_size)}},
    {"/sync.js",
     {"text/javascript; charset=utf-8", view(page_data::sync_js, page_data::sync_js_size)}},
    {"/drag.js",
     {"text/javascript; charset=utf-8", view(page_data::drag_js, page_data::drag_js_size)}},
    {"/style.css",
     {"text/css; charset=utf-8", view(page_data::style_css, page_data::style_css_size)}},
    {"/guidelines",
     {"text/html; charset=utf-8",
      view(page_data::guidelines_html, page_data::guidelines_html_size)}},
};

}  // namespace

const PageAsset* find_page_asset(std::string_view path) {
  for (const Route& route : kRoutes) {
    if (route.path == path) return &route.asset;
  }
  return nullptr;
}

}  // namespace rlhf::labeling
