// The Prometheus page: off unless [metrics] listen is set; then its counters
// match the requests sent (by method and status class, the latency
// histogram, TLS handshakes), plugin failures and crashes are counted
// across worker restarts, and promtool accepts the page.
#include "../support/http_client.hpp"
#include "../support/plugin_folder.hpp"
#include "../support/process.hpp"
#include "../support/temp_folder.hpp"
#include "../support/tls_client.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <regex>
#include <thread>

namespace verbd::test {
namespace {

class Metrics : public ::testing::Test {
 protected:
  void start(const std::string& extra = "") {
    stock(folder_, {"throwing", "crash"}, {"get", "head", "put", "post", "delete"});
    make_certificate(folder_ / "cert.pem", folder_ / "key.pem", "localhost");
    folder_.write("verbd.toml",
                  "[server]\nport = 0\nworkers = 2\n[plugins]\ndirectory = \"plugins\"\nwatch = false\n"
                  "quarantine_after = 100\n[store]\nroot = \"data\"\nfsync = false\n[log]\naccess = false\n"
                  "[tls]\nport = 0\ncertificate = \"cert.pem\"\nkey = \"key.pem\"\n" +
                      extra);
    folder_.write("data/index.html", "HTTP GET Method (Success)\n");
    verbd_ = std::make_unique<Process>(folder_, VERBD_BINARY,
                                       std::vector<std::string>{"--config", (folder_ / "verbd.toml").string()});
    port_ = verbd_->port();
    std::smatch match;
    std::string log = verbd_->err();
    if (std::regex_search(log, match, std::regex("and https://127\\.0\\.0\\.1:([0-9]+)/")))
      tls_port_ = static_cast<std::uint16_t>(std::stoi(match[1]));
    if (std::regex_search(log, match, std::regex("metrics at http://127\\.0\\.0\\.1:([0-9]+)/metrics")))
      metrics_port_ = static_cast<std::uint16_t>(std::stoi(match[1]));
  }

  // One series' value on the page ("name{labels}" as written there), -1 when absent.
  static double value(const std::string& page, const std::string& series) {
    auto at = page.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(page.substr(at + series.size() + 2));
  }

  std::string page() { return fetch(metrics_port_, "GET", "/metrics").body; }

  TempFolder folder_;
  std::unique_ptr<Process> verbd_;
  std::uint16_t port_ = 0, tls_port_ = 0, metrics_port_ = 0;
};

TEST_F(Metrics, OffUnlessAsked) {
  start();
  ASSERT_NE(port_, 0) << verbd_->err();
  EXPECT_EQ(metrics_port_, 0);
  EXPECT_EQ(verbd_->err().find("metrics at"), std::string::npos);
}

TEST_F(Metrics, CountersMatchTheRequestsSent) {
  start("[metrics]\nlisten = \"127.0.0.1:0\"\n");
  ASSERT_NE(metrics_port_, 0) << verbd_->err();
  {
    Client client(port_);
    for (int i = 0; i < 30; ++i) EXPECT_EQ(client.request("GET", "/index.html").status, 200);
    for (int i = 0; i < 7; ++i) EXPECT_EQ(client.request("GET", "/missing").status, 404);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(client.request("PUT", "/a" + std::to_string(i), "x").status, 201);
    EXPECT_EQ(client.request("BREW", "/pot").status, 405);
    EXPECT_EQ(client.request("THROW", "/x").status, 500);
  }
  for (int i = 0; i < 3; ++i) {
    TlsClient client(tls_port_, {folder_ / "cert.pem"});
    EXPECT_EQ(client.request("HEAD", "/index.html").status, 200);
  }
  std::string text = page();
  EXPECT_EQ(value(text, "verbd_requests_total{method=\"GET\",code=\"2xx\"}"), 30) << text;
  EXPECT_EQ(value(text, "verbd_requests_total{method=\"GET\",code=\"4xx\"}"), 7);
  EXPECT_EQ(value(text, "verbd_requests_total{method=\"PUT\",code=\"2xx\"}"), 5);
  EXPECT_EQ(value(text, "verbd_requests_total{method=\"HEAD\",code=\"2xx\"}"), 3);
  EXPECT_EQ(value(text, "verbd_requests_total{method=\"other\",code=\"4xx\"}"), 1);  // BREW
  EXPECT_EQ(value(text, "verbd_requests_total{method=\"other\",code=\"5xx\"}"), 1);  // THROW
  EXPECT_EQ(value(text, "verbd_request_duration_seconds_count"), 47);
  EXPECT_EQ(value(text, "verbd_request_duration_seconds_bucket{le=\"+Inf\"}"), 47);
  EXPECT_GT(value(text, "verbd_request_duration_seconds_sum"), 0);
  EXPECT_GT(value(text, "verbd_received_bytes_total"), 47 * 20);
  EXPECT_GT(value(text, "verbd_sent_bytes_total"), 30 * 26);
  EXPECT_EQ(value(text, "verbd_tls_handshakes_total{result=\"ok\"}"), 3);
  EXPECT_EQ(value(text, "verbd_plugin_failures_total{kind=\"error\"}"), 1);
  EXPECT_EQ(value(text, "verbd_plugin_generation"), 1);
  for (int i = 0; i < 100 && value(page(), "verbd_open_connections") != 0; ++i)  // closes seen a moment later
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(value(page(), "verbd_open_connections"), 0);

  Client idle(port_);
  EXPECT_EQ(idle.request("GET", "/index.html").status, 200);
  EXPECT_EQ(value(page(), "verbd_open_connections"), 1);
  EXPECT_EQ(fetch(metrics_port_, "GET", "/").status, 404);
  EXPECT_EQ(fetch(metrics_port_, "POST", "/metrics").status, 405);
}

TEST_F(Metrics, CrashesAreCountedAndCountsOutliveTheWorker) {
  start("[metrics]\nlisten = \"127.0.0.1:0\"\n");
  ASSERT_NE(metrics_port_, 0) << verbd_->err();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(fetch(port_, "GET", "/index.html").status, 200);
  try {
    fetch(port_, "CRASH", "/null");
  } catch (const std::exception&) {  // the worker died
  }
  ASSERT_TRUE(verbd_->err_shows("restarted as pid")) << verbd_->err();
  std::string text = page();
  EXPECT_EQ(value(text, "verbd_plugin_failures_total{kind=\"crash\"}"), 1) << text;
  EXPECT_EQ(value(text, "verbd_worker_restarts_total"), 1);
  EXPECT_EQ(value(text, "verbd_requests_total{method=\"GET\",code=\"2xx\"}"), 10);  // kept by the board
}

TEST_F(Metrics, PromtoolAcceptsThePage) {
  if (std::system("command -v promtool >/dev/null") != 0) GTEST_FAIL() << "promtool (package prometheus) is missing";
  start("[metrics]\nlisten = \"127.0.0.1:0\"\n");
  ASSERT_NE(metrics_port_, 0) << verbd_->err();
  fetch(port_, "GET", "/index.html");
  folder_.write("page.txt", page());
  std::string command = "promtool check metrics < " + (folder_ / "page.txt").string() + " > " +
                        (folder_ / "promtool.txt").string() + " 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << slurp(folder_ / "promtool.txt");
}

}  // namespace
}  // namespace verbd::test
