#include "ops/kernels/dnnl_matmul.h"

#include <dnnl.hpp>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <mutex>
#include <unordered_map>

#include "heed/ops/flop_counter.h"
#include "heed/tensor/tensor.h"
#include "heed/util/check.h"

namespace heed::kernels {
namespace {

using dnnl::memory;
using Dims = memory::dims;

struct Key {
  std::int64_t batch, M, K, N;
  bool trans_a, trans_b, accumulate, bias;
  MatmulPrecision precision;
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  size_t operator()(const Key& k) const {
    size_t h = 1469598103934665603ull;
    auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 1099511628211ull; };
    mix(k.batch);
    mix(k.M);
    mix(k.K);
    mix(k.N);
    mix((k.trans_a << 0) | (k.trans_b << 1) | (k.accumulate << 2) | (k.bias << 3) |
        (static_cast<int>(k.precision) << 4));
    return h;
  }
};

struct Entry {
  dnnl::matmul primitive;
  memory::desc a_md, b_md, c_md, bias_md, scratch_md;
  size_t scratch_bytes = 0;
};

// oneDNN 2.6 picks AMX kernels on CPUs that advertise AMX, but it does not ask Linux for the tile
// registers (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)), and in some virtual machines
// (seen here: a KVM guest that grants the permission) the tile instructions fault anyway. So heed
// caps oneDNN at AVX-512 + bf16 (vdpbf16ps, ~2x fp32 throughput) unless HEED_ALLOW_AMX=1, in
// which case it requests the permission and lets oneDNN use AMX. Must run before any other
// oneDNN call, hence a member initialized before the engine.
bool configure_isa() {
  const char* allow = std::getenv("HEED_ALLOW_AMX");
  if (allow && std::string(allow) == "1") {
#if defined(__x86_64__) && defined(__linux__)
    constexpr long kArchReqXcompPerm = 0x1023;
    constexpr long kXfeatureXtiledata = 18;
    if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0) return true;
#endif
  }
  dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx512_core_bf16);
  return false;
}

struct Context {
  bool amx = configure_isa();
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::mutex mutex;
  std::unordered_map<Key, Entry, KeyHash> cache;
  std::int64_t created = 0;
  MatmulPrecision precision = MatmulPrecision::kF32;
};

Context& context() {
  static Context* ctx = new Context();  // leaked: primitives may be used during static teardown
  return *ctx;
}

memory::desc operand_md(std::int64_t batch, std::int64_t rows, std::int64_t cols, bool trans,
                        memory::data_type dt) {
  // Logical [batch, rows, cols]; stored as [batch, cols, rows] when transposed.
  const Dims dims{batch, rows, cols};
  const Dims strides = trans ? Dims{rows * cols, 1, rows} : Dims{rows * cols, cols, 1};
  return memory::desc(dims, dt, strides);
}

Entry create(const Key& k) {
  Context& ctx = context();
  const auto dt = k.precision == MatmulPrecision::kBf16 ? memory::data_type::bf16
                                                        : memory::data_type::f32;
  Entry e;
  e.a_md = operand_md(k.batch, k.M, k.K, k.trans_a, dt);
  e.b_md = operand_md(k.batch, k.K, k.N, k.trans_b, dt);
  e.c_md = operand_md(k.batch, k.M, k.N, false, memory::data_type::f32);
  if (k.bias) e.bias_md = memory::desc({1, 1, k.N}, memory::data_type::f32, Dims{k.N, k.N, 1});
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (k.accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  auto desc = k.bias ? dnnl::matmul::desc(e.a_md, e.b_md, e.bias_md, e.c_md)
                     : dnnl::matmul::desc(e.a_md, e.b_md, e.c_md);
  dnnl::matmul::primitive_desc pd(desc, attr, ctx.engine);
  e.scratch_md = pd.scratchpad_desc();
  e.scratch_bytes = e.scratch_md.get_size();
  e.primitive = dnnl::matmul(pd);
  ++ctx.created;
  return e;
}

// Round-to-nearest-even fp32 -> bf16 conversion into a pool buffer.
Tensor to_bf16(const float* src, std::int64_t n) {
  Tensor buf = Tensor::empty(Shape{(n + 1) / 2});
  auto* dst = reinterpret_cast<std::uint16_t*>(buf.data());
#pragma omp parallel for schedule(static) if (n > (1 << 15))
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, &src[i], 4);
    const std::uint32_t rounding = 0x7FFFu + ((bits >> 16) & 1u);
    dst[i] = static_cast<std::uint16_t>((bits + rounding) >> 16);
  }
  return buf;
}

}  // namespace

