#include "runtime/stop_strings.h"

#include <gtest/gtest.h>

namespace longcat {
namespace {

TEST(StopStrings, StopsAtFirstMatchSpanningPieces) {
  StopStringFilter f({"END", "\n\n"});
  std::string shown = f.push("Once upon a time E");
  EXPECT_EQ(shown, "Once upon a time ");  // "E" might start "END": held back
  shown += f.push("N");
  EXPECT_FALSE(f.stopped());
  shown += f.push("D and more");
  EXPECT_TRUE(f.stopped());
  EXPECT_EQ(shown, "Once upon a time ");
  EXPECT_EQ(f.push("ignored"), "");
  EXPECT_EQ(f.text(), "Once upon a time ");
}

TEST(StopStrings, ReleasesHeldTextWhenItTurnsOutNotToMatch) {
  StopStringFilter f({"END"});
  EXPECT_EQ(f.push("THE E"), "THE ");
  EXPECT_EQ(f.push("ND"), "");
  EXPECT_TRUE(f.stopped());
  StopStringFilter g({"END"});
  EXPECT_EQ(g.push("THE E"), "THE ");
  EXPECT_EQ(g.push("XIT"), "EXIT");
  EXPECT_EQ(g.push("EN"), "");
  EXPECT_EQ(g.finish(), "EN");
  EXPECT_EQ(g.text(), "THE EXITEN");
}

TEST(StopStrings, NoStopsPassesEverythingThrough) {
  StopStringFilter f({});
  EXPECT_EQ(f.push("abc"), "abc");
  EXPECT_EQ(f.finish(), "");
}

}  // namespace
}  // namespace longcat
