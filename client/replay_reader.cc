#include "client/replay_reader.h"

#include <algorithm>
#include <utility>

#include "client/event_ids.h"

namespace streamrec::client {

ReplayReader::ReplayReader(std::istream& in, Options options,
                           std::function<void(uint64_t)> on_bytes)
    : in_(in), options_(std::move(options)), on_bytes_(std::move(on_bytes)) {
  options_.batch = std::max(options_.batch, 1);
  options_.workers = std::max(options_.workers, 0);
}

ReplayReader::~ReplayReader() {
  StopWorkers();
  for (std::thread& w : workers_) w.join();
}

void ReplayReader::Stop() {
  abandoned_ = true;
  StopWorkers();
}

void ReplayReader::StopWorkers() {
  std::lock_guard<std::mutex> lock(mu_);
  stop_ = true;
  cv_.notify_all();
}

bool ReplayReader::ReadJob(Job& job) {
  std::string line;
  while (!eof_ && static_cast<int>(job.text.size()) < options_.batch) {
    if (!std::getline(in_, line)) {
      eof_ = true;
      break;
    }
    ++lines_;
    on_bytes_(line.size() + 1);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (options_.skip_header && lines_ == 1) continue;
    if (!options_.format) options_.format = DetectFormat(line);
    if (!parser_) parser_.emplace(*options_.format, options_.layout);
    if (parser_->NeedsHeader()) {
      std::string error;
      if (!parser_->Header(line, error)) {
        header_error_ = options_.source + ":" + std::to_string(lines_) + ": " + error;
        header_error_line_ = lines_;
        eof_ = true;
      }
      continue;
    }
    if (lines_ < options_.resume_from) {  // sent by an earlier replay
      ++skipped_lines_;
      continue;
    }
    job.text.push_back(std::move(line));
    job.numbers.push_back(lines_);
  }
  return !job.text.empty();
}

void ReplayReader::ParseJob(EventParser& parser, Job& job) const {
  std::string error;
  if (parser.format() == Format::kCriteo) {  // straight to the wire format, no messages
    std::string bytes;
    bytes.reserve(job.text.size() * 640);
    std::vector<uint64_t> lines;
    lines.reserve(job.text.size());
    for (size_t i = 0; i < job.text.size(); ++i) {
      const std::string id =
          options_.event_ids ? LineEventId(options_.run_id, job.numbers[i]) : std::string();
      if (!AppendCriteoEvent(job.text[i], id, bytes, error)) {
        job.errors.emplace_back(job.numbers[i], std::move(error));
        error.clear();
        if (!options_.skip_bad) break;
        continue;
      }
      lines.push_back(job.numbers[i]);
    }
    const int events = static_cast<int>(lines.size());
    if (events > 0) job.batch = ReplayBatch::FromBytes(std::move(bytes), events, std::move(lines));
    job.text = {};
    return;
  }
  job.batch = ReplayBatch::New(static_cast<int>(job.text.size()));
  auto& events = *job.batch.request->mutable_events();
  events.Reserve(static_cast<int>(job.text.size()));
  job.batch.lines.reserve(job.text.size());
  for (size_t i = 0; i < job.text.size(); ++i) {
    v1::Event* e = events.Add();
    if (!parser.Parse(job.text[i], *e, error)) {
      events.RemoveLast();
      job.errors.emplace_back(job.numbers[i], std::move(error));
      error.clear();
      if (!options_.skip_bad) break;
      continue;
    }
    if (options_.event_ids && e->event_id().empty()) {
      e->set_event_id(LineEventId(options_.run_id, job.numbers[i]));
    }
    job.batch.lines.push_back(job.numbers[i]);
  }
  job.text = {};
  job.batch.Seal();  // serialized here, not on the thread that writes (empty: unsealed)
}

void ReplayReader::WorkLoop(EventParser parser) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !to_parse_.empty(); });
    if (stop_) return;
    Job* job = to_parse_.front();
    to_parse_.pop_front();
    lock.unlock();
    ParseJob(parser, *job);
    lock.lock();
    job->done = true;
    cv_.notify_all();
  }
}

bool ReplayReader::Next(ReplayBatch& batch) {
  // Enough jobs in flight to keep every worker busy while the caller sends.
  const size_t in_flight = 2 * static_cast<size_t>(options_.workers) + 1;
  if (abandoned_) return false;
  for (;;) {
    if (!ready_.empty()) {
      batch = std::move(ready_.front());
      ready_.pop_front();
      return true;
    }
    if (finished_) return false;
    while (!eof_ && in_order_.size() < in_flight) {
      auto job = std::make_unique<Job>();
      if (!ReadJob(*job)) break;
      if (options_.workers == 0) {
        ParseJob(*parser_, *job);
        job->done = true;
        in_order_.push_back(std::move(job));
        break;
      }
      if (workers_.empty()) {
        for (int w = 0; w < options_.workers; ++w) {
          workers_.emplace_back([this, p = *parser_]() mutable { WorkLoop(std::move(p)); });
        }
      }
      std::lock_guard<std::mutex> lock(mu_);
      to_parse_.push_back(job.get());
      in_order_.push_back(std::move(job));
      cv_.notify_all();
    }
    if (in_order_.empty()) {  // the end of the input
      if (!header_error_.empty()) {
        input_error_ = header_error_;
        input_error_line_ = header_error_line_;
      }
      finished_ = true;
      if (out_.size() > 0) ready_.push_back(std::move(out_));
      out_ = ReplayBatch();
      continue;
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return in_order_.front()->done; });
    }
    std::unique_ptr<Job> job = std::move(in_order_.front());
    in_order_.pop_front();
    Absorb(*job);
  }
}

void ReplayReader::Absorb(Job& job) {
  // Without skip_bad a job has at most one error, after all of its events.
  for (auto& [line, reason] : job.errors) {
    std::string where = options_.source + ":" + std::to_string(line) + ": " + reason;
    if (!options_.skip_bad) {
      input_error_ = std::move(where);
      input_error_line_ = line;
      break;
    }
    ++malformed_;
    if (malformed_examples_.size() < 5) malformed_examples_.push_back(std::move(where));
  }
  ReplayBatch& b = job.batch;
  const int batch = options_.batch;
  while (b.size() > 0) {
    if (out_.size() == 0) {  // the usual case: the job's request is the next one
      out_ = std::move(b);
      b = ReplayBatch();
    } else {  // after a skipped line: move the job's first events forward (as bytes)
      grpc::Slice out_hold, b_hold;
      std::vector<std::string_view> to = out_.EventBytes(out_hold);
      const std::vector<std::string_view> from = b.EventBytes(b_hold);
      const int k = std::min(batch - out_.size(), b.size());
      to.insert(to.end(), from.begin(), from.begin() + k);
      std::vector<uint64_t> lines = std::move(out_.lines);
      lines.insert(lines.end(), b.lines.begin(), b.lines.begin() + k);
      out_ = ReplayBatch::FromEvents(to, std::move(lines));
      b = ReplayBatch::FromEvents({from.begin() + k, from.end()},
                                  {b.lines.begin() + k, b.lines.end()});
    }
    if (out_.size() >= batch) {
      ready_.push_back(std::move(out_));
      out_ = ReplayBatch();
    }
  }
  if (!input_error_.empty()) {  // the input ends: the events before the line are sent
    finished_ = true;
    if (out_.size() > 0) ready_.push_back(std::move(out_));
    out_ = ReplayBatch();
    StopWorkers();
  }
}

}  // namespace streamrec::client
