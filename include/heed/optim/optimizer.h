// Optimizer: the base of Adam, AdamW and SGD.
//
// Flat buffers. At construction the optimizer gathers every parameter into ONE flat buffer: it
// copies each parameter's values in and re-points the parameter (Tensor::rebind_storage, so the
// handles the model holds see it) at its slice. It does the same for gradients (Tensor::set_grad
// attaches a view into one flat gradient buffer, where backward then writes) and for its own
// state (Adam's two moments are two more flat buffers). An update is then one fused OpenMP loop
// over a few flat arrays — no per-parameter dispatch, no per-parameter temporaries — and the
// global gradient norm for clipping is one pass. Each slice starts on a 64-byte boundary (the
// offsets are rounded up to 16 floats); the padding between slices is zero in every buffer and
// stays zero under every update rule here.
//
// Consequences: build the optimizer before taking views (with_shape/detach) of parameters, since
// earlier views keep the old storage; do not replace a parameter's gradient with set_grad
// afterwards (step() checks and throws); write new values into parameters in place
// (copy_from_), as checkpoint loading does.
//
// Parameters without a gradient. zero_grad() marks gradients stale without a memset (see
// Tensor::zero_grad); a parameter that no backward reached since then reads as a ZERO gradient
// and is updated with it: SGD applies only weight decay and momentum, Adam still decays its
// moments and moves the parameter by the bias-corrected old momentum. This is exactly
// torch.optim's behaviour after its default zero_grad() in torch 1.13 (set_to_none=False: grads
// are zero tensors). torch skips parameters whose .grad is None (after zero_grad(set_to_none=True),
// the default since torch 2.0): heed has no such state and never skips.
//
// Lazy rows. A subclass may name 2-D parameters (embedding tables) to be updated row by row:
// a row whose gradient is exactly zero in a step is skipped — its value and its state stay as
// they are — instead of being updated with a zero gradient. The update then visits ranges():
// dense ranges of the flat buffers (adjacent dense parameters merged) and lazy ranges of whole
// rows. Without lazy parameters there is one dense range over everything.
//
// Steps count from 1: step() increments step_count() and then updates with that count (Adam's
// bias correction uses it). Optimizer state (step count + buffers) is exported and imported by
// dotted parameter name for checkpoints: "<parameter>.<buffer>", e.g.
// "encoder.layers.0.fc1.weight.exp_avg", with torch's buffer names (exp_avg, exp_avg_sq,
// momentum_buffer). Hyperparameters are not state: they come from the config.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "heed/nn/module.h"
#include "heed/tensor/tensor.h"

namespace heed {

struct OptimizerState {
  std::int64_t step = 0;
  // "<parameter>.<buffer>" -> values with the parameter's shape, parameter-major: for each
  // parameter in order, each of its buffers.
  std::vector<std::pair<std::string, Tensor>> tensors;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Updates every parameter from its gradient (zero for parameters that received none since
  // zero_grad) with step count step_count() + 1.
  void step();
  // Marks every gradient stale: the next backward overwrites instead of adding (no memset).
  void zero_grad();
  // Scales all gradients so that their global L2 norm is at most `max_norm`; returns the norm
  // before clipping. torch.nn.utils.clip_grad_norm_ semantics (see optim/grad_clip.h).
  float clip_grad_norm(float max_norm);

  float lr() const { return lr_; }
  void set_lr(float lr);
  // Number of step() calls so far (restored by load_state).
  std::int64_t step_count() const { return step_; }
  const char* name() const { return name_; }
  const NamedParameters& parameters() const { return parameters_; }

  // A deep copy of the step count and every state buffer, keyed by dotted name.
  OptimizerState state() const;
  // Restores a state(): every expected entry exactly once, each with its parameter's shape. All
  // checks run before anything is written, and errors name the entry and the parameter.
  void load_state(const OptimizerState& state);

 protected:
  // `name` ("adam", "sgd") prefixes error messages. Gathers the parameters into flat buffers.
  Optimizer(const char* name, const NamedParameters& parameters, float lr);

  // Adds a zero-filled flat state buffer laid out like the parameters, exported as
  // "<parameter>.<buffer_name>". Subclass constructors call this.
  void add_state_buffer(const std::string& buffer_name);
  float* state_buffer(int i) { return state_buffers_[i].second.data(); }

  // The flat arrays an update loops over, all of flat_size() elements.
  float* flat_params() { return params_flat_.data(); }
  const float* flat_grads() const { return grads_flat_.data(); }
  Index flat_size() const { return params_flat_.numel(); }

  // One update over the flat arrays; `step` is the 1-based count of this step.
  virtual void update(std::int64_t step) = 0;

  // [begin, end) of the flat arrays; row_size > 0: a lazy range of rows of that many elements
  // (end - begin is a multiple of it), 0: dense.
  struct FlatRange {
    Index begin = 0, end = 0;
    Index row_size = 0;
  };
  // Makes the named parameters lazy (see the header comment); each must be a 2-D parameter of
  // this optimizer, else the error names it.
  void set_lazy_rows(const std::vector<std::string>& names);
  const std::vector<FlatRange>& ranges() const { return ranges_; }

 private:
  // Makes stale gradients read as zero and checks every parameter is still backed by the flat
  // buffers (no one called set_grad or rebind_storage behind the optimizer's back).
  void prepare_grads();
  Tensor slice(const Tensor& flat, size_t parameter) const;

  const char* name_;
  float lr_;
  std::int64_t step_ = 0;
  NamedParameters parameters_;
  std::vector<Index> offsets_;  // parameters_[i] lives at flat[offsets_[i], + numel)
  std::vector<FlatRange> ranges_;
  Tensor params_flat_;
  Tensor grads_flat_;
  std::vector<std::pair<std::string, Tensor>> state_buffers_;  // "exp_avg" -> flat buffer
};

}  // namespace heed
