#include "heed/models/transformer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "heed/autograd/engine.h"
#include "heed/autograd/grad_mode.h"
#include "heed/models/decode.h"
#include "heed/ops/loss.h"
#include "heed/ops/shape_ops.h"
#include "heed/ops/softmax.h"
#include "heed/optim/adam.h"
#include "optim/thread_count.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;

// Small models: a second thread only adds fork/join waits (seconds on a shared machine).
using OneThread = testing::ThreadCount;

TransformerSeq2SeqOptions tiny(bool norm_first = false,
                               PositionalKind positional = PositionalKind::kSinusoidal) {
  TransformerSeq2SeqOptions o;
  o.src_vocab = 11;
  o.tgt_vocab = 13;
  o.d_model = 8;
  o.num_heads = 2;
  o.encoder_layers = 2;
  o.decoder_layers = 2;
  o.dim_feedforward = 16;
  o.dropout = 0.f;
  o.norm_first = norm_first;
  o.positional = positional;
  o.max_len = 32;
  return o;
}

// A padded [B, L] batch of rows (kPadId after each row).
IntTensor pad_rows(const std::vector<std::vector<int>>& rows, Index L) {
  IntTensor out(Shape{Index(rows.size()), L}, kPadId);
  for (size_t b = 0; b < rows.size(); ++b)
    for (size_t j = 0; j < rows[b].size(); ++j) out.data()[b * L + j] = rows[b][j];
  return out;
}

IntTensor lengths_of(const std::vector<std::vector<int>>& rows) {
  std::vector<int> lengths;
  for (const auto& r : rows) lengths.push_back(int(r.size()));
  return IntTensor::from_vector(Shape{Index(rows.size())}, lengths);
}

// Teacher-forcing batch: tgt_in = BOS y, tgt_out = y EOS.
Seq2SeqBatch make_batch(const std::vector<std::vector<int>>& src,
                        const std::vector<std::vector<int>>& tgt, Index S, Index T) {
  std::vector<std::vector<int>> in, out;
  for (const auto& y : tgt) {
    in.push_back({kBosId});
    in.back().insert(in.back().end(), y.begin(), y.end());
    out.push_back(y);
    out.back().push_back(kEosId);
  }
  return {pad_rows(src, S), lengths_of(src), pad_rows(in, T), pad_rows(out, T), lengths_of(out)};
}

const std::vector<std::vector<int>> kSources{{4, 5, 6, 7}, {8, 9}, {10, 4, 6}};
const std::vector<std::vector<int>> kTargets{{5, 6, 7, 8, 9}, {12, 11}, {4, 4, 10}};

// ----------------------------------------------------------------------------- parameters

TEST(TransformerSeq2Seq, ParameterNamesAndCount) {
  TransformerSeq2SeqOptions o = tiny();
  TransformerSeq2Seq separate(o, 1);
  const NamedParameters named = separate.named_parameters();
  EXPECT_EQ(named.front().first, "src_embedding.weight");
  EXPECT_EQ(named[1].first, "tgt_embedding.weight");
  EXPECT_EQ(named[2].first, "encoder.layers.0.self_attn.in_proj_weight");
  EXPECT_EQ(named.back().first, "decoder.layers.1.norm3.bias");  // post-norm: no final norms
  // Per layer: attention 4D² + 4D each, FFN 2·D·F + F + D, LayerNorms 2D each.
  const Index D = 8, F = 16, attention = 4 * D * D + 4 * D, ffn = 2 * D * F + F + D;
  const Index encoder_layer = attention + ffn + 2 * 2 * D;
  const Index decoder_layer = 2 * attention + ffn + 3 * 2 * D;
  EXPECT_EQ(separate.parameter_count(), (11 + 13) * D + 2 * encoder_layer + 2 * decoder_layer);

  o.src_vocab = 13;
  o.shared_vocab = true;
  o.tie_output = false;
  o.norm_first = true;
  o.positional = PositionalKind::kLearned;
  TransformerSeq2Seq shared(o, 1);
  std::vector<std::string> names;
  for (const auto& [name, _] : shared.named_parameters()) names.push_back(name);
  EXPECT_EQ(names[0], "embedding.weight");
  EXPECT_EQ(names[1], "src_positional.weight");
  EXPECT_EQ(names[2], "tgt_positional.weight");
  EXPECT_NE(std::find(names.begin(), names.end(), "encoder.norm.weight"), names.end());
  EXPECT_EQ(names.back(), "output_projection.weight");
  EXPECT_EQ(shared.parameter_count(),
            13 * D + 2 * 32 * D + 2 * encoder_layer + 2 * D + 2 * decoder_layer + 2 * D + 13 * D);
}

