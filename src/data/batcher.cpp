// Batcher: filtering, length bucketing, token-budget packing, padding (see batcher.h).
//
// The per-example-type parts are overloads of four functions — fit() (crop/drop), extent()
// (padded size), collate() (tensors) and count_padding() — used by the one Batcher template,
// which is instantiated at the end of this file for the three example types.
#include "heed/data/batcher.h"

#include <algorithm>
#include <numeric>
#include <type_traits>

#include "heed/util/check.h"

namespace heed {
namespace {

enum class Fit { kFits, kCropped, kOverlong, kEmpty };

struct Extent {  // an example padded alone is a length × width block
  std::int64_t length;
  std::int64_t width;
};

using Ids = std::vector<std::int32_t>;

std::int64_t len(const Ids& ids) { return static_cast<std::int64_t>(ids.size()); }

void check_ids(const Ids& ids, std::int64_t example, const char* what) {
  for (size_t t = 0; t < ids.size(); ++t) {
    CHECK(ids[t] >= 0, "Batcher: example ", example, " has a negative token id ", ids[t], " in ",
          what, " (position ", t, ")");
  }
}

void check_label(std::int32_t label, std::int64_t example) {
  CHECK(label >= 0, "Batcher: example ", example, " has a negative label ", label);
}

// More than `max` tokens (max 0: no limit).
bool too_long(const Ids& ids, int max) { return max > 0 && len(ids) > max; }

Fit resolve(bool overlong, const BatcherOptions& options) {
  if (!overlong) return Fit::kFits;
  return options.overlong == Overlong::kCrop ? Fit::kCropped : Fit::kOverlong;
}

// ---- translation: source [S], target [T = n + 1] (BOS + y / y + EOS)

Fit fit(TranslationExample& e, std::int64_t index, const BatcherOptions& options) {
  check_ids(e.source, index, "source");
  check_ids(e.target, index, "target");
  if (e.source.empty() || e.target.empty()) return Fit::kEmpty;
  const int max = options.max_length;
  const Fit result = resolve(too_long(e.source, max) || too_long(e.target, max - 1), options);
  if (result == Fit::kCropped) {
    if (too_long(e.source, max)) e.source.resize(max);
    if (too_long(e.target, max - 1)) e.target.resize(max - 1);
  }
  return result;
}

Extent extent(const TranslationExample& e) {
  return {std::max(len(e.source), len(e.target) + 1), 1};
}

TranslationBatch collate(const std::vector<const TranslationExample*>& rows) {
  const auto B = static_cast<std::int64_t>(rows.size());
  std::int64_t S = 0, T = 0;
  for (const TranslationExample* e : rows) {
    S = std::max(S, len(e->source));
    T = std::max(T, len(e->target) + 1);
  }
  TranslationBatch batch;
  batch.source = IntTensor(Shape{B, S}, kPadId);
  batch.source_lengths = IntTensor(Shape{B});
  batch.target_in = IntTensor(Shape{B, T}, kPadId);
  batch.target_out = IntTensor(Shape{B, T}, kPadId);
  batch.target_lengths = IntTensor(Shape{B});
  for (std::int64_t b = 0; b < B; ++b) {
    const Ids& x = rows[b]->source;
    const Ids& y = rows[b]->target;
    std::copy(x.begin(), x.end(), batch.source.data() + b * S);
    std::int32_t* in = batch.target_in.data() + b * T;
    std::int32_t* out = batch.target_out.data() + b * T;
    in[0] = kBosId;
    std::copy(y.begin(), y.end(), in + 1);
    std::copy(y.begin(), y.end(), out);
    out[y.size()] = kEosId;
    batch.source_lengths.data()[b] = static_cast<std::int32_t>(x.size());
    batch.target_lengths.data()[b] = static_cast<std::int32_t>(y.size() + 1);
  }
  return batch;
}

void count_padding(const std::vector<const TranslationExample*>& rows, PaddingStats& stats) {
  std::int64_t S = 0, T = 0;
  for (const TranslationExample* e : rows) {
    S = std::max(S, len(e->source));
    T = std::max(T, len(e->target) + 1);
    stats.tokens += len(e->source) + len(e->target) + 1;
  }
  stats.slots += static_cast<std::int64_t>(rows.size()) * (S + T);
}

// ---- classification: tokens [T]

Fit fit(ClassificationExample& e, std::int64_t index, const BatcherOptions& options) {
  check_ids(e.tokens, index, "tokens");
  check_label(e.label, index);
  if (e.tokens.empty()) return Fit::kEmpty;
  const Fit result = resolve(too_long(e.tokens, options.max_length), options);
  if (result == Fit::kCropped) e.tokens.resize(options.max_length);
  return result;
}

Extent extent(const ClassificationExample& e) { return {len(e.tokens), 1}; }

ClassificationBatch collate(const std::vector<const ClassificationExample*>& rows) {
  const auto B = static_cast<std::int64_t>(rows.size());
  std::int64_t T = 0;
  for (const ClassificationExample* e : rows) T = std::max(T, len(e->tokens));
  ClassificationBatch batch;
  batch.tokens = IntTensor(Shape{B, T}, kPadId);
  batch.lengths = IntTensor(Shape{B});
  batch.labels = IntTensor(Shape{B});
  for (std::int64_t b = 0; b < B; ++b) {
    const Ids& x = rows[b]->tokens;
    std::copy(x.begin(), x.end(), batch.tokens.data() + b * T);
    batch.lengths.data()[b] = static_cast<std::int32_t>(x.size());
    batch.labels.data()[b] = rows[b]->label;
  }
  return batch;
}

void count_padding(const std::vector<const ClassificationExample*>& rows, PaddingStats& stats) {
  std::int64_t T = 0;
  for (const ClassificationExample* e : rows) {
    T = std::max(T, len(e->tokens));
    stats.tokens += len(e->tokens);
  }
  stats.slots += static_cast<std::int64_t>(rows.size()) * T;
}

// ---- documents: N sentences × W tokens

std::int64_t longest_sentence(const DocumentExample& e) {
  std::int64_t W = 0;
  for (const Ids& sentence : e.sentences) W = std::max(W, len(sentence));
  return W;
}

Fit fit(DocumentExample& e, std::int64_t index, const BatcherOptions& options) {
  for (const Ids& sentence : e.sentences) check_ids(sentence, index, "a sentence");
  check_label(e.label, index);
  // An empty sentence would be a row of padding only (nothing for word attention to attend to).
  std::erase_if(e.sentences, [](const Ids& sentence) { return sentence.empty(); });
  if (e.sentences.empty()) return Fit::kEmpty;
  const bool many = options.max_sentences > 0 &&
                    static_cast<std::int64_t>(e.sentences.size()) > options.max_sentences;
  const bool long_sentence = options.max_length > 0 && longest_sentence(e) > options.max_length;
  const Fit result = resolve(many || long_sentence, options);
  if (result == Fit::kCropped) {
    if (many) e.sentences.resize(options.max_sentences);
    for (Ids& sentence : e.sentences) {
      if (too_long(sentence, options.max_length)) sentence.resize(options.max_length);
    }
  }
  return result;
}

Extent extent(const DocumentExample& e) {
  return {static_cast<std::int64_t>(e.sentences.size()), longest_sentence(e)};
}

DocumentBatch collate(const std::vector<const DocumentExample*>& rows) {
  const auto B = static_cast<std::int64_t>(rows.size());
  std::int64_t N = 0, W = 0;
  for (const DocumentExample* e : rows) {
    N = std::max(N, static_cast<std::int64_t>(e->sentences.size()));
    W = std::max(W, longest_sentence(*e));
  }
  DocumentBatch batch;
  batch.tokens = IntTensor(Shape{B, N, W}, kPadId);
  batch.sentence_lengths = IntTensor(Shape{B, N}, 0);
  batch.sentence_counts = IntTensor(Shape{B});
  batch.labels = IntTensor(Shape{B});
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& sentences = rows[b]->sentences;
    for (size_t n = 0; n < sentences.size(); ++n) {
      std::copy(sentences[n].begin(), sentences[n].end(), batch.tokens.data() + (b * N + n) * W);
      batch.sentence_lengths.data()[b * N + n] = static_cast<std::int32_t>(sentences[n].size());
    }
    batch.sentence_counts.data()[b] = static_cast<std::int32_t>(sentences.size());
    batch.labels.data()[b] = rows[b]->label;
  }
  return batch;
}

void count_padding(const std::vector<const DocumentExample*>& rows, PaddingStats& stats) {
  std::int64_t N = 0, W = 0;
  for (const DocumentExample* e : rows) {
    N = std::max(N, static_cast<std::int64_t>(e->sentences.size()));
    W = std::max(W, longest_sentence(*e));
    for (const Ids& sentence : e->sentences) stats.tokens += len(sentence);
  }
  stats.slots += static_cast<std::int64_t>(rows.size()) * N * W;
}

// Fisher–Yates with heed's Rng (std::shuffle's result differs between standard libraries).
template <typename T>
void shuffle(std::vector<T>& items, Rng& rng) {
  for (std::int64_t i = static_cast<std::int64_t>(items.size()) - 1; i > 0; --i) {
    std::swap(items[i], items[rng.randint(0, i + 1)]);
  }
}

}  // namespace

