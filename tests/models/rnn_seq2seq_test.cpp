#include "heed/models/rnn_seq2seq.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "heed/autograd/engine.h"
#include "heed/autograd/grad_mode.h"
#include "heed/ops/softmax.h"
#include "heed/optim/adam.h"
#include "optim/thread_count.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;

using Sentence = std::vector<int>;  // token ids without BOS/EOS

// A padded batch: src as given, tgt_in = BOS y, tgt_out = y EOS; `extra` more padding columns
// than needed on both sides.
Seq2SeqBatch make_batch(const std::vector<Sentence>& src, const std::vector<Sentence>& tgt,
                        Index extra = 0) {
  const Index B = static_cast<Index>(src.size());
  Index S = 0, T = 0;
  for (Index b = 0; b < B; ++b) {
    S = std::max<Index>(S, static_cast<Index>(src[b].size()));
    T = std::max<Index>(T, static_cast<Index>(tgt[b].size()) + 1);
  }
  S += extra;
  T += extra;
  Seq2SeqBatch batch;
  batch.src = IntTensor(Shape{B, S}, kPadId);
  batch.src_lengths = IntTensor(Shape{B});
  batch.tgt_in = IntTensor(Shape{B, T}, kPadId);
  batch.tgt_out = IntTensor(Shape{B, T}, kPadId);
  batch.tgt_lengths = IntTensor(Shape{B});
  for (Index b = 0; b < B; ++b) {
    const Index n = static_cast<Index>(src[b].size()), m = static_cast<Index>(tgt[b].size());
    for (Index s = 0; s < n; ++s) batch.src.data()[b * S + s] = src[b][s];
    batch.src_lengths.data()[b] = static_cast<std::int32_t>(n);
    batch.tgt_in.data()[b * T] = kBosId;
    for (Index t = 0; t < m; ++t) {
      batch.tgt_in.data()[b * T + t + 1] = tgt[b][t];
      batch.tgt_out.data()[b * T + t] = tgt[b][t];
    }
    batch.tgt_out.data()[b * T + m] = kEosId;
    batch.tgt_lengths.data()[b] = static_cast<std::int32_t>(m + 1);
  }
  return batch;
}

const std::vector<Sentence> kSrc = {{4, 5, 6, 7}, {8, 4}, {9}};
const std::vector<Sentence> kTgt = {{5, 6}, {7, 8, 9, 4}, {6}};

RnnSeq2SeqOptions tiny_options(RnnAttentionKind kind) {
  return {.src_vocab = 10,
          .tgt_vocab = 10,
          .embedding_dim = 3,
          .encoder_hidden = 2,
          .decoder_hidden = 4,
          .attention = kind,
          .attention_dim = 3,
          .dropout = 0.f};
}

struct Variant {
  std::string name;
  RnnSeq2SeqOptions options;
};

// Every decoder/attention combination worth telling apart.
std::vector<Variant> variants() {
  std::vector<Variant> out;
  out.push_back({"bahdanau", tiny_options(RnnAttentionKind::kBahdanau)});
  for (LuongScore score : {LuongScore::kDot, LuongScore::kGeneral, LuongScore::kConcat}) {
    auto o = tiny_options(RnnAttentionKind::kLuong);
    o.luong_score = score;
    out.push_back({"luong score " + std::to_string(static_cast<int>(score)), o});
  }
  auto local = tiny_options(RnnAttentionKind::kLuong);
  local.local_p = true;
  local.window = 2;
  out.push_back({"luong local-p", local});
  auto no_feeding = tiny_options(RnnAttentionKind::kLuong);
  no_feeding.input_feeding = false;
  out.push_back({"luong without input feeding", no_feeding});
  auto tied = tiny_options(RnnAttentionKind::kBahdanau);
  tied.tie_output_embedding = true;
  out.push_back({"bahdanau tied", tied});
  auto two_layers = tiny_options(RnnAttentionKind::kLuong);
  two_layers.encoder_layers = 2;
  out.push_back({"luong, 2 encoder layers", two_layers});
  return out;
}

