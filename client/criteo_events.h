// Turns CriteoStream events (client/criteo_generator.h) into API events, for `streamrec
// generate --layout criteo` and the quality benchmarks. Pure functions.
//   jsonl layout: context numbers I1..I13 (ln(1 + count), or the raw count with
//                 `unscaled`), context categories C1..C26 ("<j>:<value>"), item id
//                 "i<value>".
//   criteo layout: the raw counts (the criteo reader takes ln(1 + x) itself) and the
//                 categories as in jsonl; the layout has no item column, so the item id
//                 takes C26's place (the generated C26 is left out).
#ifndef STREAMREC_CLIENT_CRITEO_EVENTS_H_
#define STREAMREC_CLIENT_CRITEO_EVENTS_H_

#include "client/criteo_generator.h"
#include "streamrec/v1/streamrec.pb.h"

namespace streamrec::client {

// ToApiEvent fills `event` (cleared first).
void ToApiEvent(const CriteoEvent& e, bool unscaled, bool criteo_layout, v1::Event& event);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_CRITEO_EVENTS_H_
