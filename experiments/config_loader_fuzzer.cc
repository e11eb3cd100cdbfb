// Fuzzes the experiment config loader: text-format parsing, defaults, validation and
// sweep expansion. Any text must give a config or an error naming the file, never a
// crash, leak or hang. Every policy's and quantizer's options message is linked in, so
// the parser reaches into the options carried as google.protobuf.Any.
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "experiments/config_loader.h"
#include "policies/h2o.pb.h"
#include "policies/knorm.pb.h"
#include "policies/random.pb.h"
#include "policies/sink.pb.h"
#include "policies/snapkv.pb.h"
#include "policies/tova.pb.h"
#include "policies/window.pb.h"
#include "quant/integer.pb.h"

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // Touching each descriptor links its message into the pool the parser resolves
  // Any's type URLs against.
  using namespace kvlab;
  (void)policies::H2oOptions::descriptor();
  (void)policies::KnormOptions::descriptor();
  (void)policies::RandomOptions::descriptor();
  (void)policies::SinkOptions::descriptor();
  (void)policies::SnapKvOptions::descriptor();
  (void)policies::TovaOptions::descriptor();
  (void)policies::WindowOptions::descriptor();
  (void)quant::IntegerQuantizerOptions::descriptor();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const auto experiment = kvlab::experiments::ParseExperiment(text, "fuzz.pbtxt");
  if (!experiment.ok() && experiment.status().message().find("fuzz.pbtxt") == absl::string_view::npos) {
    // Every loader error names the file it came from.
    __builtin_trap();
  }
  return 0;
}
