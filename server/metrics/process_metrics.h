// ProcessFigures: this process's resource use as Prometheus' standard process_* metrics
// report it, read from Linux's /proc/self (stat for CPU time, memory and start time,
// fd/ for open descriptors), /proc/stat (boot time) and getrlimit. Each call reads the
// files afresh (a few microseconds); a file that cannot be read leaves its figures 0 and
// `ok` false. Thread-safe (no state).
#ifndef STREAMREC_SERVER_METRICS_PROCESS_METRICS_H_
#define STREAMREC_SERVER_METRICS_PROCESS_METRICS_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace streamrec::server::metrics {

struct ProcessFigures {
  bool ok = false;
  double cpu_seconds = 0;          // user + system
  uint64_t resident_bytes = 0;
  uint64_t virtual_bytes = 0;
  double start_time_seconds = 0;   // since the Unix epoch
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;            // the soft RLIMIT_NOFILE
  uint64_t threads = 0;
};

ProcessFigures ReadProcessFigures();

// ProcStat: the fields of a /proc/PID/stat line ProcessFigures uses, in the kernel's
// units (clock ticks, pages). nullopt for a line that does not parse. The command name
// (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
struct ProcStat {
  uint64_t utime_ticks = 0, stime_ticks = 0, start_ticks = 0;
  uint64_t threads = 0, vsize_bytes = 0, rss_pages = 0;
};
std::optional<ProcStat> ParseProcStat(std::string_view line);

// ParseBootTime: the `btime` line of /proc/stat (seconds since the epoch), or nullopt.
std::optional<uint64_t> ParseBootTime(std::string_view proc_stat);

}  // namespace streamrec::server::metrics

#endif  // STREAMREC_SERVER_METRICS_PROCESS_METRICS_H_
