// A two-parameter problem with known gradients, shared by the optimizer tests and by the
// torch script that produced their reference numbers:
//
//   L = Σ ½·cw·w² + dw·w  +  Σ ½·cb·b² + db·b        dL/dw = cw·w + dw,  dL/db = cb·b + db
//
// w [2, 3] and b [3] start at fixed values. Gradients go through heed's autograd (elementwise
// ops and backward with a ones seed), as a model's would. b's gradient at the start is
// [0.1, 0, 0.45]: its middle element has an exactly zero gradient.
#pragma once

#include "heed/autograd/engine.h"
#include "heed/nn/module.h"
#include "heed/ops/elementwise.h"

namespace heed::testing {

struct QuadraticProblem {
  Tensor w = Tensor::from_vector(Shape{2, 3}, {0.5f, -1.f, 1.5f, 2.f, -0.25f, 0.75f})
                 .set_requires_grad(true);
  Tensor b = Tensor::from_vector(Shape{3}, {0.1f, -0.2f, 0.3f}).set_requires_grad(true);
  Tensor cw = Tensor::from_vector(Shape{2, 3}, {1.f, 2.f, 0.5f, 3.f, 1.5f, 0.25f});
  Tensor dw = Tensor::from_vector(Shape{2, 3}, {0.1f, -0.3f, 0.2f, -0.5f, 0.4f, 0.05f});
  Tensor cb = Tensor::from_vector(Shape{3}, {2.f, 1.f, 0.5f});
  Tensor db = Tensor::from_vector(Shape{3}, {-0.1f, 0.2f, 0.3f});

  NamedParameters parameters() const { return {{"w", w}, {"b", b}}; }

  // Adds dL/dw (and dL/db unless `with_b` is false) into the gradients.
  void backward(bool with_b = true) const {
    Tensor lw = cw * w * w * 0.5f + dw * w;
    heed::backward(lw, Tensor::ones(lw.shape()));
    if (with_b) {
      Tensor lb = cb * b * b * 0.5f + db * b;
      heed::backward(lb, Tensor::ones(lb.shape()));
    }
  }
};

}  // namespace heed::testing
