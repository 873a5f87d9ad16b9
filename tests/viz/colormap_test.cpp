#include "heed/viz/colormap.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "testing/gradcheck.h"

namespace heed::viz {
namespace {

// sRGB -> relative luminance (WCAG).
double luminance(Rgb c) {
  auto linear = [](std::uint8_t v) {
    const double x = v / 255.0;
    return x <= 0.04045 ? x / 12.92 : std::pow((x + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * linear(c.r) + 0.7152 * linear(c.g) + 0.0722 * linear(c.b);
}

TEST(Viridis, EndpointsAreMatplotlibs) {
  EXPECT_EQ(to_hex(viridis(0.0)), "#440154");  // dark purple
  EXPECT_EQ(to_hex(viridis(1.0)), "#fde725");  // yellow
}

TEST(Viridis, KnotsAndQuarterPoints) {
  EXPECT_EQ(to_hex(viridis(0.25)), "#3b528b");
  EXPECT_EQ(to_hex(viridis(0.5)), "#21908c");
  EXPECT_EQ(to_hex(viridis(0.75)), "#5dc963");
}

TEST(Viridis, InterpolatesLinearlyBetweenKnots) {
  // Halfway between the knots 0 (#440154) and 1/32 (#470d60): (68+71)/2, (1+13)/2, (84+96)/2.
  EXPECT_EQ(viridis(1.0 / 64), (Rgb{70, 7, 90}));
}

TEST(Viridis, ClampsOutOfRangeAndNaN) {
  EXPECT_EQ(viridis(-0.5), viridis(0.0));
  EXPECT_EQ(viridis(3.0), viridis(1.0));
  EXPECT_EQ(viridis(std::numeric_limits<double>::quiet_NaN()), viridis(0.0));
}

TEST(Viridis, LuminanceIncreasesMonotonically) {
  // What makes the scale readable: a larger value is always lighter (also in greyscale).
  double previous = -1;
  for (int i = 0; i <= 64; ++i) {
    const double l = luminance(viridis(i / 64.0));
    EXPECT_GT(l, previous) << "at " << i << "/64";
    previous = l;
  }
}

TEST(Viridis, TableForPages) {
  const std::vector<std::string> table = viridis_table(256);
  ASSERT_EQ(table.size(), 256u);
  EXPECT_EQ(table.front(), "#440154");
  EXPECT_EQ(table.back(), "#fde725");
  EXPECT_EQ(table[128], to_hex(viridis(128.0 / 255)));
  EXPECT_THROW_MSG(viridis_table(1), "viridis_table: need at least 2 colours (got 1)");
}

}  // namespace
}  // namespace heed::viz
