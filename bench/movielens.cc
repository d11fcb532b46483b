#include "bench/movielens.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace streamrec::bench {
namespace {

// SplitCsv splits one CSV line, honouring double-quoted fields.
std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

}  // namespace

std::vector<Rating> LoadMovieLens(const std::string& dir) {
  std::unordered_map<std::string, std::vector<std::string>> genres;
  std::ifstream movies(dir + "/movies.csv");
  std::string line;
  while (std::getline(movies, line)) {
    std::vector<std::string> f = SplitCsv(line);
    if (f.size() < 3 || f[0] == "movieId") continue;
    std::vector<std::string>& g = genres[f[0]];
    std::stringstream ss(f[2]);
    std::string one;
    while (std::getline(ss, one, '|')) g.push_back(one);
  }
  std::vector<Rating> ratings;
  std::ifstream in(dir + "/ratings.csv");
  while (std::getline(in, line)) {
    std::vector<std::string> f = SplitCsv(line);
    if (f.size() < 4 || f[0] == "userId") continue;
    Rating r;
    r.user = f[0];
    r.movie = f[1];
    r.label = std::stod(f[2]) >= 4.0 ? 1.0 : 0.0;
    r.timestamp = std::stoll(f[3]);
    r.genres = genres[f[1]];
    ratings.push_back(std::move(r));
  }
  std::stable_sort(ratings.begin(), ratings.end(),
                   [](const Rating& a, const Rating& b) { return a.timestamp < b.timestamp; });
  return ratings;
}

}  // namespace streamrec::bench
