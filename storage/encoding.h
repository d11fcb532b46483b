// Encoding: the little-endian binary encoding of everything streamrec persists (event
// log records, snapshot chunks and manifests, export files), and its checksum. Keys are
// big-endian so RocksDB's byte order is numeric order. Pure functions and a cursor;
// thread-compatible.
//
// Checksum: XXH3-64 of the payload, stored after it (see Seal/Unseal).
#ifndef STREAMREC_STORAGE_ENCODING_H_
#define STREAMREC_STORAGE_ENCODING_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace streamrec::storage {

void PutU32(std::string& out, uint32_t v);
void PutU64(std::string& out, uint64_t v);
void PutF32(std::string& out, float v);
void PutF64(std::string& out, double v);
void PutString(std::string& out, std::string_view s);  // u32 length + bytes
void PutFloats(std::string& out, const float* data, size_t n);
// PutVarint: LEB128, 7 bits a byte, low bits first (1 byte below 128, at most 10).
void PutVarint(std::string& out, uint64_t v);

// BigEndianKey encodes v so that byte order equals numeric order.
std::string BigEndianKey(uint64_t v);
uint64_t DecodeBigEndianKey(std::string_view key);

uint64_t Checksum(std::string_view data);
// Seal appends the checksum of `payload`; Unseal verifies and strips it (false if the
// data is truncated or corrupt).
void Seal(std::string& payload);
bool Unseal(std::string_view sealed, std::string_view& payload);

// StreamingChecksum: the same XXH3-64 as Checksum, over data fed in pieces.
class StreamingChecksum {
 public:
  StreamingChecksum();
  ~StreamingChecksum();
  StreamingChecksum(const StreamingChecksum&) = delete;
  StreamingChecksum& operator=(const StreamingChecksum&) = delete;
  void Update(std::string_view data);
  uint64_t Digest() const;

 private:
  void* state_;  // XXH3_state_t
};

// Reader: a bounds-checked cursor. Every Get returns false (and stays failed) past the end.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool GetU32(uint32_t& v);
  bool GetU64(uint64_t& v);
  bool GetF32(float& v);
  bool GetF64(double& v);
  bool GetString(std::string& s);
  bool GetFloats(float* data, size_t n);
  // GetVarint reads a PutVarint (false past the end or beyond 10 bytes).
  bool GetVarint(uint64_t& v);
  bool GetU8(uint8_t& v) { return Take(&v, 1); }
  bool GetBytes(char* out, size_t n) { return Take(out, n); }
  bool ok() const { return ok_; }
  // remaining: bytes not yet read (0 once failed). Check claimed counts against it
  // before allocating.
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  // Skip moves past n bytes (false past the end).
  bool Skip(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) return ok_ = false;
    pos_ += n;
    return true;
  }
  bool done() const { return ok_ && pos_ == data_.size(); }

 private:
  bool Take(void* out, size_t n);
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_ENCODING_H_
