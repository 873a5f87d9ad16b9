// Private: option and batch checks and masks shared by the classifiers (models/classifiers.h).
#pragma once

#include "heed/models/classifier.h"

namespace heed::detail {

// Checks that the dropout probability `name` of `model` is in [0, 1).
void check_dropout(const char* model, const char* name, float p);

// Checks a flat batch: ids [B, T] with B, T > 0 and lengths [B], each in [1, T]. Errors start
// with `model`.
void check_sequence_batch(const char* model, const ClassifierBatch& batch);

// Checks a document batch: ids [B, N, L], sentence_lengths [B, N], num_sentences [B] in [1, N];
// sentence n of document b has length in [1, L] if n < num_sentences[b], else 0.
void check_document_batch(const char* model, const ClassifierBatch& batch);

// [B, T] key padding mask: 1 at t >= lengths[b] (lengths [B]).
Tensor padding_mask(const IntTensor& lengths, Index T);

}  // namespace heed::detail
