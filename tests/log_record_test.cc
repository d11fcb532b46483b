// The event-log record codec on its own (storage/log_record.h): round trips of format 5
// (the default), of format 3 (events) and 4 (events and flush markers) as the legacy
// encoding writes them, formats 2 and 3 still read, every truncation
// and every flipped byte refused as DataLoss naming the record, a count claiming more
// events than the bytes hold refused before allocating, and unknown formats and entry
// kinds named. RocksEventLog's tests cover the records in a database.
#include "storage/log_record.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "storage/encoding.h"

namespace streamrec::storage {
namespace {

struct Events {
  std::vector<model::Example> examples;
  std::vector<std::string> ids;
  std::vector<LogEntry> Entries() {
    std::vector<LogEntry> out;
    for (size_t i = 0; i < examples.size(); ++i) out.push_back({&examples[i], &ids[i]});
    return out;
  }
};

Events Three() {
  Events e;
  for (int i = 0; i < 3; ++i) {
    model::Example ex;
    ex.label = i == 1 ? 1.0f : 0.0f;
    ex.weight = 0.25f * (i + 1);
    ex.time_unix_ms = 1700000000000 + i;
    for (int f = 0; f <= i; ++f) {
      ex.features.push_back({uint64_t{0xabcdef} * (f + 1), 0.5f * f, 0x1000u + f});
    }
    e.examples.push_back(ex);
    e.ids.push_back(i == 2 ? "" : "id" + std::to_string(i));
  }
  return e;
}

TEST(LogRecordTest, RoundTripsFormatThreeExactlyWithFields) {
  Events in = Three();
  const std::string sealed = EncodeRecord(in.Entries(), RecordEncoding::kLegacy);
  RecordReader reader(sealed, 41);
  EXPECT_EQ(reader.format(), 3u);  // no marker: written as an earlier build reads it
  EXPECT_EQ(reader.count(), 3u);
  model::Example ex;
  std::string id;
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(reader.Next(ex, id)) << reader.status();
    EXPECT_EQ(ex.label, in.examples[i].label);
    EXPECT_EQ(ex.weight, in.examples[i].weight);
    EXPECT_EQ(ex.time_unix_ms, in.examples[i].time_unix_ms);
    EXPECT_EQ(id, in.ids[i]);
    ASSERT_EQ(ex.features.size(), in.examples[i].features.size());
    for (size_t f = 0; f < ex.features.size(); ++f) {
      EXPECT_EQ(ex.features[f].hash, in.examples[i].features[f].hash);
      EXPECT_EQ(ex.features[f].value, in.examples[i].features[f].value);
      EXPECT_EQ(ex.features[f].field, in.examples[i].features[f].field);
    }
  }
  EXPECT_FALSE(reader.Next(ex, id));
  EXPECT_TRUE(reader.status().ok()) << reader.status();
}

// Format 2 (written by the previous build): no field ids; read with field 0 (unknown).
TEST(LogRecordTest, ReadsFormatTwoWithUnknownFields) {
  std::string v2;
  PutU32(v2, 0);
  PutU32(v2, 2);
  PutU32(v2, 1);
  PutF32(v2, 1.0f);
  PutF32(v2, 0.5f);
  PutU64(v2, 1700000000000);
  PutString(v2, "old");
  PutU32(v2, 2);
  for (uint64_t h : {11u, 22u}) {
    PutU64(v2, h);
    PutF32(v2, 2.0f);
  }
  Seal(v2);
  RecordReader reader(v2, 5);
  EXPECT_EQ(reader.format(), 2u);
  model::Example ex;
  ex.features = {{1, 1, 99}};  // stale content of a reused example must not leak
  std::string id;
  ASSERT_TRUE(reader.Next(ex, id)) << reader.status();
  EXPECT_EQ(id, "old");
  ASSERT_EQ(ex.features.size(), 2u);
  EXPECT_EQ(ex.features[1].hash, 22u);
  EXPECT_EQ(ex.features[1].value, 2.0f);
  EXPECT_EQ(ex.features[0].field, 0u);
  EXPECT_EQ(ex.features[1].field, 0u);
  EXPECT_FALSE(reader.Next(ex, id));
  EXPECT_TRUE(reader.status().ok()) << reader.status();
}

// A flush marker is an entry of its own, with its own sequence number, at its place
// among the events: format 4, events read back exactly as in format 3.
TEST(LogRecordTest, RoundTripsFlushMarkersInFormatFour) {
  Events in = Three();
  std::vector<LogEntry> entries = in.Entries();
  entries.insert(entries.begin() + 2, LogEntry::FlushMarker());  // events 41, 42, marker 43, 44
  entries.push_back(LogEntry::FlushMarker());                    // marker 45
  const std::string sealed = EncodeRecord(entries, RecordEncoding::kLegacy);
  RecordReader reader(sealed, 41);
  EXPECT_EQ(reader.format(), 4u);
  EXPECT_EQ(reader.count(), 5u);  // the sequence numbers it takes
  model::Example ex;
  std::string id;
  std::vector<bool> flushes;
  size_t event = 0;
  while (reader.Next(ex, id)) {
    flushes.push_back(reader.flush());
    if (reader.flush()) continue;
    const model::Example& want = in.examples[event];
    EXPECT_EQ(ex.label, want.label);
    EXPECT_EQ(ex.weight, want.weight);
    EXPECT_EQ(ex.time_unix_ms, want.time_unix_ms);
    EXPECT_EQ(id, in.ids[event]);
    ASSERT_EQ(ex.features.size(), want.features.size());
    for (size_t f = 0; f < ex.features.size(); ++f) {
      EXPECT_EQ(ex.features[f].hash, want.features[f].hash);
      EXPECT_EQ(ex.features[f].value, want.features[f].value);
      EXPECT_EQ(ex.features[f].field, want.features[f].field);
    }
    ++event;
  }
  EXPECT_TRUE(reader.status().ok()) << reader.status();
  EXPECT_EQ(flushes, (std::vector<bool>{false, false, true, false, true}));
  EXPECT_EQ(event, 3u);

  // A record of one marker alone (a quiet stream's flush).
  const std::string alone = EncodeRecord({LogEntry::FlushMarker()}, RecordEncoding::kLegacy);
  RecordReader one(alone, 7);
  EXPECT_EQ(one.format(), 4u);
  EXPECT_EQ(one.count(), 1u);
  ASSERT_TRUE(one.Next(ex, id)) << one.status();
  EXPECT_TRUE(one.flush());
  EXPECT_FALSE(one.Next(ex, id));
  EXPECT_TRUE(one.status().ok()) << one.status();
}

// Format 3 as the previous build wrote it, byte for byte, still reads.
TEST(LogRecordTest, ReadsFormatThreeWrittenByHand) {
  std::string v3;
  PutU32(v3, 0);
  PutU32(v3, 3);
  PutU32(v3, 1);
  PutF32(v3, 0.0f);
  PutF32(v3, 1.0f);
  PutU64(v3, 1700000000001);
  PutString(v3, "e3");
  PutU32(v3, 1);
  PutU64(v3, 99);
  PutF32(v3, 1.5f);
  PutU32(v3, 7);
  Seal(v3);
  RecordReader reader(v3, 12);
  EXPECT_EQ(reader.format(), 3u);
  model::Example ex;
  std::string id;
  ASSERT_TRUE(reader.Next(ex, id)) << reader.status();
  EXPECT_FALSE(reader.flush());
  EXPECT_EQ(id, "e3");
  ASSERT_EQ(ex.features.size(), 1u);
  EXPECT_EQ(ex.features[0].hash, 99u);
  EXPECT_EQ(ex.features[0].field, 7u);
  EXPECT_FALSE(reader.Next(ex, id));
  EXPECT_TRUE(reader.status().ok()) << reader.status();
  // and is what the legacy encoding writes for events
  EXPECT_EQ(EncodeRecord({{&ex, &id}}, RecordEncoding::kLegacy), v3);
}

TEST(LogRecordTest, EveryTruncationAndFlippedByteIsDataLoss) {
  Events in = Three();
  std::vector<LogEntry> with_marker = in.Entries();
  with_marker.insert(with_marker.begin() + 1, LogEntry::FlushMarker());
  for (const std::string& sealed :
       {EncodeRecord(in.Entries(), RecordEncoding::kLegacy),
        EncodeRecord(with_marker, RecordEncoding::kLegacy), EncodeRecord(in.Entries()),
        EncodeRecord(with_marker)}) {
    auto read_all = [](std::string_view bytes) {
      RecordReader reader(bytes, 7);
      model::Example ex;
      std::string id;
      while (reader.Next(ex, id)) {
      }
      return reader.status();
    };
    for (size_t n = 0; n < sealed.size(); ++n) {
      const absl::Status s = read_all(std::string_view(sealed).substr(0, n));
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << n;
      EXPECT_EQ(s.message().rfind("event log record at seq 7 ", 0), 0u) << s;
    }
    for (size_t i = 0; i < sealed.size(); ++i) {
      std::string flipped = sealed;
      flipped[i] ^= 0x01;
      EXPECT_EQ(read_all(flipped).code(), absl::StatusCode::kDataLoss) << i;
    }
  }
}

TEST(LogRecordTest, ClaimsAndFormatsAreCheckedAgainstTheBytes) {
  struct Case {
    std::vector<uint32_t> header;  // the words before any event
    const char* message;
  };
  const Case cases[] = {
      {{0, 6, 1}, "event log record at seq 9 has format 6; this build reads formats 1 to 5"},
      {{0, 0xffffffffu, 1},
       "event log record at seq 9 has format 4294967295; this build reads formats 1 to 5"},
      // Format 5: a field table claiming more fields than the bytes hold.
      {{0, 5, 1, 0xffff}, "event log record at seq 9 is malformed (field table)"},
      {{0, 5, 0}, "event log record at seq 9 is empty"},
      // Format 4: an entry of an unknown kind, a claimed entry missing, a billion claimed.
      {{0, 4, 2, 1, 2}, "event log record at seq 9 is malformed (entry 10 has kind 2)"},
      {{0, 4, 2, 1}, "event log record at seq 9 is malformed"},
      {{0, 4, 1u << 30, 1}, "event log record at seq 9 is malformed"},
      {{0, 4, 0}, "event log record at seq 9 is empty"},
      {{0}, "event log record at seq 9 is truncated"},
      {{0, 1, 1}, "event log record at seq 9 is malformed (format word 1)"},
      {{0, 2, 0}, "event log record at seq 9 is empty"},
      // A billion events claimed by a record of a dozen bytes: malformed, not allocated.
      {{0, 2, 1u << 30}, "event log record at seq 9 is malformed"},
      {{0, 3, 1u << 30}, "event log record at seq 9 is malformed"},
      {{1u << 30}, "event log record at seq 9 is malformed"},  // format 1, same claim
  };
  for (const Case& c : cases) {
    std::string payload;
    for (uint32_t w : c.header) PutU32(payload, w);
    Seal(payload);
    RecordReader reader(payload, 9);
    model::Example ex;
    std::string id;
    while (reader.Next(ex, id)) {
    }
    EXPECT_EQ(reader.status().code(), absl::StatusCode::kDataLoss) << c.message;
    EXPECT_EQ(reader.status().message(), c.message);
  }
}

// Format 5 gives back exactly what it was given: hashes repeated within a field (written
// once), values of exactly 1.0f (not written) next to -0.0f, 1.0000001f and denormals,
// times going backwards and the int64 extremes, event ids of any bytes, flush markers.
TEST(LogRecordTest, RoundTripsFormatFiveExactly) {
  Events in;
  const int64_t times[] = {1700000000000, 1699999999999, INT64_MIN, INT64_MAX, 0, -5};
  const float values[] = {1.0f, -0.0f, 0.0f, 1.0000001f, 1e-45f, -1.0f, 3.5f};
  for (int i = 0; i < 6; ++i) {
    model::Example ex;
    ex.label = i % 2 ? 1.0f : 0.0f;
    ex.weight = i == 3 ? 0.0f : 0.5f * (i + 1);
    ex.time_unix_ms = times[i];
    for (int f = 0; f < 12; ++f) {
      // Fields 7 and 9 keep a hash (a number's); the rest vary; the same field twice in
      // one example (a multi-valued category).
      const uint32_t field = f < 4 ? 7 : f < 6 ? 9 : 100 + f % 3;
      const uint64_t hash = field == 7 ? 0x7777 : uint64_t(i * 131 + f) * 0x9E3779B97F4A7C15ull;
      ex.features.push_back({hash, values[(i + f) % 7], field});
    }
    in.examples.push_back(ex);
    in.ids.push_back(i == 4 ? std::string("\0\xff\n", 3) : "id" + std::to_string(i));
  }
  std::vector<LogEntry> entries = in.Entries();
  entries.insert(entries.begin() + 3, LogEntry::FlushMarker());
  const std::string sealed = EncodeRecord(entries);
  RecordReader reader(sealed, 100);
  EXPECT_EQ(reader.format(), 5u);
  EXPECT_EQ(reader.count(), 7u);
  model::Example ex;
  ex.features = {{1, 2, 3}};
  std::string id = "stale";
  size_t event = 0, markers = 0;
  while (reader.Next(ex, id)) {
    if (reader.flush()) {
      ++markers;
      continue;
    }
    const model::Example& want = in.examples[event];
    EXPECT_EQ(ex.label, want.label);
    EXPECT_EQ(ex.weight, want.weight);
    EXPECT_EQ(ex.time_unix_ms, want.time_unix_ms);
    EXPECT_EQ(id, in.ids[event]);
    ASSERT_EQ(ex.features.size(), want.features.size());
    for (size_t f = 0; f < ex.features.size(); ++f) {
      EXPECT_EQ(ex.features[f].hash, want.features[f].hash) << event << " " << f;
      EXPECT_EQ(std::memcmp(&ex.features[f].value, &want.features[f].value, 4), 0)
          << event << " " << f;  // bit for bit: -0.0f stays -0.0f
      EXPECT_EQ(ex.features[f].field, want.features[f].field);
    }
    ++event;
  }
  EXPECT_TRUE(reader.status().ok()) << reader.status();
  EXPECT_EQ(event, 6u);
  EXPECT_EQ(markers, 1u);
}

// Click-log events (40 features: 13 numbers, 26 categories and the item) take well under
// 60% of format 3's bytes.
TEST(LogRecordTest, FormatFiveHalvesClickLogRecords) {
  Events in;
  uint64_t h = 88172645463325252ull;
  for (int i = 0; i < 256; ++i) {
    model::Example ex;
    ex.label = i % 4 == 0;
    ex.time_unix_ms = 1700000000000 + i / 8;
    for (uint32_t f = 0; f < 40; ++f) {
      h ^= h << 13, h ^= h >> 7, h ^= h << 17;
      const bool number = f < 13;
      ex.features.push_back({number ? 0x1000 + f : h, number ? float(h % 1000) / 7 : 1.0f,
                             0x5000 + f});
    }
    in.examples.push_back(ex);
    in.ids.push_back("");
  }
  const size_t compact = EncodeRecord(in.Entries()).size();
  const size_t legacy = EncodeRecord(in.Entries(), RecordEncoding::kLegacy).size();
  EXPECT_LT(compact, legacy * 0.6) << compact << " vs " << legacy;
}

TEST(LogRecordTest, FormatFiveRefusesWhatItNeverWrites) {
  const auto record = [](const std::vector<std::string>& parts) {
    std::string p;
    PutU32(p, 0);
    PutU32(p, 5);
    PutU32(p, 1);
    PutVarint(p, 1);   // one field
    PutU32(p, 42);
    p += '\0';         // an event
    PutF32(p, 1.0f);
    PutF32(p, 1.0f);
    PutVarint(p, 0);   // time
    PutVarint(p, 0);   // no id
    for (const std::string& s : parts) p += s;
    Seal(p);
    return p;
  };
  const auto status = [](const std::string& sealed) {
    RecordReader reader(sealed, 3);
    model::Example ex;
    std::string id;
    while (reader.Next(ex, id)) {
    }
    return std::string(reader.status().message());
  };
  const auto varint = [](uint64_t x) {
    std::string s;
    PutVarint(s, x);
    return s;
  };
  // A field index beyond the table; a repeated hash with none before; a billion features.
  EXPECT_EQ(status(record({varint(1), varint(1 << 2 | 1), std::string(8, 'h')})),
            "event log record at seq 3 is malformed");
  EXPECT_EQ(status(record({varint(1), varint(0 << 2 | 2 | 1)})),
            "event log record at seq 3 is malformed (a repeated hash with none before)");
  EXPECT_EQ(status(record({varint(1u << 30)})), "event log record at seq 3 is malformed");
  // An entry kind other than event or marker.
  std::string bad_kind;
  PutU32(bad_kind, 0);
  PutU32(bad_kind, 5);
  PutU32(bad_kind, 1);
  PutVarint(bad_kind, 0);
  bad_kind += '\x02';
  Seal(bad_kind);
  EXPECT_EQ(status(bad_kind), "event log record at seq 3 is malformed (entry 3 has kind 2)");
  // And the well-formed one reads.
  EXPECT_EQ(status(record({varint(1), varint(0 << 2 | 1), std::string(8, 'h')})), "");
}

}  // namespace
}  // namespace streamrec::storage
