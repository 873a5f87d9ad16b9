#include "models/classifier_inputs.h"

#include "heed/util/check.h"

namespace heed::detail {

void check_dropout(const char* model, const char* name, float p) {
  CHECK(p >= 0.f && p < 1.f, model, ": ", name, " must be in [0, 1) (got ", p, ")");
}

void check_sequence_batch(const char* model, const ClassifierBatch& batch) {
  const IntTensor& ids = batch.ids;
  CHECK(ids.defined() && ids.ndim() == 2 && ids.size(0) > 0 && ids.size(1) > 0, model,
        ": ids must be a non-empty [B, T] (got ",
        ids.defined() ? ids.shape().to_string() : "undefined", ")");
  const Index B = ids.size(0), T = ids.size(1);
  CHECK(batch.lengths.defined() && batch.lengths.shape() == Shape{B}, model,
        ": lengths must be [B] = [", B, "] (got ",
        batch.lengths.defined() ? batch.lengths.shape().to_string() : "undefined", ")");
  for (Index b = 0; b < B; ++b) {
    const std::int32_t n = batch.lengths.data()[b];
    CHECK(n >= 1 && n <= T, model, ": lengths[", b, "] = ", n, " is outside [1, T=", T, "]");
  }
}

void check_document_batch(const char* model, const ClassifierBatch& batch) {
  const IntTensor& ids = batch.ids;
  CHECK(ids.defined() && ids.ndim() == 3 && ids.numel() > 0, model,
        ": ids must be a non-empty [B, N, L] (got ",
        ids.defined() ? ids.shape().to_string() : "undefined", ")");
  const Index B = ids.size(0), N = ids.size(1), L = ids.size(2);
  CHECK(batch.sentence_lengths.defined() && batch.sentence_lengths.shape() == (Shape{B, N}), model,
        ": sentence_lengths must be [B, N] = ", Shape{B, N}, " (got ",
        batch.sentence_lengths.defined() ? batch.sentence_lengths.shape().to_string() : "undefined",
        ")");
  CHECK(batch.num_sentences.defined() && batch.num_sentences.shape() == Shape{B}, model,
        ": num_sentences must be [B] = [", B, "] (got ",
        batch.num_sentences.defined() ? batch.num_sentences.shape().to_string() : "undefined", ")");
  for (Index b = 0; b < B; ++b) {
    const std::int32_t count = batch.num_sentences.data()[b];
    CHECK(count >= 1 && count <= N, model, ": num_sentences[", b, "] = ", count,
          " is outside [1, N=", N, "]");
    for (Index n = 0; n < N; ++n) {
      const std::int32_t length = batch.sentence_lengths.data()[b * N + n];
      if (n < count) {
        CHECK(length >= 1 && length <= L, model, ": sentence_lengths[", b, ", ", n, "] = ", length,
              " is outside [1, L=", L, "] for a real sentence (num_sentences[", b, "] = ", count,
              ")");
      } else {
        CHECK(length == 0, model, ": sentence_lengths[", b, ", ", n, "] = ", length,
              " for a padding sentence (num_sentences[", b, "] = ", count, ") must be 0");
      }
    }
  }
}

Tensor padding_mask(const IntTensor& lengths, Index T) {
  const Index B = lengths.numel();
  Tensor mask = Tensor::empty(Shape{B, T});
  float* m = mask.data();
  for (Index b = 0; b < B; ++b)
    for (Index t = 0; t < T; ++t) m[b * T + t] = t >= lengths.data()[b] ? 1.f : 0.f;
  return mask;
}

}  // namespace heed::detail