TEST(TransformerSeq2Seq, ReferenceSizeParameterCount) {
  OneThread one_thread(1);
  // d_model 256, 8 heads, 3+3 layers, FFN 512, shared vocabulary of 8000, tied output.
  TransformerSeq2SeqOptions o;
  o.src_vocab = o.tgt_vocab = 8000;
  o.shared_vocab = true;
  o.tie_output = true;
  o.d_model = 256;
  o.num_heads = 8;
  o.encoder_layers = o.decoder_layers = 3;
  o.dim_feedforward = 512;
  const Index post_norm = TransformerSeq2Seq(o, 1).parameter_count();
  // PyTorch's peer model (../shared/bench/peer_torch.py --model small: nn.Embedding +
  // nn.Transformer + tied nn.Linear) has 6,010,688: 1,024 more for the final encoder/decoder
  // LayerNorms nn.Transformer always adds, and 8,000 for the output layer's bias.
  EXPECT_EQ(post_norm, 6010688 - 1024 - 8000);
  o.norm_first = true;  // pre-norm adds the two final LayerNorms
  EXPECT_EQ(TransformerSeq2Seq(o, 1).parameter_count(), 6010688 - 8000);
}

// ----------------------------------------------------------------------------- loss

TEST(TransformerSeq2Seq, LossIsTheMeanSmoothedCrossEntropyOverRealTargets) {
  OneThread one_thread(1);
  TransformerSeq2Seq model(tiny(), 2);
  const Seq2SeqBatch batch = make_batch(kSources, kTargets, 4, 6);
  const Seq2SeqOutput out = model.forward(batch, {0.1f, false});
  EXPECT_EQ(out.num_tokens, 6 + 3 + 4);
  EXPECT_TRUE(out.attention.empty());
  CrossEntropyOptions ce;
  ce.ignore_index = kPadId;
  ce.label_smoothing = 0.1f;
  const Tensor logits = model.logits(batch.src, batch.src_lengths, batch.tgt_in);
  EXPECT_EQ(logits.shape(), (Shape{3, 6, 13}));
  EXPECT_FLOAT_EQ(out.loss.item(), cross_entropy(logits, batch.tgt_out, ce).item());
  // An untrained model is near uniform: the loss is close to log V.
  EXPECT_NEAR(out.loss.item(), std::log(13.f), 1.0);
}

TEST(TransformerSeq2Seq, PaddingTheBatchChangesNothing) {
  // The same sentences padded to S = 9, T = 10: logits at real target positions and the loss
  // are unchanged (padded source keys are masked, padded targets are causal-future and ignored).
  OneThread one_thread(1);
  for (bool norm_first : {false, true}) {
    TransformerSeq2Seq model(tiny(norm_first), 3);
    model.eval();
    const Seq2SeqBatch tight = make_batch(kSources, kTargets, 4, 6);
    const Seq2SeqBatch loose = make_batch(kSources, kTargets, 9, 10);
    const Tensor a = model.logits(tight.src, tight.src_lengths, tight.tgt_in);
    const Tensor b = model.logits(loose.src, loose.src_lengths, loose.tgt_in);
    for (Index r = 0; r < 3; ++r)
      for (Index t = 0; t < 6; ++t)
        for (Index v = 0; v < 13; ++v)
          EXPECT_NEAR(a.data()[(r * 6 + t) * 13 + v], b.data()[(r * 10 + t) * 13 + v], 1e-5);
    EXPECT_NEAR(model.forward(tight, {}).loss.item(), model.forward(loose, {}).loss.item(), 1e-5);
  }
}

