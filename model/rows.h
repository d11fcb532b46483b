// GatherRows: an event's features and their crosses as the rows of a 2^bits table that
// a model scores and trains: sorted by row, the values of one row summed (hash
// collisions merge), zero values left out. Shared by the models so that they read an
// event the same way. Pure; the caller owns the scratch buffers (thread-compatible).
#ifndef STREAMREC_MODEL_ROWS_H_
#define STREAMREC_MODEL_ROWS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/cross.h"
#include "model/example.h"
#include "model/hash.h"

namespace streamrec::model {

struct RowValue {
  size_t row;
  float value;
};

// GatherRows fills `out` (cleared first); `crossed` is scratch space for the crosses.
inline void GatherRows(const FeatureVector& features, const Crosser& crosser, uint32_t bits,
                       FeatureVector& crossed, std::vector<RowValue>& out) {
  out.clear();
  crossed.clear();
  crosser.Append(features, crossed);
  for (const FeatureVector* fs : {&features, static_cast<const FeatureVector*>(&crossed)}) {
    for (const HashedFeature& f : *fs) {
      if (f.value != 0.0f) out.push_back({RowOf(f.hash, bits), f.value});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const RowValue& a, const RowValue& b) { return a.row < b.row; });
  size_t w = 0;
  for (size_t r = 0; r < out.size(); ++r) {
    if (w > 0 && out[w - 1].row == out[r].row) {
      out[w - 1].value += out[r].value;
    } else {
      out[w++] = out[r];
    }
  }
  out.resize(w);
}

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_ROWS_H_