TEST(RnnSeq2Seq, ReferenceParameterCountMatchesPyTorch) {
  // peer_torch.py's gru / gru-fast model: 17,890,624 parameters (printed by PyTorch as
  // params_m 17.89): embeddings 2 × 2,048,000, bi-GRU 789,504, bridge 262,656, attention
  // 525,312, decoder GRU 1,969,152, output layer 10,248,000.
  RnnSeq2Seq model({.src_vocab = 8000, .tgt_vocab = 8000}, 1);
  EXPECT_EQ(model.parameter_count(), 17890624);
  std::vector<std::string> names;
  for (auto& [name, t] : model.named_parameters()) names.push_back(name + str(t.shape()));
  EXPECT_EQ(names, (std::vector<std::string>{
                       "src_embedding.weight[8000, 256]",
                       "tgt_embedding.weight[8000, 256]",
                       "encoder.weight_ih_l0[768, 256]",
                       "encoder.weight_hh_l0[768, 256]",
                       "encoder.bias_ih_l0[768]",
                       "encoder.bias_hh_l0[768]",
                       "encoder.weight_ih_l0_reverse[768, 256]",
                       "encoder.weight_hh_l0_reverse[768, 256]",
                       "encoder.bias_ih_l0_reverse[768]",
                       "encoder.bias_hh_l0_reverse[768]",
                       "bridge.weight[512, 512]",
                       "bridge.bias[512]",
                       "attention.v[512]",
                       "attention.query_proj.weight[512, 512]",
                       "attention.key_proj.weight[512, 512]",
                       "attention.key_proj.bias[512]",
                       "decoder_cell.weight_ih[1536, 768]",
                       "decoder_cell.weight_hh[1536, 512]",
                       "decoder_cell.bias_ih[1536]",
                       "decoder_cell.bias_hh[1536]",
                       "output.weight[8000, 1280]",
                       "output.bias[8000]",
                   }));
}

TEST(RnnSeq2Seq, Gradcheck) {
  // ~7,500 forward passes of a tiny model: one thread, so that no oneDNN call waits on a team
  // barrier (which dominates at these sizes, and stalls when the machine is shared).
  testing::ThreadCount one_thread(1);
  const Seq2SeqBatch batch = make_batch(kSrc, kTgt);
  for (const Variant& v : variants()) {
    SCOPED_TRACE(v.name);
    RnnSeq2Seq model(v.options, 2);
    EXPECT_TRUE(gradcheck([&](auto&) { return model.forward(batch, {}).loss; },
                          model.parameters()));
  }
}

// log p(y_t | ...) of every real target token of row b, from teacher-forced logits [B, T, V].
std::vector<float> token_log_probs(const Tensor& logits, const Seq2SeqBatch& batch, Index b) {
  const Index T = logits.size(1), V = logits.size(2);
  const Tensor log_probs = log_softmax(logits, -1);
  std::vector<float> out;
  for (Index t = 0; t < T; ++t) {
    const int y = batch.tgt_out.data()[b * T + t];
    if (y != kPadId) out.push_back(log_probs.data()[(b * T + t) * V + y]);
  }
  return out;
}

TEST(RnnSeq2Seq, PaddingDoesNotChangeASentencesLoss) {
  testing::ThreadCount one_thread(1);  // tiny model (see Gradcheck)
  for (const Variant& v : variants()) {
    SCOPED_TRACE(v.name);
    RnnSeq2Seq model(v.options, 3);
    NoGradGuard no_grad;
    const Seq2SeqBatch batch = make_batch(kSrc, kTgt);
    const Seq2SeqBatch padded = make_batch(kSrc, kTgt, /*extra=*/3);
    const Tensor logits = model.logits(batch.src, batch.src_lengths, batch.tgt_in), logits_padded = model.logits(padded.src, padded.src_lengths, padded.tgt_in);
    for (Index b = 0; b < 3; ++b) {
      const Seq2SeqBatch alone = make_batch({kSrc[b]}, {kTgt[b]});
      const std::vector<float> want = token_log_probs(model.logits(alone.src, alone.src_lengths, alone.tgt_in), alone, 0);
      for (const auto& [what, got] :
           {std::pair{"batch", token_log_probs(logits, batch, b)},
            std::pair{"padded batch", token_log_probs(logits_padded, padded, b)}}) {
        ASSERT_EQ(got.size(), want.size()) << what;
        for (size_t i = 0; i < want.size(); ++i)
          EXPECT_NEAR(got[i], want[i], 1e-5) << what << ", row " << b << ", token " << i;
      }
    }
    // And so the batch loss (mean over real tokens) is the same with extra padding.
    EXPECT_NEAR(model.forward(batch, {}).loss.item(), model.forward(padded, {}).loss.item(), 1e-5);
    EXPECT_EQ(model.forward(padded, {}).num_tokens, 3 + 5 + 2);
  }
}

