// Helpers shared by the SVG and HTML writers of viz/: escaping, number formatting, label
// truncation, embedding JSON in a page, writing files.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace heed::viz::detail {

// Text for XML/HTML content or a quoted attribute: & < > " ' escaped; invalid UTF-8 and the
// control characters XML 1.0 forbids become U+FFFD.
std::string xml_escape(std::string_view text);

// `value` with at most `decimals` decimals, trailing zeros dropped: 0.25, 1, 0.0001, -3.5.
// Non-finite values give "nan" / "inf" / "-inf".
std::string format_number(double value, int decimals);

// Code points in UTF-8 text (invalid bytes count one each).
int utf8_length(std::string_view text);
// At most `max_chars` code points: longer text keeps max_chars - 1 of them and ends with "…".
std::string truncate_utf8(std::string_view text, int max_chars);

// ASCII letters lowered (for case-insensitive matching of names).
std::string to_lower(std::string_view text);

// JSON text safe inside <script type="application/json">: '<', '>' and '&' (which occur only
// inside strings) written as \u003c \u003e \u0026, so "</script>" cannot appear; invalid UTF-8
// replaced by U+FFFD.
std::string script_json(const nlohmann::json& data);

// Writes `content` to `path` (creating parent directories); throws naming `who` and the path.
void write_text_file(const std::filesystem::path& path, std::string_view content,
                     std::string_view who);

}  // namespace heed::viz::detail