TEST(TransformerSeq2Seq, AttentionMapsForEveryLayer) {
  OneThread one_thread(1);
  TransformerSeq2Seq model(tiny(), 4);
  const Seq2SeqBatch batch = make_batch(kSources, kTargets, 4, 6);
  const Seq2SeqOutput out = model.forward(batch, {0.f, true});
  const std::vector<std::pair<std::string, std::string>> want{
      {"encoder.layers.0.self_attn", "self"}, {"encoder.layers.1.self_attn", "self"},
      {"decoder.layers.0.self_attn", "self"}, {"decoder.layers.0.multihead_attn", "cross"},
      {"decoder.layers.1.self_attn", "self"}, {"decoder.layers.1.multihead_attn", "cross"}};
  ASSERT_EQ(out.attention.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(out.attention[i].name, want[i].first);
    EXPECT_EQ(out.attention[i].kind, want[i].second);
  }
  EXPECT_EQ(out.attention[0].weights.shape(), (Shape{3, 2, 4, 4}));
  EXPECT_EQ(out.attention[2].weights.shape(), (Shape{3, 2, 6, 6}));
  const Tensor& cross = out.attention[3].weights;
  ASSERT_EQ(cross.shape(), (Shape{3, 2, 6, 4}));
  // Sentence 1 has 2 source tokens: its rows put zero weight on keys 2 and 3, and sum to 1.
  for (Index row = 0; row < 2 * 6; ++row) {
    const float* w = cross.data() + (12 + row) * 4;
    EXPECT_EQ(w[2], 0.f);
    EXPECT_EQ(w[3], 0.f);
    EXPECT_NEAR(w[0] + w[1], 1.f, 1e-6);
  }
}

// ----------------------------------------------------------------------------- decoding

TEST(TransformerSeq2Seq, IncrementalDecodingMatchesTheTeacherForcedPass) {
  // step() with KV caches, fed the teacher-forced inputs one at a time, gives the log-probs of
  // the full pass at every position, for every norm placement and positional encoding; rows
  // reordered by select() midway keep matching.
  OneThread one_thread(1);
  for (bool norm_first : {false, true}) {
    for (PositionalKind positional : {PositionalKind::kSinusoidal, PositionalKind::kLearned}) {
      TransformerSeq2Seq model(tiny(norm_first, positional), 5);
      model.eval();
      NoGradGuard no_grad;
      const Seq2SeqBatch batch = make_batch(kSources, kTargets, 4, 6);
      const Tensor full = log_softmax(model.logits(batch.src, batch.src_lengths, batch.tgt_in), -1);
      auto state = model.start(batch.src, batch.src_lengths);
      IntTensor rows = IntTensor::from_vector(Shape{3}, {0, 1, 2});
      for (Index t = 0; t < 6; ++t) {
        if (t == 3) {  // beams split and die: rows (2, 0, 0, 1)
          rows = IntTensor::from_vector(Shape{4}, {2, 0, 0, 1});
          model.select(*state, rows);
        }
        const Index N = rows.numel();
        IntTensor last(Shape{N});
        for (Index r = 0; r < N; ++r) last.data()[r] = batch.tgt_in.data()[rows.data()[r] * 6 + t];
        const DecoderStep step = model.step(*state, last);
        ASSERT_EQ(step.log_probs.shape(), (Shape{N, 13}));
        ASSERT_EQ(step.attention.shape(), (Shape{N, 4}));
        for (Index r = 0; r < N; ++r) {
          const Index b = rows.data()[r];
          for (Index v = 0; v < 13; ++v)
            EXPECT_NEAR(step.log_probs.data()[r * 13 + v], full.data()[(b * 6 + t) * 13 + v], 1e-5)
                << "norm_first " << norm_first << ", step " << t << ", row " << r;
          const float* a = step.attention.data() + r * 4;
          EXPECT_NEAR(a[0] + a[1] + a[2] + a[3], 1.f, 1e-5);
          for (Index j = batch.src_lengths.data()[b]; j < 4; ++j) EXPECT_EQ(a[j], 0.f);
        }
      }
    }
  }
}