TEST(RnnSeq2Seq, IncrementalDecodingMatchesTeacherForcing) {
  const Seq2SeqBatch batch = make_batch(kSrc, kTgt);
  const Index B = 3, T = batch.tgt_in.size(1), S = batch.src.size(1), V = 10;
  for (const Variant& v : variants()) {
    SCOPED_TRACE(v.name);
    RnnSeq2Seq model(v.options, 4);
    model.eval();
    NoGradGuard no_grad;
    const Tensor want = log_softmax(model.logits(batch.src, batch.src_lengths, batch.tgt_in), -1);  // [B, T, V]
    const Seq2SeqOutput forward = model.forward(batch, {.return_attention = true});
    ASSERT_EQ(forward.attention.size(), 1u);
    EXPECT_EQ(forward.attention[0].name, "decoder.attention");
    EXPECT_EQ(forward.attention[0].kind, "cross");
    const Tensor& maps = forward.attention[0].weights;  // [B, T, S]
    ASSERT_EQ(maps.shape(), (Shape{B, T, S}));

    auto state = model.start(batch.src, batch.src_lengths);
    EXPECT_EQ(state->rows(), B);
    for (Index t = 0; t < T; ++t) {
      IntTensor last(Shape{B});
      for (Index b = 0; b < B; ++b) last.data()[b] = batch.tgt_in.data()[b * T + t];
      const DecoderStep step = model.step(*state, last);
      ASSERT_EQ(step.log_probs.shape(), (Shape{B, V}));
      ASSERT_EQ(step.attention.shape(), (Shape{B, S}));
      for (Index b = 0; b < B; ++b) {
        for (Index y = 0; y < V; ++y)
          ASSERT_NEAR(step.log_probs.data()[b * V + y], want.data()[(b * T + t) * V + y], 1e-5)
              << "step " << t << " row " << b << " token " << y;
        for (Index s = 0; s < S; ++s)
          ASSERT_NEAR(step.attention.data()[b * S + s], maps.data()[(b * T + t) * S + s], 1e-6);
      }
    }
  }
}

TEST(RnnSeq2Seq, SelectReordersAndDuplicatesRows) {
  const Seq2SeqBatch batch = make_batch(kSrc, kTgt);
  for (const Variant& v : variants()) {
    SCOPED_TRACE(v.name);
    RnnSeq2Seq model(v.options, 5);
    model.eval();
    NoGradGuard no_grad;
    auto state = model.start(batch.src, batch.src_lengths);
    const IntTensor bos = IntTensor(Shape{3}, kBosId);
    model.step(*state, bos);
    const Tensor second = model.step(*state, IntTensor::from_vector(Shape{3}, {5, 7, 6})).log_probs;
    // Start over, keep rows 2, 0, 0 after the first step, then feed them the same tokens.
    auto picked = model.start(batch.src, batch.src_lengths);
    model.step(*picked, bos);
    model.select(*picked, IntTensor::from_vector(Shape{3}, {2, 0, 0}));
    EXPECT_EQ(picked->rows(), 3);
    const Tensor got = model.step(*picked, IntTensor::from_vector(Shape{3}, {6, 5, 5})).log_probs;
    const std::vector<Index> from = {2, 0, 0};
    for (Index r = 0; r < 3; ++r)
      for (Index y = 0; y < 10; ++y)
        EXPECT_FLOAT_EQ(got.data()[r * 10 + y], second.data()[from[r] * 10 + y]);
  }
}

