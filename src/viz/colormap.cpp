// viridis: 33 knots and linear interpolation (see colormap.h for the accuracy).
#include "heed/viz/colormap.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "heed/util/check.h"

namespace heed::viz {

namespace {

// viridis at t = i / 32, i = 0..32, as 0xRRGGBB.
constexpr std::array<std::uint32_t, 33> kViridisKnots = {
    0x440154, 0x470d60, 0x48186a, 0x482374, 0x472d7b, 0x453681, 0x424086, 0x3f4989, 0x3b528b,
    0x375a8d, 0x33638d, 0x2f6a8e, 0x2c728e, 0x297a8e, 0x26818e, 0x23898e, 0x21908c, 0x1f988b,
    0x1f9f88, 0x21a685, 0x28ae80, 0x31b57b, 0x3ebc74, 0x4cc26c, 0x5dc963, 0x6ece58, 0x82d34c,
    0x96d83f, 0xabdc32, 0xc0df24, 0xd5e21a, 0xeae51a, 0xfde725};

double channel(std::uint32_t rgb, int shift) { return static_cast<double>((rgb >> shift) & 0xff); }

}  // namespace

Rgb viridis(double t) {
  if (!(t > 0)) t = 0;  // also NaN
  t = std::min(t, 1.0);
  const double x = t * static_cast<double>(kViridisKnots.size() - 1);
  const auto i = std::min(static_cast<std::size_t>(x), kViridisKnots.size() - 2);
  const double f = x - static_cast<double>(i);
  auto mix = [&](int shift) {
    const double v =
        channel(kViridisKnots[i], shift) * (1 - f) + channel(kViridisKnots[i + 1], shift) * f;
    return static_cast<std::uint8_t>(std::lround(v));
  };
  return {mix(16), mix(8), mix(0)};
}

std::string to_hex(Rgb colour) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "#";
  for (std::uint8_t v : {colour.r, colour.g, colour.b}) {
    out += kDigits[v >> 4];
    out += kDigits[v & 15];
  }
  return out;
}

std::vector<std::string> viridis_table(int n) {
  CHECK(n >= 2, "viridis_table: need at least 2 colours (got ", n, ")");
  std::vector<std::string> table;
  table.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) table.push_back(to_hex(viridis(static_cast<double>(i) / (n - 1))));
  return table;
}

}  // namespace heed::viz
