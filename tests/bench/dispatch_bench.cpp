// What the plugin boundary costs: a request answered by a no-op plugin
// (loaded with Boost.DLL, called through the C ABI) against the same answer
// from a function compiled into the host, and the dispatch layer's whole
// path (target normalisation, method look-up, the C request, the call,
// response checks) around that plugin. Sockets and parsing are left out; they cost the same for any
// method.
//
//   build/bin/dispatch_bench [--benchmark_repetitions=5]
#include "dispatch/dispatcher.hpp"
#include "dispatch/services.hpp"
#include "plugin/loader.hpp"
#include "store/store.hpp"

#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <stdexcept>

namespace {

namespace fs = std::filesystem;
using namespace verbd;

// The no-op plugin alone in a fresh plugin folder, loaded as verbd does.
struct Loaded {
  Loaded() {
    folder = fs::temp_directory_path() / ("verbd-bench-" + std::to_string(::getpid()));
    fs::create_directories(folder);
    fs::copy_file(fs::path(VERBD_TEST_PLUGIN_DIR) / "noop.so", folder / "noop.so",
                  fs::copy_options::overwrite_existing);
    store = store::make_store({"memory", folder / "data", false});
    loader = std::make_unique<plugin::Loader>(*store, dispatch::services_table());
    config::Plugins plugins;
    plugins.directory = folder;
    report = loader->load(plugins, 1);
    registry.publish(report.generation);
    if (report.generation->find("NOOP") == nullptr) throw std::runtime_error("noop.so did not load");
  }
  ~Loaded() {
    std::error_code ignored;
    fs::remove_all(folder, ignored);
  }
  fs::path folder;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<plugin::Loader> loader;
  plugin::Registry registry;
  plugin::LoadReport report;
};

Loaded& loaded() {
  static Loaded instance;
  return instance;
}

http::Request noop_request() {
  http::Request request;
  request.method = "NOOP";
  request.target = "/a/b";
  return request;
}

[[gnu::noinline]] void compiled_in_handler(const http::Request&, http::Response& response) {
  response.set_status(204);
}

void DirectCall(benchmark::State& state) {
  http::Request request = noop_request();
  http::Response response;
  for (auto _ : state) {
    response.reset(false);
    compiled_in_handler(request, response);
    benchmark::DoNotOptimize(response.status());
  }
}
BENCHMARK(DirectCall);

void PluginCall(benchmark::State& state) {
  const plugin::Plugin& noop = *loaded().report.generation->find("NOOP");
  verbd_request request{};
  request.struct_size = sizeof request;
  request.version = 11;
  request.method = {"NOOP", 4};
  request.path = {"/a/b", 4};
  http::Response response;
  dispatch::Draft draft{response, *loaded().store, false, {}};
  for (auto _ : state) {
    response.reset(false);
    benchmark::DoNotOptimize(noop.handle(request, draft.handle()));
  }
}
BENCHMARK(PluginCall);

void DispatchToPlugin(benchmark::State& state) {
  board::Board board(1);
  dispatch::Dispatcher dispatcher(*loaded().store, loaded().registry, board, board.call(0));
  http::Request request = noop_request();
  http::Response response;
  for (auto _ : state) {
    dispatcher.answer(request, response);
    benchmark::DoNotOptimize(response.status());
  }
}
BENCHMARK(DispatchToPlugin);

}  // namespace

BENCHMARK_MAIN();