template <typename Example>
Batcher<Example>::Batcher(std::vector<Example> examples, const BatcherOptions& options, Rng rng)
    : options_(options) {
  CHECK(options.max_tokens > 0 && options.max_batch_size >= 0 && options.max_length >= 0 &&
            options.max_sentences >= 0 && options.chunk_size > 0,
        "Batcher: max_tokens and chunk_size must be > 0, max_batch_size, max_length and "
        "max_sentences >= 0 (got max_tokens=",
        options.max_tokens, ", chunk_size=", options.chunk_size,
        ", max_batch_size=", options.max_batch_size, ", max_length=", options.max_length,
        ", max_sentences=", options.max_sentences, ")");
  constexpr bool kTranslation = std::is_same_v<Example, TranslationExample>;
  CHECK(options.max_length != 1 || !kTranslation,
        "Batcher: max_length must be >= 2 for translation (target + EOS), got 1");
  CHECK(options.window >= 0, "Batcher: window must be >= 0, got ", options.window);
  constexpr bool kFlat = std::is_same_v<Example, ClassificationExample>;
  CHECK(options.window == 0 || kFlat,
        "Batcher: training windows are for classification examples only");

  filter_stats_.examples = static_cast<std::int64_t>(examples.size());
  for (std::int64_t i = 0; i < filter_stats_.examples; ++i) {
    Example& example = examples[i];
    switch (fit(example, i, options)) {
      case Fit::kEmpty:
        ++filter_stats_.dropped_empty;
        continue;
      case Fit::kOverlong:
        ++filter_stats_.dropped_overlong;
        continue;
      case Fit::kCropped:
        ++filter_stats_.cropped;
        break;
      case Fit::kFits:
        break;
    }
    Extent e = extent(example);
    if (options.window > 0) e.length = std::min<std::int64_t>(e.length, options.window);
    CHECK(e.length * e.width <= options.max_tokens, "Batcher: example ", i, " alone needs ",
          e.length, e.width > 1 ? str(" × ", e.width) : std::string(), " = ", e.length * e.width,
          " tokens, more than max_tokens=", options.max_tokens, " (limit it with max_length",
          e.width > 1 ? "/max_sentences" : "", ")");
    examples_.push_back(std::move(example));
    ids_.push_back(i);
    sizes_.push_back({e.length, e.width});
  }
  filter_stats_.kept = static_cast<std::int64_t>(examples_.size());
  CHECK(!examples_.empty(), "Batcher: no examples left of ", filter_stats_.examples, " (",
        filter_stats_.dropped_empty, " empty, ", filter_stats_.dropped_overlong,
        " longer than max_length=", options.max_length, ")");

  first_epoch_rng_ = rng.state();
  state_.rng = first_epoch_rng_;
  plan_epoch();
}

