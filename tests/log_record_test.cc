// The event-log record codec on its own (storage/log_record.h): round trips of format 3
// (events) and 4 (events and flush markers), formats 2 and 3 still read, every truncation
// and every flipped byte refused as DataLoss naming the record, a count claiming more
// events than the bytes hold refused before allocating, and unknown formats and entry
// kinds named. RocksEventLog's tests cover the records in a database.
#include "storage/log_record.h"

#include <gtest/gtest.h>

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
  const std::string sealed = EncodeRecord(in.Entries());
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
  const std::string sealed = EncodeRecord(entries);
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
  const std::string alone = EncodeRecord({LogEntry::FlushMarker()});
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
  EXPECT_EQ(EncodeRecord({{&ex, &id}}), v3);  // and is what this build writes for events
}

TEST(LogRecordTest, EveryTruncationAndFlippedByteIsDataLoss) {
  Events in = Three();
  std::vector<LogEntry> with_marker = in.Entries();
  with_marker.insert(with_marker.begin() + 1, LogEntry::FlushMarker());
  for (const std::string& sealed : {EncodeRecord(in.Entries()), EncodeRecord(with_marker)}) {
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
      {{0, 5, 1}, "event log record at seq 9 has format 5; this build reads formats 1 to 4"},
      {{0, 0xffffffffu, 1},
       "event log record at seq 9 has format 4294967295; this build reads formats 1 to 4"},
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

}  // namespace
}  // namespace streamrec::storage