TEST(TransformerSeq2Seq, SelectWithinSentencesKeepsEachRowsHistory) {
  // Two sources, each split into two rows that follow different targets (as beams do); midway
  // the rows of each sentence swap (select (1, 0, 3, 2): every row keeps its sentence, so the
  // projected memory is not copied). Reference: the teacher-forced pass over the four pairs.
  OneThread one_thread(1);
  TransformerSeq2Seq model(tiny(), 9);
  model.eval();
  NoGradGuard no_grad;
  const std::vector<std::vector<int>> src{kSources[0], kSources[0], kSources[2], kSources[2]};
  const std::vector<std::vector<int>> tgt{
      {5, 6, 7, 8, 9}, {9, 8, 7, 6, 5}, {4, 4, 10, 11, 12}, {12, 11, 4, 4, 10}};
  const Seq2SeqBatch pairs = make_batch(src, tgt, 4, 6);
  const Tensor full = log_softmax(model.logits(pairs.src, pairs.src_lengths, pairs.tgt_in), -1);
  auto state = model.start(pad_rows({kSources[0], kSources[2]}, 4), lengths_of({src[0], src[2]}));
  model.select(*state, IntTensor::from_vector(Shape{4}, {0, 0, 1, 1}));
  std::vector<int> pair_of_row{0, 1, 2, 3};
  for (Index t = 0; t < 6; ++t) {
    if (t == 3) {
      model.select(*state, IntTensor::from_vector(Shape{4}, {1, 0, 3, 2}));
      pair_of_row = {1, 0, 3, 2};
    }
    IntTensor last(Shape{4});
    for (Index r = 0; r < 4; ++r) last.data()[r] = pairs.tgt_in.data()[pair_of_row[r] * 6 + t];
    const DecoderStep step = model.step(*state, last);
    for (Index r = 0; r < 4; ++r)
      for (Index v = 0; v < 13; ++v)
        EXPECT_NEAR(step.log_probs.data()[r * 13 + v],
                    full.data()[(pair_of_row[r] * 6 + t) * 13 + v], 1e-5)
            << "step " << t << ", row " << r;
  }
}

TEST(TransformerSeq2Seq, BeamOfOneEqualsGreedyAndScoresAreTeacherForcedLogProbs) {
  OneThread one_thread(1);
  TransformerSeq2Seq model(tiny(true), 6);
  const IntTensor src = pad_rows(kSources, 4), lengths = lengths_of(kSources);
  DecodeOptions o;
  o.max_len_a = 1.f;
  o.max_len_b = 2;
  o.length_penalty = 1.f;
  o.return_attention = true;
  const auto greedy = greedy_decode(model, src, lengths, o);
  o.beam_size = 1;
  const auto beam1 = beam_search(model, src, lengths, o);
  o.beam_size = 4;
  const auto beam4 = beam_search(model, src, lengths, o);
  EXPECT_TRUE(model.is_training());  // decoding restored the mode
  model.eval();
  for (size_t b = 0; b < kSources.size(); ++b) {
    EXPECT_EQ(beam1[b].tokens, greedy[b].tokens) << b;
    EXPECT_EQ(beam1[b].log_prob, greedy[b].log_prob);
    EXPECT_TRUE(all_close(beam1[b].attention, greedy[b].attention, 0, 0));
    EXPECT_GE(beam4[b].score, greedy[b].score - 1e-6);
    // log P(y) of each result, recomputed by teacher forcing.
    for (const Hypothesis* h : {&greedy[b], &beam4[b]}) {
      std::vector<int> y = h->tokens;
      ASSERT_LE(y.size(), kSources[b].size() + 2);
      const Seq2SeqBatch one = make_batch({kSources[b]}, {y}, kSources[b].size(), y.size() + 1);
      const Tensor lp = log_softmax(model.logits(one.src, one.src_lengths, one.tgt_in), -1);
      double sum = 0;
      for (size_t t = 0; t <= y.size(); ++t) sum += lp.data()[t * 13 + one.tgt_out.data()[t]];
      EXPECT_NEAR(h->log_prob, sum, 1e-4) << "sentence " << b;
      EXPECT_EQ(h->attention.shape(), (Shape{Index(y.size()) + 1, Index(kSources[b].size())}));
    }
  }
}

// ----------------------------------------------------------------------------- determinism

TEST(TransformerSeq2Seq, SeedDeterminesParametersAndDropout) {
  OneThread one_thread(1);
  TransformerSeq2SeqOptions o = tiny();
  o.dropout = 0.3f;
  TransformerSeq2Seq a(o, 7), b(o, 7), c(o, 8);
  const Seq2SeqBatch batch = make_batch(kSources, kTargets, 4, 6);
  const float loss_a = a.forward(batch, {}).loss.item();
  EXPECT_EQ(loss_a, b.forward(batch, {}).loss.item());
  EXPECT_NE(loss_a, c.forward(batch, {}).loss.item());
  // The dropout stream is the model's state: restoring it repeats the masks.
  const Rng::State saved = a.dropout_rng().state();
  const float next = a.forward(batch, {}).loss.item();
  EXPECT_NE(next, loss_a);  // new masks
  a.dropout_rng().set_state(saved);
  EXPECT_EQ(a.forward(batch, {}).loss.item(), next);
  a.eval();
  EXPECT_EQ(a.forward(batch, {}).loss.item(), a.forward(batch, {}).loss.item());
}

