#include "heed/util/parallel.h"

#include <omp.h>

namespace heed {

void set_num_threads(int n) {
  omp_set_dynamic(0);
  omp_set_num_threads(n > 0 ? n : omp_get_num_procs());
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace heed
