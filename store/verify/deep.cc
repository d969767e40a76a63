// Deep decoding (VerifyOptions::deep): every image that passed the images
// phase is decoded on a pool of threads, in batches, and its size compared
// with the stored one.
#include <algorithm>
#include <atomic>
#include <thread>

#include "store/verify/phases.h"

namespace oiv4kv::verify {

// An image to decode, copied out of the iterator.
struct DeepDecoder::Job {
  Config config = Config::kOriginal;
  Split split = Split::kTrain;
  uint64_t id = 0;
  std::vector<uint8_t> bytes;
  uint32_t width = 0, height = 0;  // as stored
  // Results.
  Status status;
  uint32_t got_width = 0, got_height = 0;
  bool truncated = false;
};

DeepDecoder::DeepDecoder(Check* check, int threads) : check_(check) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int t = 0; t < threads; ++t) decoders_.push_back(std::make_unique<Decoder>());
}

DeepDecoder::~DeepDecoder() = default;

void DeepDecoder::Add(Config config, Split split, uint64_t id, std::span<const uint8_t> image,
                      uint32_t width, uint32_t height) {
  Job& job = jobs_.emplace_back();
  job.config = config;
  job.split = split;
  job.id = id;
  job.bytes.assign(image.begin(), image.end());
  job.width = width;
  job.height = height;
  job_bytes_ += image.size();
  if (jobs_.size() >= 64 * decoders_.size() || job_bytes_ >= (size_t{64} << 20)) Flush();
}

void DeepDecoder::Flush() {
  job_bytes_ = 0;
  if (jobs_.empty()) return;
  std::atomic<size_t> next{0};
  auto work = [&](size_t t) {
    DecodeOptions o;
    o.truncated = TruncatedPolicy::kWarn;  // as OpenCV's imdecode
    DecodedImage img;
    for (size_t i; (i = next++) < jobs_.size();) {
      Job& j = jobs_[i];
      j.status = decoders_[t]->Decode(j.bytes, o, &img);
      j.got_width = img.width;
      j.got_height = img.height;
      j.truncated = img.truncated;
    }
  };
  std::vector<std::thread> pool;
  const size_t threads = std::min(decoders_.size(), jobs_.size());
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  for (const Job& j : jobs_) {
    ++check_->report->decoded;
    const std::string name = ImageName(j.config, j.split, j.id);
    if (!j.status.ok()) {
      check_->AddProblem(name, "does not decode: " + j.status.ToString());
      continue;
    }
    check_->report->decode_warnings += j.truncated;
    if (j.got_width != j.width || j.got_height != j.height) {
      check_->AddProblem(name, "decodes to " + std::to_string(j.got_width) + "x" +
                                   std::to_string(j.got_height) + ", stored as " +
                                   std::to_string(j.width) + "x" + std::to_string(j.height));
    }
  }
  jobs_.clear();
}

}  // namespace oiv4kv::verify
