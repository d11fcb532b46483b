// MetricsText: the one readable line of progressive metrics the CLI prints (`stats`,
// `replay`). A metric that is undefined for the events seen so far reads "n/a" with the
// reason, not the 0 the API carries for it: NE and calibration need both a click and a
// non-click (NE divides by the entropy of the click rate), AUC needs both classes too.
// Pure function; any thread.
#ifndef STREAMREC_CLIENT_METRICS_TEXT_H_
#define STREAMREC_CLIENT_METRICS_TEXT_H_

#include <string>

#include "streamrec/v1/admin.pb.h"

namespace streamrec::client {

// "logloss 0.51234  AUC 0.7012  NE 0.8810  calibration 1.0123  accuracy 0.7712", or with
// "AUC n/a  NE n/a  calibration n/a (one class so far)" while every label was the same.
std::string MetricsText(const v1::ProgressiveMetrics& m);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_METRICS_TEXT_H_