template <typename Example>
typename Batcher<Example>::Plan Batcher<Example>::pack(
    const std::vector<std::int64_t>& order) const {
  std::vector<std::vector<std::int64_t>> batches;
  std::vector<std::int64_t> batch;
  std::int64_t length = 0, width = 0;
  for (std::int64_t i : order) {
    const std::int64_t new_length = std::max(length, sizes_[i].length);
    const std::int64_t new_width = std::max(width, sizes_[i].width);
    const auto new_size = static_cast<std::int64_t>(batch.size()) + 1;
    const bool over_budget = new_size * new_length * new_width > options_.max_tokens ||
                             (options_.max_batch_size > 0 && new_size > options_.max_batch_size);
    if (!batch.empty() && over_budget) {
      batches.push_back(std::move(batch));
      batch.clear();
      length = sizes_[i].length;
      width = sizes_[i].width;
    } else {
      length = new_length;
      width = new_width;
    }
    batch.push_back(i);
  }
  if (!batch.empty()) batches.push_back(std::move(batch));
  return batches;
}

template <typename Example>
typename Batcher<Example>::EpochPlan Batcher<Example>::plan(const Rng::State& epoch_rng) const {
  Rng rng;
  rng.set_state(epoch_rng);
  std::vector<std::int64_t> order(examples_.size());
  std::iota(order.begin(), order.end(), 0);
  if (options_.shuffle) shuffle(order, rng);

  // Stable: equal sizes keep the (shuffled) order, so ties differ between epochs.
  const auto by_size = [this](std::int64_t a, std::int64_t b) {
    return sizes_[a].length != sizes_[b].length ? sizes_[a].length < sizes_[b].length
                                                : sizes_[a].width < sizes_[b].width;
  };
  EpochPlan result;
  Plan& batches = result.batches;
  switch (options_.bucketing) {
    case Bucketing::kNone:
      batches = pack(order);
      break;
    case Bucketing::kGlobal:
      std::stable_sort(order.begin(), order.end(), by_size);
      batches = pack(order);
      break;
    case Bucketing::kChunks: {
      const auto n = static_cast<std::int64_t>(order.size());
      for (std::int64_t begin = 0; begin < n; begin += options_.chunk_size) {
        std::vector<std::int64_t> chunk(order.begin() + begin,
                                        order.begin() + std::min(n, begin + options_.chunk_size));
        std::stable_sort(chunk.begin(), chunk.end(), by_size);
        for (auto& batch : pack(chunk)) batches.push_back(std::move(batch));
      }
      break;
    }
  }
  // Sorted batches would otherwise come short-to-long in every epoch.
  if (options_.shuffle && options_.bucketing != Bucketing::kNone) shuffle(batches, rng);
  // Drawn only with windows, so that runs without them keep their generator stream.
  if (options_.window > 0) result.window_seed = rng.fork().seed();
  result.next_epoch_rng = rng.state();
  return result;
}

