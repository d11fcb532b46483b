#include "client/criteo_events.h"

#include <cmath>
#include <string>

namespace streamrec::client {

void ToApiEvent(const CriteoEvent& e, bool unscaled, bool criteo_layout, v1::Event& event) {
  event.Clear();
  event.set_label(e.label);
  auto& ctx = *event.mutable_context()->mutable_values();
  for (size_t k = 0; k < e.numbers.size(); ++k) {
    if (std::isnan(e.numbers[k])) continue;
    const double x = e.numbers[k];
    ctx["I" + std::to_string(k + 1)].set_number(unscaled || criteo_layout ? x : std::log1p(x));
  }
  const std::string item = "i" + std::to_string(e.item);
  for (size_t j = 0; j < e.cats.size(); ++j) {
    if (e.cats[j] < 0) continue;
    if (criteo_layout && j + 1 == CriteoStream::kCategorical) continue;  // the item's column
    ctx["C" + std::to_string(j + 1)].set_category(std::to_string(j + 1) + ":" +
                                                  std::to_string(e.cats[j]));
  }
  if (criteo_layout) {
    ctx["C" + std::to_string(CriteoStream::kCategorical)].set_category(item);
  } else {
    event.mutable_item()->set_id(item);
  }
}

}  // namespace streamrec::client
