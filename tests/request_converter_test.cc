// RequestConverter: what each feature kind hashes to (the README's contract).
#include "server/request_converter.h"

#include <gtest/gtest.h>

#include <map>

#include "model/hash.h"

namespace streamrec::server {
namespace {

// AddClick: a new event of `req` on item "a", label 1, no features yet.
v1::Event* AddClick(v1::ObserveRequest& req) {
  v1::Event* e = req.add_events();
  e->mutable_item()->set_id("a");
  e->set_label(1);
  return e;
}

TEST(RequestConverterTest, EachFeatureKindHashesAsDocumented) {
  VectorDims dims;
  RequestConverter conv(Limits{}, &dims);
  v1::ObserveRequest req;
  v1::Event* e = req.add_events();
  auto& ctx = *e->mutable_context()->mutable_values();
  ctx["user"].set_category("u1");
  ctx["age"].set_number(0.5);
  ctx["genres"].mutable_categories()->add_values("drama");
  ctx["genres"].mutable_categories()->add_values("war");
  ctx["emb"].mutable_vector()->add_values(0.25f);
  ctx["emb"].mutable_vector()->add_values(-1.0f);
  e->mutable_item()->set_id("m7");
  e->set_label(1);
  auto batch = conv.ConvertObserve(req);
  ASSERT_TRUE(batch.ok()) << batch.status();
  const model::Example& ex = (*batch)->examples[0];
  EXPECT_EQ(ex.weight, 1.0f);
  EXPECT_GT(ex.time_unix_ms, 1600000000000);  // stamped by the server
  std::map<uint64_t, float> got;
  for (const auto& f : ex.features) got[f.hash] += f.value;
  using namespace model;
  std::map<uint64_t, float> want = {
      {HashCategory(HashName("user"), "u1"), 1.0f},
      {HashName("age"), 0.5f},
      {HashCategory(HashName("genres"), "drama"), 1.0f},
      {HashCategory(HashName("genres"), "war"), 1.0f},
      {HashVectorDim(HashName("emb"), 0), 0.25f},
      {HashVectorDim(HashName("emb"), 1), -1.0f},
      {HashCategory(HashName("item_id"), "m7"), 1.0f},
  };
  EXPECT_EQ(got, want);
  // Each feature carries the id of its field (issue 9: field identity).
  std::map<uint64_t, uint32_t> field_of = {
      {HashCategory(HashName("user"), "u1"), FieldId(HashName("user"))},
      {HashName("age"), FieldId(HashName("age"))},
      {HashCategory(HashName("genres"), "drama"), FieldId(HashName("genres"))},
      {HashCategory(HashName("genres"), "war"), FieldId(HashName("genres"))},
      {HashVectorDim(HashName("emb"), 0), FieldId(HashName("emb"))},
      {HashVectorDim(HashName("emb"), 1), FieldId(HashName("emb"))},
      {HashCategory(HashName("item_id"), "m7"), FieldId(HashName("item_id"))},
  };
  for (const auto& f : ex.features) {
    EXPECT_EQ(f.field, field_of[f.hash]) << f.hash;
    EXPECT_NE(f.field, 0u);
  }
  // Registered only once logged: the batch carries the new field.
  EXPECT_FALSE(dims.Find("emb").has_value());
  ASSERT_EQ((*batch)->new_dims.size(), 1u);
  EXPECT_EQ((*batch)->new_dims[0].field, "emb");
  EXPECT_EQ((*batch)->new_dims[0].dim, 2u);
}

// A protobuf map's iteration order differs between processes; features come out in
// field-name order so the same request always scores bit for bit the same.
// A deep model's declared dense fields take exactly their declared shape, from the
// first request on: a number field a number, a vector field a vector of its dimension.
TEST(RequestConverterTest, DeclaredDenseFieldsTakeTheirDeclaredShape) {
  VectorDims dims;
  RequestConverter conv(Limits{}, &dims);
  conv.DeclareDenseFields({{"x", 3}, {"price", 1}});
  auto observe = [&](auto fill) {
    v1::ObserveRequest req;
    v1::Event* e = req.add_events();
    e->mutable_item()->set_id("a");
    e->set_label(1);
    fill(*e->mutable_context()->mutable_values());
    return conv.ConvertObserve(req).status();
  };
  auto vec = [](int n) {
    v1::Vector v;
    for (int i = 0; i < n; ++i) v.add_values(0.5f);
    return v;
  };
  EXPECT_TRUE(observe([&](auto& c) { *c["x"].mutable_vector() = vec(3); c["price"].set_number(2); }).ok());
  absl::Status s = observe([&](auto& c) { *c["x"].mutable_vector() = vec(2); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("events[0].context.values[\"x\"].vector: dimension 2; the "
                             "model's dnn.dense_fields says a vector of 3"),
            std::string::npos) << s;
  s = observe([&](auto& c) { c["x"].set_category("foo"); });
  EXPECT_NE(s.message().find("not a vector; the model's dnn.dense_fields says a vector of 3"),
            std::string::npos) << s;
  s = observe([&](auto& c) { *c["price"].mutable_vector() = vec(3); });
  EXPECT_NE(s.message().find("dnn.dense_fields takes this field as a number"),
            std::string::npos) << s;
  EXPECT_FALSE(dims.Find("x"));  // nothing registered by refused requests
}

// A weight so large that its update would overflow is refused at the door (it used to be
// acknowledged, then skipped by the model as non-finite).
TEST(RequestConverterTest, HugeWeightIsRefusedNamingTheField) {
  VectorDims dims;
  RequestConverter conv(Limits{}, &dims);
  v1::ObserveRequest req;
  v1::Event* e = AddClick(req);
  e->set_weight(1e6);
  EXPECT_TRUE(conv.ConvertObserve(req).ok());
  e->set_weight(1e30);
  const absl::Status s = conv.ConvertObserve(req).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("events[0].weight: 1e+30 is above the largest importance weight"),
            std::string::npos) << s;
  e->set_weight(1e300);  // finite, beyond float: the same limit, not "not finite"
  EXPECT_NE(conv.ConvertObserve(req).status().message().find(
                "events[0].weight: 1e+300 is above the largest importance weight"),
            std::string::npos);
}

// Every finite float is a number; beyond the float range it is refused.
TEST(RequestConverterTest, NumbersUpToTheLargestFloatAreAccepted) {
  VectorDims dims;
  RequestConverter conv(Limits{}, &dims);
  v1::ObserveRequest req;
  v1::Event* e = AddClick(req);
  auto& ctx = *e->mutable_context()->mutable_values();
  ctx["x"].set_number(3.4028234e38);  // just below FLT_MAX
  ctx["y"].set_number(-3.4028234e38);
  EXPECT_TRUE(conv.ConvertObserve(req).ok());
  ctx["x"].set_number(3.5e38);
  const absl::Status s = conv.ConvertObserve(req).status();
  EXPECT_NE(s.message().find("events[0].context.values[\"x\"].number: not a finite float"),
            std::string::npos) << s;
}

// A request with more new vector fields than --max_vector_fields stops converting at the
// first one over it (it used to convert everything, comparing each vector field with
// every new one before it: a 4 MiB request took 50 s of CPU).
TEST(RequestConverterTest, TooManyNewVectorFieldsStopAtTheLimit) {
  VectorDims dims;
  RequestConverter conv(Limits{}, &dims);
  conv.SetMaxVectorFields(100);
  v1::ObserveRequest req;
  for (int i = 0; i < 3; ++i) {
    v1::Event* e = AddClick(req);
    auto& ctx = *e->mutable_context()->mutable_values();
    for (int f = 0; f < 60; ++f) {
      // Events 0 and 1 share names (60 new fields); event 2 adds 60 more.
      const int id = i < 2 ? f : 60 + f;
      ctx["v" + std::to_string(id)].mutable_vector()->add_values(0.5f);
    }
  }
  const absl::Status s = conv.ConvertObserve(req).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("events[2].context.values[\"v"), std::string::npos) << s;
  EXPECT_NE(s.message().find("a new vector field would exceed the limit of 100 distinct "
                             "vector fields (--max_vector_fields)"),
            std::string::npos) << s;
  req.mutable_events()->RemoveLast();  // 60 new fields: within the limit
  auto batch = conv.ConvertObserve(req);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ((*batch)->new_dims.size(), 60u);
  // A repeated name with another dimension is still found, by name.
  (*req.mutable_events(1)->mutable_context()->mutable_values())["v7"]
      .mutable_vector()->add_values(1.0f);
  EXPECT_NE(conv.ConvertObserve(req).status().message().find(
                "dimension 2 differs from 1 earlier in this request"),
            std::string::npos);
}

TEST(RequestConverterTest, FeaturesComeOutInFieldNameOrder) {
  VectorDims dims;
  RequestConverter conv(Limits{}, &dims);
  v1::PredictRequest req;
  auto& ctx = *req.mutable_context()->mutable_values();
  for (const char* name : {"zeta", "alpha", "mid", "beta", "omega", "kappa"}) {
    ctx[name].set_category("x");
  }
  req.add_candidates()->set_id("a");
  PredictInput in;
  ASSERT_TRUE(conv.ConvertPredict(req, in).ok());
  std::vector<uint32_t> got;
  for (const auto& f : in.context) got.push_back(f.field);
  std::vector<uint32_t> want;
  for (const char* name : {"alpha", "beta", "kappa", "mid", "omega", "zeta"}) {
    want.push_back(model::FieldId(model::HashName(name)));
  }
  EXPECT_EQ(got, want);
}

TEST(RequestConverterTest, RejectedRequestRegistersNoVectorDimension) {
  VectorDims dims;
  RequestConverter conv(Limits{}, &dims);
  v1::ObserveRequest req;
  v1::Event* e = req.add_events();
  (*e->mutable_context()->mutable_values())["emb"].mutable_vector()->add_values(1);
  e->mutable_item()->set_id("a");
  e->set_label(1);
  v1::Event* bad = req.add_events();
  bad->mutable_item()->set_id("b");  // no label
  EXPECT_FALSE(conv.ConvertObserve(req).ok());
  EXPECT_FALSE(dims.Find("emb").has_value());
}

TEST(RequestConverterTest, PredictHashesContextOnceAndEachItemWithItsId) {
  VectorDims dims;
  RequestConverter conv(Limits{}, &dims);
  v1::PredictRequest req;
  (*req.mutable_context()->mutable_values())["user"].set_category("u1");
  req.add_candidates()->set_id("a");
  v1::Item* b = req.add_candidates();
  b->set_id("b");
  (*b->mutable_features()->mutable_values())["price"].set_number(2);
  PredictInput in;
  ASSERT_TRUE(conv.ConvertPredict(req, in).ok());
  ASSERT_EQ(in.context.size(), 1u);
  ASSERT_EQ(in.items.size(), 2u);
  EXPECT_EQ(in.items[0].size(), 1u);
  EXPECT_EQ(in.items[1].size(), 2u);
  EXPECT_EQ(in.items[1][0].hash, model::HashCategory(model::HashName("item_id"), "b"));
}

}  // namespace
}  // namespace streamrec::server

