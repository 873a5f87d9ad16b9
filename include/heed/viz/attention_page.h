// The interactive attention page: one self-contained HTML file (inline CSS and vanilla JavaScript,
// no network, no library) showing AttentionExamples (attention_view.h):
//
//   - an example selector (several sentences per page);
//   - the input, the output, the word alignment (translation) or the predicted class with every
//     class probability (classification);
//   - pooling weights as shading over the text; for a hierarchical model a bar per sentence
//     and its words shaded inside it;
//   - every heatmap group (cross-attention, encoder / decoder self-attention...): an overview of
//     small multiples, one per layer × head (plus the mean of each layer's heads), click one to
//     enlarge it; layer and head selectors (keys: ←/→ head, ↑/↓ layer, [ / ] example); the large
//     heatmap with its labels, colour bar and the value under the cursor; colours on [0, 1] or
//     stretched to the matrix maximum; row maxima marked on demand.
//
// The page opens on the first example's first group, layer 0, the mean of the heads; a URL
// fragment chooses another view: page.html#example=2&group=encoder&layer=last&head=3&stretch&marks
// (example from 1; group by a substring of its id or title; head a number or "mean").
//
// The data is embedded as JSON in <script type="application/json" id="heed-data">
// (attention_page_json, values rounded to 5 decimals). After drawing, the page writes what it drew
// into the data-* attributes of <div id="heed-status"> (data-state="ok", or "error" with the
// message of any uncaught JavaScript error); opened as page.html#selftest it first draws every
// view of every example (every group, layer, head and head mean) — how scripts/browser_test.sh
// checks a page.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "heed/viz/attention_view.h"

namespace heed::viz {

struct AttentionPage {
  std::string title = "heed attention";
  std::vector<std::string> notes;  // shown under the title (label choices, model, checkpoint...)
  TokenUnit unit = TokenUnit::kPieces;  // how the labels were made (the page rebuilds text from it)
  std::vector<AttentionExample> examples;
};

// The embedded data: {"title", "notes", "unit", "colormap" (256 viridis colours), "examples": [
// {"input", "output", "alignment", "classes": {"names", "probabilities", "predicted", "gold"},
//  "token_weights": [{"labels", "weights"}], "sentence_weights",
//  "heatmaps": [{"id", "title", "kind", "row_title", "col_title", "rows", "cols", "layers",
//                "heads", "complete_rows", "values": [layer][head][row · cols + col]}]}]}.
nlohmann::json attention_page_json(const AttentionPage& page);

// The whole page.
std::string attention_page_html(const AttentionPage& page);

// Writes attention_page_html(page) to `path` (parent directories created).
void write_attention_page(const std::filesystem::path& path, const AttentionPage& page);

// What the page draws in #selftest mode (it reports the same numbers in #heed-status), for tests:
// views = Σ over examples and groups of layers × (heads + 1 for the mean, or 1 for one head);
// cells = Σ over those views of rows × columns; thumbnails = Σ over the views of the group's
// overview size (layers × the same head count; no overview for a single view); tokens = shaded
// tokens; sentences = sentence bars (hierarchical models); hovers = heatmap groups (the self-test
// hovers one cell per group and checks the readout).
struct PageCounts {
  long examples = 0, views = 0, cells = 0, thumbnails = 0, tokens = 0, sentences = 0, hovers = 0;
};
PageCounts selftest_counts(const AttentionPage& page);

}  // namespace heed::viz
