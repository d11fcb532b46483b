// MovieLens "latest-small" as a click stream for benchmarks and quality reports:
// ratings sorted by timestamp, rating >= 4 is a click. Reads ../shared/data (or a
// given directory); returns an empty stream when the files are absent.
#ifndef STREAMREC_BENCH_MOVIELENS_H_
#define STREAMREC_BENCH_MOVIELENS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace streamrec::bench {

struct Rating {
  std::string user;
  std::string movie;
  std::vector<std::string> genres;
  double label = 0;
  int64_t timestamp = 0;
};

// LoadMovieLens reads ratings.csv and movies.csv from dir, in timestamp order (ties in
// file order).
std::vector<Rating> LoadMovieLens(const std::string& dir);

}  // namespace streamrec::bench

#endif  // STREAMREC_BENCH_MOVIELENS_H_