namespace streamrec::server {
namespace {

// Wire-level building blocks for requests protobuf's own serializer never writes.
void Tag(std::string& out, int field, int wire_type) { out.push_back(char(field << 3 | wire_type)); }
void Varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char(v | 0x80));
    v >>= 7;
  }
  out.push_back(char(v));
}
void Bytes(std::string& out, int field, const std::string& bytes) {
  Tag(out, field, 2);
  Varint(out, bytes.size());
  out += bytes;
}
std::string Category(const std::string& c) {
  std::string v;
  Bytes(v, 1, c);
  return v;
}
std::string Number(double x) {
  std::string v;
  Tag(v, 2, 1);
  v.append(reinterpret_cast<const char*>(&x), 8);
  return v;
}
// A map entry: key (optional), value (optional), and any extra bytes (unknown fields).
std::string MapEntry(const std::string* key, const std::string* value,
                     const std::string& extra = "") {
  std::string e;
  if (key) Bytes(e, 1, *key);
  if (value) Bytes(e, 2, *value);
  return e + extra;
}

// The converter sees what parsing into the v1 maps would have kept: the same events
// through the gRPC path (bytes parsed as views) and the in-process path (bytes parsed as
// v1::ObserveRequest) convert to identical examples, for repeated names (the last entry
// wins), entries without a key or value, unknown fields, and value merges.
TEST(RequestConverterTest, ViewsConvertExactlyAsTheV1MapsWould) {
  const std::string user = "user", age = "age", item = "item_id2", empty;
  const std::string u1 = Category("u1"), u2 = Category("u2"), a1 = Number(0.5), a2 = Number(2);
  std::string unknown;
  Tag(unknown, 9, 0);
  Varint(unknown, 7);
  struct Case {
    const char* name;
    std::vector<std::string> context_entries;
    bool valid;
  } cases[] = {
      {"plain", {MapEntry(&user, &u1), MapEntry(&age, &a1)}, true},
      {"repeated name: last wins", {MapEntry(&user, &u1), MapEntry(&age, &a1), MapEntry(&user, &u2)}, true},
      {"repeated thrice", {MapEntry(&age, &a1), MapEntry(&age, &a2), MapEntry(&age, &a1)}, true},
      {"unknown field in an entry", {MapEntry(&user, &u1, unknown)}, true},
      {"value given twice in one entry", {MapEntry(&user, &u1) + MapEntry(nullptr, &u2)}, true},
      {"names out of order", {MapEntry(&item, &u1), MapEntry(&age, &a2), MapEntry(&user, &u2)}, true},
      {"entry without a key", {MapEntry(nullptr, &u1)}, false},
      {"entry without a value", {MapEntry(&user, nullptr)}, false},
      {"empty name replaced by a later entry", {MapEntry(&empty, &u1), MapEntry(&user, &u1)}, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string context;
    for (const std::string& e : c.context_entries) Bytes(context, 1, e);
    std::string item_msg;
    Bytes(item_msg, 1, "m1");
    std::string event;
    Bytes(event, 1, context);
    Bytes(event, 2, item_msg);
    Tag(event, 3, 1);
    const double label = 1;
    event.append(reinterpret_cast<const char*>(&label), 8);
    std::string request;
    Bytes(request, 1, event);
    Bytes(request, 1, event);  // two events: the same bytes twice

    v1::ObserveRequest as_v1;
    ASSERT_TRUE(as_v1.ParseFromString(request));
    ParsedObserve as_view;  // what the gRPC handler reads
    ASSERT_TRUE(as_view.Parse(request));
    VectorDims dims;
    RequestConverter conv(Limits{}, &dims);
    auto from_v1 = conv.ConvertObserve(as_v1);
    auto from_view = conv.ConvertObserve(as_view);
    ASSERT_EQ(from_v1.ok(), c.valid) << from_v1.status();
    ASSERT_EQ(from_view.ok(), c.valid) << from_view.status();
    if (!c.valid) {
      EXPECT_EQ(from_v1.status().message(), from_view.status().message());
      continue;
    }
    ASSERT_EQ((*from_v1)->examples.size(), 2u);
    for (int i = 0; i < 2; ++i) {
      const auto& a = (*from_v1)->examples[i].features;
      const auto& b = (*from_view)->examples[i].features;
      ASSERT_EQ(a.size(), b.size());
      for (size_t f = 0; f < a.size(); ++f) {
        EXPECT_EQ(a[f].hash, b[f].hash);
        EXPECT_EQ(a[f].value, b[f].value);
        EXPECT_EQ(a[f].field, b[f].field);
      }
    }
    // What the last entry wins means, spelled out for the repeated names.
    if (std::string(c.name) == "repeated name: last wins") {
      const uint64_t want = model::HashCategory(model::HashName("user"), "u2");
      bool found = false;
      for (const auto& f : (*from_view)->examples[0].features) found |= f.hash == want;
      EXPECT_TRUE(found);
    }
  }
}

// Predict takes the same views: a repeated context name keeps the last value.
TEST(RequestConverterTest, PredictViewsKeepTheLastOfARepeatedName) {
  const std::string age = "age", a1 = Number(0.5), a2 = Number(2);
  std::string context;
  Bytes(context, 1, MapEntry(&age, &a1));
  Bytes(context, 1, MapEntry(&age, &a2));
  std::string item;
  Bytes(item, 1, "m1");
  std::string request;
  Bytes(request, 1, context);
  Bytes(request, 2, item);
  ParsedPredict view;
  ASSERT_TRUE(view.Parse(request));
  VectorDims dims;
  RequestConverter conv(Limits{}, &dims);
  PredictInput input;
  ASSERT_TRUE(conv.ConvertPredict(view, input).ok());
  ASSERT_EQ(input.context.size(), 1u);
  EXPECT_EQ(input.context[0].value, 2.0f);
}

}  // namespace
}  // namespace streamrec::server
