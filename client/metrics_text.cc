#include "client/metrics_text.h"

#include <cstdio>

namespace streamrec::client {

std::string MetricsText(const v1::ProgressiveMetrics& m) {
  char line[256];
  if (m.events() == 0) return "no events scored yet";
  // Every label the same (the mean label 0 or 1): the click rate's entropy is 0, so NE and
  // AUC are undefined, and so is calibration without a click.
  const bool one_class = m.mean_label() <= 0 || m.mean_label() >= 1;
  if (one_class) {
    std::snprintf(line, sizeof line,
                  "logloss %.5f  AUC n/a  NE n/a  calibration n/a  accuracy %.4f (every label "
                  "so far is %s)",
                  m.logloss(), m.accuracy(), m.mean_label() <= 0 ? "0" : "1");
  } else {
    std::snprintf(line, sizeof line,
                  "logloss %.5f  AUC %.4f  NE %.4f  calibration %.4f  accuracy %.4f", m.logloss(),
                  m.auc(), m.normalized_entropy(), m.calibration(), m.accuracy());
  }
  return line;
}

}  // namespace streamrec::client
