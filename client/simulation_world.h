// SimulationWorld: the seeded world of `streamrec simulate` (client/cmd_simulate.cc), a
// closed loop against a running server. Users belong to one of `segments` segments; items
// have a category; every (segment, item) pair has a hidden click probability
//
//   p = sigmoid(base_logit + appeal(item) + affinity * <z(segment), z(item)>)
//
// with seeded latent vectors (an item's is its category's centroid plus its own noise, so
// the category says something about it, not everything). The catalog starts with
// `initial_items` items; every `new_item_every` rounds a new item arrives whose appeal is
// raised by `new_item_boost` (on the logit scale): new items are what a policy must find.
//
// Each round: a user (uniform segment) and `candidates` candidates: the `fresh_slots`
// newest items and the rest drawn without replacement from the older ones, in a shuffled
// order. The policy (the server) shows some of them; Click draws the user's clicks.
//
// Deterministic for a seed (its own splitmix64 generator and Box-Muller normals: the same
// world and rounds on every platform). Not thread-safe (Round and Click advance the
// generators); one per simulation.
//
//   SimulationWorld world(options);
//   SimulationWorld::Round r = world.NextRound();
//   ... Predict over r.candidates, show the top ones ...
//   bool clicked = world.Click(r.segment, item);
#ifndef STREAMREC_CLIENT_SIMULATION_WORLD_H_
#define STREAMREC_CLIENT_SIMULATION_WORLD_H_

#include <cstdint>
#include <string>
#include <vector>

namespace streamrec::client {

// SplitMix64: a small, fully specified generator (Steele et al. 2014).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform: in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Below: uniform in [0, n), n > 0.
  uint64_t Below(uint64_t n) { return Next() % n; }
  // Normal: standard normal (Box-Muller; both draws of a pair are used).
  double Normal();

 private:
  uint64_t state_;
  bool has_spare_ = false;
  double spare_ = 0;
};

class SimulationWorld {
 public:
  struct Options {
    int segments = 4;          // >= 1
    int categories = 4;        // >= 1
    int initial_items = 10;    // >= 1
    int dim = 4;               // latent dimension, >= 1
    int candidates = 10;       // per round, >= 1 (fewer while the catalog is smaller)
    int fresh_slots = 10;      // of them the newest items, 0..candidates (all: a sliding
                               // window over the catalog, like a news feed)
    int new_item_every = 100;  // rounds between arrivals; 0 = no new items
    double base_logit = -2.2;  // an average item for an average user: about 10%
    double appeal_sd = 0.8;    // items' own appeal, logit scale
    double affinity = 0.8;     // weight of the segment-item match
    double new_item_boost = 2;    // added to an arriving item's appeal...
    double boost_halflife = 500;  // ...halved every this many rounds (0: kept for good)
    uint64_t seed = 1;
  };

  // Item: an id ("i17"), its category ("c2") and the round it arrived (0 for the initial
  // catalog).
  struct Item {
    std::string id;
    std::string category;
    int64_t arrived = 0;
    bool is_new() const { return arrived > 0; }
  };

  // Round: the round's number (1, 2, ...), its user's segment id ("s3") and index, and
  // the candidates as indexes into items().
  struct Round {
    int64_t number = 0;
    int segment = 0;
    std::string segment_id;
    std::vector<int> candidates;
  };

  explicit SimulationWorld(const Options& options);

  // NextRound adds the item due this round (if any) and draws the round's user and
  // candidates.
  Round NextRound();
  // Click draws whether a user of `segment` clicks `item` when shown it.
  bool Click(int segment, int item) { return clicks_.Uniform() < Probability(segment, item); }
  // Probability: the hidden click probability of `item` for `segment` in the current
  // round (a new item's boost fades with boost_halflife).
  double Probability(int segment, int item) const;
  // OracleClicks: the sum of the `k` highest click probabilities among the round's
  // candidates (the clicks an oracle showing k items expects); MeanProbability: their
  // mean over all candidates (what a uniformly random ranking expects per shown item).
  double OracleClicks(const Round& round, int k) const;
  double MeanProbability(const Round& round) const;

  const std::vector<Item>& items() const { return items_; }
  const Options& options() const { return options_; }

 private:
  void AddItem(int64_t round);

  Options options_;
  SplitMix64 world_;    // latent vectors and appeal (the catalog)
  SplitMix64 rounds_;   // users and candidate sets
  SplitMix64 clicks_;   // clicks
  std::vector<std::vector<double>> segment_z_, category_z_;
  std::vector<Item> items_;
  std::vector<double> appeal_;
  std::vector<std::vector<double>> item_z_;
  int64_t round_ = 0;
};

// Sigmoid: 1 / (1 + e^-x).
double Sigmoid(double x);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_SIMULATION_WORLD_H_