template <typename Example>
void Batcher<Example>::plan_epoch() {
  EpochPlan epoch = plan(state_.rng);
  plan_ = std::move(epoch.batches);
  next_epoch_rng_ = epoch.next_epoch_rng;
  window_seed_ = epoch.window_seed;
}

template <typename Example>
std::int64_t Batcher<Example>::batches_in_epochs(std::int64_t epochs) const {
  std::int64_t batches = 0;
  Rng::State epoch_rng = first_epoch_rng_;
  for (std::int64_t e = 0; e < epochs; ++e) {
    EpochPlan epoch = plan(epoch_rng);
    batches += static_cast<std::int64_t>(epoch.batches.size());
    epoch_rng = epoch.next_epoch_rng;
  }
  return batches;
}

template <typename Example>
std::int64_t Batcher<Example>::window_offset(std::int64_t i) const {
  if constexpr (std::is_same_v<Example, ClassificationExample>) {
    const std::int64_t spare = len(examples_[i].tokens) - options_.window;
    if (options_.window == 0 || spare <= 0) return 0;
    const auto w = Rng::block(window_seed_, static_cast<std::uint64_t>(i));
    const std::uint64_t draw = (static_cast<std::uint64_t>(w[0]) << 32) | w[1];
    return static_cast<std::int64_t>(draw % static_cast<std::uint64_t>(spare + 1));
  } else {
    return 0;
  }
}

template <typename Example>
typename Batcher<Example>::Batch Batcher<Example>::next() {
  if (at_epoch_end()) {
    state_.epoch += 1;
    state_.position = 0;
    state_.rng = next_epoch_rng_;
    plan_epoch();
  }
  return collate(plan_[state_.position++]);
}

template <typename Example>
void Batcher<Example>::set_state(const BatcherState& state) {
  CHECK(state.epoch >= 0 && state.position >= 0,
        "Batcher::set_state: bad state (epoch=", state.epoch, ", position=", state.position, ")");
  state_ = state;
  plan_epoch();
  CHECK(state.position <= batches_per_epoch(), "Batcher::set_state: position ", state.position,
        " is past the end of epoch ", state.epoch, " (", batches_per_epoch(),
        " batches): was the state saved with other data or options?");
}

template <typename Example>
std::vector<const Example*> Batcher<Example>::rows_of(const std::vector<std::int64_t>& indices,
                                                      std::vector<Example>& windows) const {
  std::vector<const Example*> rows;
  rows.reserve(indices.size());
  windows.clear();
  if (options_.window > 0) windows.reserve(indices.size());  // no reallocation: rows point in
  for (std::int64_t i : indices) {
    CHECK(i >= 0 && i < size(), "Batcher: example index ", i, " out of range [0, ", size(), ")");
    rows.push_back(&examples_[i]);
    if constexpr (std::is_same_v<Example, ClassificationExample>) {
      const Ids& tokens = examples_[i].tokens;
      if (options_.window > 0 && len(tokens) > options_.window) {
        const auto begin = tokens.begin() + window_offset(i);
        windows.push_back({Ids(begin, begin + options_.window), examples_[i].label});
        rows.back() = &windows.back();
      }
    }
  }
  return rows;
}

template <typename Example>
PaddingStats Batcher<Example>::padding_stats() const {
  PaddingStats stats;
  std::vector<Example> windows;
  for (const auto& batch : plan_) {
    count_padding(rows_of(batch, windows), stats);
    stats.batches += 1;
    stats.examples += static_cast<std::int64_t>(batch.size());
  }
  return stats;
}

template <typename Example>
typename Batcher<Example>::Batch Batcher<Example>::collate(
    const std::vector<std::int64_t>& indices) const {
  CHECK(!indices.empty(), "Batcher::collate: empty batch");
  std::vector<Example> windows;
  const std::vector<const Example*> rows = rows_of(indices, windows);
  Batch batch = heed::collate(rows);
  batch.example_ids.reserve(indices.size());
  for (std::int64_t i : indices) batch.example_ids.push_back(ids_[i]);
  return batch;
}

template class Batcher<TranslationExample>;
template class Batcher<ClassificationExample>;
template class Batcher<DocumentExample>;

}  // namespace heed