// ----------------------------------------------------------------------------- learning

// 32 random sequences of 3-6 tokens over 10 words, and their copies or reversals.
std::pair<std::vector<std::vector<int>>, std::vector<std::vector<int>>> copy_task(bool reverse) {
  Rng rng(2024);
  std::vector<std::vector<int>> src, tgt;
  for (int i = 0; i < 32; ++i) {
    std::vector<int> x(rng.randint(3, 7));
    for (int& token : x) token = static_cast<int>(rng.randint(4, 14));
    src.push_back(x);
    if (reverse) std::reverse(x.begin(), x.end());
    tgt.push_back(x);
  }
  return {src, tgt};
}

TEST(TransformerSeq2Seq, LearnsToCopyAndReverseExactly) {
  OneThread one_thread(1);
  for (bool reverse : {false, true}) {
    const auto [src, tgt] = copy_task(reverse);
    TransformerSeq2SeqOptions o;
    o.src_vocab = o.tgt_vocab = 14;
    o.shared_vocab = true;
    o.d_model = 32;
    o.num_heads = 4;
    o.encoder_layers = 2;
    o.decoder_layers = 2;
    o.dim_feedforward = 64;
    o.dropout = 0.f;
    o.norm_first = true;
    o.max_len = 16;
    TransformerSeq2Seq model(o, 11);
    Adam adam(model.named_parameters(), AdamOptions{.lr = 3e-3f});
    const Seq2SeqBatch batch = make_batch(src, tgt, 6, 7);
    DecodeOptions greedy;
    greedy.max_len_a = 1.f;
    greedy.max_len_b = 2;

    int steps = 0, exact = 0;
    float loss = 0;
    const auto begin = std::chrono::steady_clock::now();
    while (steps < 600 && exact < 32) {
      model.train();
      adam.zero_grad();
      const Seq2SeqOutput out = model.forward(batch, {});
      backward(out.loss);
      adam.step();
      loss = out.loss.item();
      if (++steps % 25 == 0) {
        const auto hyps = greedy_decode(model, batch.src, batch.src_lengths, greedy);
        exact = 0;
        for (size_t i = 0; i < hyps.size(); ++i) exact += hyps[i].tokens == tgt[i];
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    EXPECT_EQ(exact, 32) << (reverse ? "reverse" : "copy") << ": " << steps << " steps, loss "
                         << loss;
    RecordProperty(reverse ? "reverse_steps" : "copy_steps", steps);
    RecordProperty(reverse ? "reverse_seconds" : "copy_seconds", std::to_string(seconds));
  }
}

// ----------------------------------------------------------------------------- errors

TEST(TransformerSeq2Seq, BadOptionsAndInputs) {
  TransformerSeq2SeqOptions o = tiny();
  o.shared_vocab = true;
  EXPECT_THROW_MSG(TransformerSeq2Seq(o, 1),
                   "TransformerSeq2Seq: shared_vocab needs src_vocab == tgt_vocab (got 11, 13)");
  TransformerSeq2Seq model(tiny(), 1);
  Seq2SeqBatch batch = make_batch(kSources, kTargets, 4, 6);
  batch.src_lengths = IntTensor::from_vector(Shape{3}, {4, 5, 3});
  EXPECT_THROW_MSG(model.forward(batch, {}),
                   "TransformerSeq2Seq: src_lengths[1] = 5 is outside [1, S=4]");
  batch = make_batch(kSources, kTargets, 4, 6);
  batch.tgt_out = pad_rows(kTargets, 5);
  EXPECT_THROW_MSG(model.forward(batch, {}), "TransformerSeq2Seq: tgt_in and tgt_out must both");
  batch = make_batch(kSources, kTargets, 40, 6);
  EXPECT_THROW_MSG(model.forward(batch, {}),
                   "TransformerSeq2Seq: source length 40 exceeds max_len 32");
}

}  // namespace
}  // namespace heed
