// Crosses (model/cross.h): parsing and validation of the config's cross strings, the
// crossed features of an event (hash, value, field), the "*" wildcard, the split a
// request uses (context once, then each item) giving exactly the whole event's crosses,
// and the cap on crossed features per event.
#include "model/cross.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>

#include "model/hash.h"

namespace streamrec::model {
namespace {

HashedFeature F(const std::string& field, const std::string& value, float v = 1.0f) {
  const uint64_t name = HashName(field);
  return {HashCategory(name, value), v, FieldId(name)};
}

TEST(CrossTest, ParsesAndValidates) {
  struct Case {
    const char* text;
    std::vector<std::string> fields;  // empty: refused
    const char* error;
  };
  const Case cases[] = {
      {"user x item_id", {"user", "item_id"}, ""},
      {"  user   x  genre x hour ", {"user", "genre", "hour"}, ""},
      {"item_id x *", {"item_id", "*"}, ""},
      {"user", {}, "cross \"user\" names fewer than two fields"},
      {"user x user", {}, "field user appears twice"},
      {"a x b x *", {}, "\"*\" is allowed in a pair only"},
      {"a x b x c x d", {}, "crosses 2 or 3 fields"},
      {"a x  x b", {}, "a field name is empty"},
      {"userxitem", {}, "names fewer than two fields"},  // " x " separates, not "x"
      {"user x x item_id", {}, "begins or ends with an x separator"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Cross> got = ParseCross(c.text);
    if (c.fields.empty()) {
      ASSERT_FALSE(got.ok()) << c.text;
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(got.status().message().find(c.error), std::string_view::npos)
          << c.text << ": " << got.status();
    } else {
      ASSERT_TRUE(got.ok()) << c.text << ": " << got.status();
      EXPECT_EQ(got->fields, c.fields) << c.text;
    }
  }
  std::vector<Cross> many;
  for (size_t i = 0; i <= kMaxCrosses; ++i) many.push_back(Cross{{"a", "b" + std::to_string(i)}});
  EXPECT_FALSE(ValidateCrosses(many).ok());
  const absl::Status twice = ValidateCrosses({Cross{{"a", "b"}}, Cross{{"a", "b"}}});
  EXPECT_EQ(twice.message(), "cross \"a x b\" is listed twice");
  const absl::Status reordered =
      ValidateCrosses({Cross{{"a", "b", "c"}}, Cross{{"a", "x"}}, Cross{{"c", "a", "b"}}});
  EXPECT_EQ(reordered.message(),
            "cross \"c x a x b\" is \"a x b x c\" in another order (the same interactions; "
            "list one)");
  EXPECT_FALSE(ValidateCrosses({Cross{{"user", "*"}}, Cross{{"*", "user"}}}).ok());
  EXPECT_TRUE(ValidateCrosses({Cross{{"a", "b"}}, Cross{{"a", "c"}}}).ok());
}

TEST(CrossTest, CrossedFeaturesHashTheHashesInDeclaredOrder) {
  Crosser crosser({Cross{{"user", "genre"}}});
  const FeatureVector event = {F("user", "u1"), F("genre", "drama", 0.5f),
                               F("genre", "war", 2.0f), F("item_id", "m1")};
  FeatureVector out;
  crosser.Append(event, out);
  ASSERT_EQ(out.size(), 2u);
  const uint64_t drama[2] = {event[0].hash, event[1].hash};
  const uint64_t war[2] = {event[0].hash, event[2].hash};
  EXPECT_EQ(out[0].hash, HashCross(drama, 2));
  EXPECT_EQ(out[1].hash, HashCross(war, 2));
  EXPECT_EQ(out[0].value, 0.5f);
  EXPECT_EQ(out[1].value, 2.0f);
  EXPECT_EQ(out[0].field, FieldId(HashName("user x genre")));
  const uint64_t reversed[2] = {event[1].hash, event[0].hash};
  EXPECT_NE(HashCross(reversed, 2), out[0].hash);  // order is part of the cross
}

TEST(CrossTest, WildcardCrossesEveryOtherKnownField) {
  Crosser crosser({Cross{{"item_id", "*"}}});
  FeatureVector event = {F("item_id", "m1"), F("user", "u1"), F("hour", "13"),
                         F("item_id", "m2")};
  event.push_back({HashName("old"), 1.0f, 0});  // unknown field: crosses with nothing
  FeatureVector out;
  crosser.Append(event, out);
  EXPECT_EQ(out.size(), 4u);  // 2 item ids x (user, hour); never item_id x item_id
}

// Serving crosses a request's context with each candidate: exactly the whole event's
// crosses, for pairs, triples and the wildcard.
TEST(CrossTest, ContextWithItemEqualsTheWholeEvent) {
  Crosser crosser({Cross{{"user", "item_id"}}, Cross{{"user", "hour"}},
                   Cross{{"user", "genre", "item_id"}}, Cross{{"genre", "*"}}});
  const FeatureVector context = {F("user", "u1"), F("hour", "9"), F("genre", "a"),
                                 F("genre", "b")};
  const FeatureVector item = {F("item_id", "m3"), F("genre", "c")};
  FeatureVector whole = context;
  whole.insert(whole.end(), item.begin(), item.end());
  FeatureVector all, split;
  crosser.Append(whole, all);
  crosser.Append(context, item, split);
  auto key = [](const HashedFeature& f) { return std::make_tuple(f.hash, f.value, f.field); };
  auto less = [&](const HashedFeature& a, const HashedFeature& b) { return key(a) < key(b); };
  std::sort(all.begin(), all.end(), less);
  std::sort(split.begin(), split.end(), less);
  ASSERT_EQ(all.size(), split.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(key(all[i]), key(split[i])) << i;
  EXPECT_GT(all.size(), 10u);
}

// The budget takes crosses whole, in order, from sizes alone: the same features in
// training and in serving however an event is split, and bounded work per event.
TEST(CrossTest, CrossesThatDoNotFitTheBudgetAreSkippedWhole) {
  Crosser crosser({Cross{{"a", "b"}}, Cross{{"a", "c"}}, Cross{{"c", "d"}}});
  FeatureVector context, item;
  for (int i = 0; i < 50; ++i) {
    context.push_back(F("a", std::to_string(i)));
    context.push_back(F("b", std::to_string(i)));
    item.push_back(F("c", std::to_string(i)));
  }
  item.push_back(F("d", "x"));
  FeatureVector whole = context;
  whole.insert(whole.end(), item.begin(), item.end());
  FeatureVector all, split;
  crosser.Append(whole, all);
  crosser.Append(context, item, split);
  // a x b: 2,500 fit; a x c: 2,500 more do not (1,596 left): skipped; c x d: 50 fit.
  EXPECT_EQ(all.size(), 2550u);
  EXPECT_EQ(split.size(), all.size());
  Crosser huge({Cross{{"a", "b"}}});
  FeatureVector big;
  for (int i = 0; i < 1000; ++i) {  // a million pairs: skipped at once, nothing enumerated
    big.push_back(F("a", std::to_string(i)));
    big.push_back(F("b", std::to_string(i)));
  }
  FeatureVector out;
  huge.Append(big, out);
  EXPECT_TRUE(out.empty());
}

// Hostile pass: 1e20 x 1e20 overflowed to inf, and 0 x inf made NaN scores.
TEST(CrossTest, CrossedValuesThatAreNotFiniteFloatsAreLeftOut) {
  Crosser crosser({Cross{{"p", "q"}}});
  const uint64_t p = HashName("p"), q = HashName("q");
  FeatureVector event = {{p, 1e20f, FieldId(p)}, {q, 1e20f, FieldId(q)}, {q, 2.0f, FieldId(q)}};
  FeatureVector out;
  crosser.Append(event, out);
  ASSERT_EQ(out.size(), 1u);  // only 1e20 x 2
  EXPECT_EQ(out[0].value, 2e20f);
}

}  // namespace
}  // namespace streamrec::model
