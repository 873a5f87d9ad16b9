// The colour scale of every heatmap heed draws: viridis (van der Walt & Smith, 2015; matplotlib's
// default), perceptually uniform — equal steps in value look like equal steps in colour — readable
// in greyscale and by viewers with the common forms of colour blindness.
//
// Stored as 33 evenly spaced 8-bit colours of the reference table and interpolated linearly in
// between: at most 1.7/255 per channel from the 256-entry reference (matplotlib's _viridis_data,
// CC0). viridis(0) = #440154 (dark purple), viridis(1) = #fde725 (yellow).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace heed::viz {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

// The colour of t in [0, 1] (clamped; NaN gives viridis(0)).
Rgb viridis(double t);

// "#rrggbb".
std::string to_hex(Rgb colour);

// n >= 2 colours evenly spaced over [0, 1], as "#rrggbb" (the lookup table of the HTML pages).
std::vector<std::string> viridis_table(int n);

}  // namespace heed::viz
