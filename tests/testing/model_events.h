// Building model inputs in tests: hashed features the way the server's RequestConverter
// builds them (a category, a number, a vector's dimensions, each with its field id), and
// a seeded random source that gives the same draws with every standard library.
// Header-only; for tests of model/.
#ifndef STREAMREC_TESTS_TESTING_MODEL_EVENTS_H_
#define STREAMREC_TESTS_TESTING_MODEL_EVENTS_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "model/example.h"
#include "model/hash.h"

namespace streamrec::model_testing {

using model::FeatureVector;
using model::FieldId;
using model::HashCategory;
using model::HashedFeature;
using model::HashName;
using model::HashVectorDim;

// Cat: field=value as a category, with value v (1 for a plain category).
inline HashedFeature Cat(const char* field, const std::string& value, float v = 1.0f) {
  const uint64_t name = HashName(field);
  return {HashCategory(name, value), v, FieldId(name)};
}

// Num: a number field.
inline HashedFeature Num(const char* field, float v) {
  const uint64_t name = HashName(field);
  return {name, v, FieldId(name)};
}

// AddVector appends a vector field's dimensions.
inline void AddVector(FeatureVector& out, const char* field, const std::vector<float>& v) {
  const uint64_t name = HashName(field);
  for (size_t i = 0; i < v.size(); ++i) {
    out.push_back({HashVectorDim(name, static_cast<uint32_t>(i)), v[i], FieldId(name)});
  }
}

// Rng: uniform and Gaussian (Box-Muller) draws over mt19937_64, whose sequence the
// standard fixes (std::uniform_real_distribution and std::normal_distribution do not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  double Uniform() { return (gen_() >> 11) * 0x1.0p-53; }
  double Gauss() {
    const double u = Uniform() + 0x1.0p-54, v = Uniform();
    return std::sqrt(-2 * std::log(u)) * std::cos(6.283185307179586 * v);
  }
  uint64_t Next() { return gen_(); }
  // Pick: prefix + a number in [0, n).
  std::string Pick(const char* prefix, int n) { return prefix + std::to_string(gen_() % n); }

 private:
  std::mt19937_64 gen_;
};

}  // namespace streamrec::model_testing

#endif  // STREAMREC_TESTS_TESTING_MODEL_EVENTS_H_
