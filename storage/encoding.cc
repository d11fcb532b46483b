#include "storage/encoding.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace streamrec::storage {

// All supported targets are little-endian (checked at compile time).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host required");

void PutU32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void PutU64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }
void PutF32(std::string& out, float v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void PutF64(std::string& out, double v) { out.append(reinterpret_cast<const char*>(&v), 8); }
void PutString(std::string& out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out.append(s.data(), s.size());
}
void PutFloats(std::string& out, const float* data, size_t n) {
  out.append(reinterpret_cast<const char*>(data), n * sizeof(float));
}

std::string BigEndianKey(uint64_t v) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) key[i] = static_cast<char>(v & 0xff);
  return key;
}

uint64_t DecodeBigEndianKey(std::string_view key) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < key.size(); ++i) {
    v = (v << 8) | static_cast<unsigned char>(key[i]);
  }
  return v;
}

uint64_t Checksum(std::string_view data) { return XXH3_64bits(data.data(), data.size()); }

void Seal(std::string& payload) { PutU64(payload, Checksum(payload)); }

bool Unseal(std::string_view sealed, std::string_view& payload) {
  if (sealed.size() < 8) return false;
  payload = sealed.substr(0, sealed.size() - 8);
  uint64_t stored;
  std::memcpy(&stored, sealed.data() + payload.size(), 8);
  return stored == Checksum(payload);
}

StreamingChecksum::StreamingChecksum() : state_(XXH3_createState()) {
  XXH3_64bits_reset(static_cast<XXH3_state_t*>(state_));
}
StreamingChecksum::~StreamingChecksum() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }
void StreamingChecksum::Update(std::string_view data) {
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), data.data(), data.size());
}
uint64_t StreamingChecksum::Digest() const {
  return XXH3_64bits_digest(static_cast<const XXH3_state_t*>(state_));
}

bool Reader::Take(void* out, size_t n) {
  if (!ok_ || data_.size() - pos_ < n) return ok_ = false;
  std::memcpy(out, data_.data() + pos_, n);
  pos_ += n;
  return true;
}
bool Reader::GetU32(uint32_t& v) { return Take(&v, 4); }
bool Reader::GetU64(uint64_t& v) { return Take(&v, 8); }
bool Reader::GetF32(float& v) { return Take(&v, 4); }
bool Reader::GetF64(double& v) { return Take(&v, 8); }
bool Reader::GetString(std::string& s) {
  uint32_t n;
  if (!GetU32(n) || data_.size() - pos_ < n) return ok_ = false;
  s.assign(data_.data() + pos_, n);
  pos_ += n;
  return true;
}
bool Reader::GetFloats(float* data, size_t n) { return Take(data, n * sizeof(float)); }

void PutVarint(std::string& out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

bool Reader::GetVarint(uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (!ok_ || pos_ == data_.size()) return ok_ = false;
    const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
    if (shift == 63 && b > 1) return ok_ = false;  // beyond 64 bits
    v |= uint64_t{b & 0x7fu} << shift;
    if (b < 0x80) return true;
  }
  return ok_ = false;
}

}  // namespace streamrec::storage
