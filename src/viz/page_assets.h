// The inline CSS and JavaScript of the HTML pages (page_assets.cpp).
#pragma once

#include <string_view>

namespace heed::viz::detail {

extern const std::string_view kPageCss;              // shared by every page
extern const std::string_view kAttentionPageScript;  // attention_page.h
extern const std::string_view kCurvesPageScript;     // training_curves.h

}  // namespace heed::viz::detail
