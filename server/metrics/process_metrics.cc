#include "server/metrics/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace streamrec::server::metrics {
namespace {

std::optional<std::string> ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool ParseU64(std::string_view text, uint64_t* value) {
  const auto r = std::from_chars(text.data(), text.data() + text.size(), *value);
  return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

uint64_t CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  uint64_t n = 0;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n > 0 ? n - 1 : 0;  // not the descriptor opendir itself holds
}

}  // namespace

std::optional<ProcStat> ParseProcStat(std::string_view line) {
  const size_t close = line.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  // Fields from 3 (state) on, split on spaces.
  std::vector<std::string_view> f;
  size_t i = close + 1;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\n')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\n') ++i;
    if (i > start) f.push_back(line.substr(start, i - start));
  }
  // Field N (1-based, man 5 proc) is f[N - 3].
  auto field = [&f](size_t n, uint64_t* v) { return n - 3 < f.size() && ParseU64(f[n - 3], v); };
  ProcStat s;
  if (!field(14, &s.utime_ticks) || !field(15, &s.stime_ticks) || !field(20, &s.threads) ||
      !field(22, &s.start_ticks) || !field(23, &s.vsize_bytes) || !field(24, &s.rss_pages)) {
    return std::nullopt;
  }
  return s;
}

std::optional<uint64_t> ParseBootTime(std::string_view proc_stat) {
  size_t at = 0;
  while (at < proc_stat.size()) {
    size_t end = proc_stat.find('\n', at);
    if (end == std::string_view::npos) end = proc_stat.size();
    const std::string_view line = proc_stat.substr(at, end - at);
    if (line.substr(0, 6) == "btime ") {
      uint64_t v = 0;
      if (ParseU64(line.substr(6), &v)) return v;
      return std::nullopt;
    }
    at = end + 1;
  }
  return std::nullopt;
}

ProcessFigures ReadProcessFigures() {
  ProcessFigures p;
  const std::optional<std::string> stat = ReadFile("/proc/self/stat");
  const std::optional<std::string> system = ReadFile("/proc/stat");
  std::optional<ProcStat> s = stat ? ParseProcStat(*stat) : std::nullopt;
  std::optional<uint64_t> boot = system ? ParseBootTime(*system) : std::nullopt;
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  if (s && ticks > 0 && page > 0) {
    p.cpu_seconds = static_cast<double>(s->utime_ticks + s->stime_ticks) / ticks;
    p.resident_bytes = s->rss_pages * static_cast<uint64_t>(page);
    p.virtual_bytes = s->vsize_bytes;
    p.threads = s->threads;
    if (boot) p.start_time_seconds = *boot + static_cast<double>(s->start_ticks) / ticks;
    p.ok = boot.has_value();
  }
  p.open_fds = CountOpenFds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) p.max_fds = limit.rlim_cur;
  return p;
}

}  // namespace streamrec::server::metrics