TEST(RnnSeq2Seq, DropoutDrawsFromTheModelsRng) {
  auto options = tiny_options(RnnAttentionKind::kBahdanau);
  options.dropout = 0.3f;
  RnnSeq2Seq model(options, 6);
  const Seq2SeqBatch batch = make_batch(kSrc, kTgt);
  const Rng::State state = model.dropout_rng().state();
  const float a = model.forward(batch, {}).loss.item();
  EXPECT_NE(model.dropout_rng().state().counter, state.counter);
  const float b = model.forward(batch, {}).loss.item();
  EXPECT_NE(a, b);  // fresh masks
  model.dropout_rng().set_state(state);
  EXPECT_EQ(model.forward(batch, {}).loss.item(), a);  // same state, same masks
  model.eval();
  EXPECT_EQ(model.forward(batch, {}).loss.item(), model.forward(batch, {}).loss.item());
}

TEST(RnnSeq2Seq, HardAttentionMapsAreOneHot) {
  for (auto kind : {RnnAttentionKind::kBahdanau, RnnAttentionKind::kLuong}) {
    auto options = tiny_options(kind);
    options.hard_attention = true;
    RnnSeq2Seq model(options, 7);
    const Seq2SeqBatch batch = make_batch(kSrc, kTgt);
    for (bool training : {true, false}) {
      model.train(training);
      const Seq2SeqOutput out = model.forward(batch, {.return_attention = true});
      const Tensor& maps = out.attention[0].weights;  // [B, T, S]
      const Index B = maps.size(0), T = maps.size(1), S = maps.size(2);
      for (Index b = 0; b < B; ++b)
        for (Index t = 0; t < T; ++t) {
          float sum = 0.f;
          for (Index s = 0; s < S; ++s) {
            const float w = maps.data()[(b * T + t) * S + s];
            EXPECT_TRUE(w == 0.f || w == 1.f);
            if (s >= batch.src_lengths.data()[b]) {
              EXPECT_EQ(w, 0.f);
            }
            sum += w;
          }
          EXPECT_EQ(sum, 1.f);
        }
      if (training) {  // the straight-through path reaches the attention's parameters
        model.zero_grad();
        backward(out.loss);
        float norm = 0.f;
        for (auto& [name, p] : model.named_parameters())
          if (name.rfind("attention.", 0) == 0)
            for (float g : p.grad().to_vector()) norm += g * g;
        EXPECT_GT(norm, 0.f);
      }
    }
  }
}

// ---- learning: reverse 32 random sequences

std::vector<int> greedy(RnnSeq2Seq& model, const Sentence& src, int max_len) {
  NoGradGuard no_grad;
  IntTensor ids(Shape{1, static_cast<Index>(src.size())});
  for (size_t i = 0; i < src.size(); ++i) ids.data()[i] = src[i];
  auto state = model.start(ids, IntTensor::from_vector(Shape{1}, {static_cast<int>(src.size())}));
  std::vector<int> out;
  int last = kBosId;
  for (int t = 0; t < max_len; ++t) {
    const Tensor log_probs = model.step(*state, IntTensor::from_vector(Shape{1}, {last})).log_probs;
    const float* p = log_probs.data();
    last = static_cast<int>(std::max_element(p, p + log_probs.size(1)) - p);
    if (last == kEosId) break;
    out.push_back(last);
  }
  return out;
}

void learn_to_reverse(RnnSeq2SeqOptions options, int max_steps) {
  testing::ThreadCount one_thread(1);  // tiny batches (see Gradcheck)
  Rng data_rng(8);
  std::vector<Sentence> src, tgt;
  for (int i = 0; i < 32; ++i) {
    Sentence s(static_cast<size_t>(data_rng.randint(3, 7)));
    for (int& x : s) x = static_cast<int>(data_rng.randint(4, options.src_vocab));
    src.push_back(s);
    tgt.emplace_back(s.rbegin(), s.rend());
  }
  const Seq2SeqBatch batch = make_batch(src, tgt);
  RnnSeq2Seq model(options, 9);
  Adam adam(model.named_parameters(), {.lr = 1e-2f});
  auto count_errors = [&] {
    model.eval();
    int errors = 0;
    for (size_t i = 0; i < src.size(); ++i) errors += greedy(model, src[i], 10) != tgt[i];
    model.train();
    return errors;
  };
  int errors = count_errors(), step = 0;
  EXPECT_GT(errors, 0);  // an untrained model cannot reverse
  while (errors > 0 && step < max_steps) {
    for (int k = 0; k < 25; ++k, ++step) {
      model.zero_grad();
      backward(model.forward(batch, {}).loss);
      adam.step();
    }
    errors = count_errors();
  }
  EXPECT_EQ(errors, 0) << "after " << step << " steps";
}