void set_matmul_precision(MatmulPrecision precision) { context().precision = precision; }
MatmulPrecision matmul_precision() { return context().precision; }

std::int64_t matmul_primitives_created() { return context().created; }

void matmul(const MatmulShape& s, const float* A, const float* B, const float* bias, float* C) {
  if (s.batch == 0 || s.M == 0 || s.N == 0) return;
  if (s.K == 0) {  // empty sum
    if (!s.accumulate) std::memset(C, 0, sizeof(float) * s.batch * s.M * s.N);
    if (bias) {
      for (std::int64_t r = 0; r < s.batch * s.M; ++r)
        for (std::int64_t j = 0; j < s.N; ++j) C[r * s.N + j] += bias[j];
    }
    return;
  }
  add_matmul_flops(2.0 * s.batch * s.M * s.K * s.N);
  Context& ctx = context();
  const Key key{s.batch, s.M, s.K, s.N, s.trans_a, s.trans_b, s.accumulate, bias != nullptr,
                ctx.precision};
  const Entry* entry;
  {
    std::lock_guard<std::mutex> lock(ctx.mutex);
    auto it = ctx.cache.find(key);
    if (it == ctx.cache.end()) it = ctx.cache.emplace(key, create(key)).first;
    entry = &it->second;  // unordered_map nodes are stable
  }
  Tensor a_bf16, b_bf16;
  void* a_ptr = const_cast<float*>(A);
  void* b_ptr = const_cast<float*>(B);
  if (key.precision == MatmulPrecision::kBf16) {
    a_bf16 = to_bf16(A, s.batch * s.M * s.K);
    b_bf16 = to_bf16(B, s.batch * s.K * s.N);
    a_ptr = a_bf16.data();
    b_ptr = b_bf16.data();
  }
  Tensor scratch;
  if (entry->scratch_bytes > 0)
    scratch = Tensor::empty(Shape{static_cast<Index>((entry->scratch_bytes + 3) / 4)});

  memory a_mem(entry->a_md, ctx.engine, a_ptr);
  memory b_mem(entry->b_md, ctx.engine, b_ptr);
  memory c_mem(entry->c_md, ctx.engine, C);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}};
  if (bias) args.emplace(DNNL_ARG_BIAS, memory(entry->bias_md, ctx.engine, const_cast<float*>(bias)));
  if (entry->scratch_bytes > 0)
    args.emplace(DNNL_ARG_SCRATCHPAD, memory(entry->scratch_md, ctx.engine, scratch.data()));
  entry->primitive.execute(ctx.stream, args);
  ctx.stream.wait();
}

}  // namespace heed::kernels

namespace heed::kernels {

std::vector<double> time_raw_dnnl_matmul(const MatmulShape& s, int warmup, int reps) {
  Context& ctx = context();
  const Key key{s.batch, s.M, s.K, s.N, s.trans_a, s.trans_b, s.accumulate, false,
                ctx.precision};
  Entry e = create(key);
  // Operands filled once with ordinary values in [-1, 1) (no denormals); bf16 operands are
  // converted once, outside the timed loop.
  const std::int64_t na = s.batch * s.M * s.K, nb = s.batch * s.K * s.N;
  Tensor a_f32 = Tensor::empty(Shape{na}), b_f32 = Tensor::empty(Shape{nb});
  for (std::int64_t i = 0; i < na; ++i) a_f32.data()[i] = static_cast<float>(i % 17) / 8.5f - 1.f;
  for (std::int64_t i = 0; i < nb; ++i) b_f32.data()[i] = static_cast<float>(i % 13) / 6.5f - 1.f;
  const bool bf16 = ctx.precision == MatmulPrecision::kBf16;
  Tensor a = bf16 ? to_bf16(a_f32.data(), na) : a_f32;
  Tensor b = bf16 ? to_bf16(b_f32.data(), nb) : b_f32;
  std::vector<float> c(s.batch * s.M * s.N, 0.f);
  std::vector<char> scratch(std::max<size_t>(e.scratch_bytes, 1));
  memory a_mem(e.a_md, ctx.engine, a.data()), b_mem(e.b_md, ctx.engine, b.data());
  memory c_mem(e.c_md, ctx.engine, c.data());
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}};
  if (e.scratch_bytes > 0)
    args.emplace(DNNL_ARG_SCRATCHPAD, memory(e.scratch_md, ctx.engine, scratch.data()));
  std::vector<double> times;
  for (int i = 0; i < warmup + reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    e.primitive.execute(ctx.stream, args);
    ctx.stream.wait();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (i >= warmup) times.push_back(dt);
  }
  return times;
}

}  // namespace heed::kernels