RnnSeq2SeqOptions reverse_options(RnnAttentionKind kind) {
  return {.src_vocab = 12,
          .tgt_vocab = 12,
          .embedding_dim = 32,
          .encoder_hidden = 32,
          .decoder_hidden = 64,
          .attention = kind,
          .dropout = 0.f};
}

TEST(RnnSeq2SeqLearning, BahdanauLearnsToReverse) {
  learn_to_reverse(reverse_options(RnnAttentionKind::kBahdanau), 400);
}

TEST(RnnSeq2SeqLearning, LuongLearnsToReverse) {
  learn_to_reverse(reverse_options(RnnAttentionKind::kLuong), 400);
}

TEST(RnnSeq2SeqLearning, HardBahdanauLearnsToReverse) {
  auto options = reverse_options(RnnAttentionKind::kBahdanau);
  options.hard_attention = true;
  learn_to_reverse(options, 400);
}

TEST(RnnSeq2SeqLearning, LocalPLuongLearnsToReverse) {
  auto options = reverse_options(RnnAttentionKind::kLuong);
  options.local_p = true;
  options.window = 2;
  learn_to_reverse(options, 400);
}

// ---- errors

TEST(RnnSeq2Seq, BadInputsAndOptions) {
  RnnSeq2Seq model(tiny_options(RnnAttentionKind::kBahdanau), 10);
  Seq2SeqBatch batch = make_batch(kSrc, kTgt);
  batch.src_lengths.data()[1] = 0;
  EXPECT_THROW_MSG(model.forward(batch, {}), "RnnSeq2Seq: src_lengths[1] = 0 is outside [1, S=4]");
  batch = make_batch(kSrc, kTgt);
  batch.tgt_out = IntTensor(Shape{3, 2});
  EXPECT_THROW_MSG(model.forward(batch, {}), "RnnSeq2Seq: tgt_out must be shaped like tgt_in");
  batch = make_batch(kSrc, kTgt);
  batch.tgt_in = IntTensor(Shape{2, 5});
  EXPECT_THROW_MSG(model.forward(batch, {}), "RnnSeq2Seq: tgt_in must be [B=3, T] (got [2, 5])");
  auto state = model.start(batch.src, batch.src_lengths);
  EXPECT_THROW_MSG(model.step(*state, IntTensor(Shape{2})),
                   "RnnSeq2Seq::step: last_tokens must be [N] = [3] (got [2])");
  EXPECT_THROW_MSG(model.select(*state, IntTensor::from_vector(Shape{1}, {3})),
                   "RnnSeq2Seq::select: row 3 is outside [0, 3)");
  auto options = tiny_options(RnnAttentionKind::kBahdanau);
  options.local_p = true;
  EXPECT_THROW_MSG(RnnSeq2Seq(options, 10), "RnnSeq2Seq: local_p is a Luong attention option");
  options = tiny_options(RnnAttentionKind::kLuong);
  options.luong_score = LuongScore::kDot;
  options.decoder_hidden = 5;
  EXPECT_THROW_MSG(RnnSeq2Seq(options, 10), "LuongAttention: the dot score needs query_dim");
  options = tiny_options(RnnAttentionKind::kLuong);
  options.dropout = 1.f;
  EXPECT_THROW_MSG(RnnSeq2Seq(options, 10), "RnnSeq2Seq: dropout must be in [0, 1) (got 1)");
}

}  // namespace
}  // namespace heed
