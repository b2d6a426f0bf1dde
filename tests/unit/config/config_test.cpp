#include "config/config.hpp"

#include "../../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace verbd::config {
namespace {

using verbd::test::TempFolder;

std::string error_of(const TempFolder& folder, const std::string& text) {
  folder.write("verbd.toml", text);
  try {
    load(folder / "verbd.toml");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Config, ReadsEveryKeyAndResolvesPathsAgainstTheFile) {
  TempFolder folder;
  folder.write("conf/verbd.toml", R"(
[server]
host = "0.0.0.0"
port = 9090
workers = 2
name = "test-server"
batch_scheduling = false
plugin_threads = 4
[limits]
max_request_line_bytes = 1000
max_header_bytes = 2000
max_body_bytes = 3000
body_in_memory_bytes = 1500
header_timeout_ms = 4000
idle_timeout_ms = 5000
max_connections = 600
handler_timeout_ms = 700
plugin_queue = 8
[plugins]
directory = "../build/plugins"
watch = false
[plugins.get]
index = "home.html"
listing = true
depth = 3
[store]
backend = "files"
root = "../data"
fsync = false
recheck_ms = 0
[log]
level = "debug"
access = false
)");
  Config config = load(folder / "conf/verbd.toml");
  EXPECT_EQ(config.server.host, "0.0.0.0");
  EXPECT_EQ(config.server.port, 9090);
  EXPECT_EQ(config.server.workers, 2u);
  EXPECT_EQ(config.server.name, "test-server");
  EXPECT_FALSE(config.server.batch_scheduling);
  EXPECT_EQ(config.limits.max_request_line_bytes, 1000u);
  EXPECT_EQ(config.limits.max_header_bytes, 2000u);
  EXPECT_EQ(config.limits.max_body_bytes, 3000u);
  EXPECT_EQ(config.limits.body_in_memory_bytes, 1500u);
  EXPECT_EQ(config.limits.header_timeout.count(), 4000);
  EXPECT_EQ(config.limits.idle_timeout.count(), 5000);
  EXPECT_EQ(config.limits.max_connections, 600u);
  EXPECT_EQ(config.server.plugin_threads, 4u);
  EXPECT_EQ(config.limits.handler_timeout.count(), 700);
  EXPECT_EQ(config.limits.plugin_queue, 8u);
  EXPECT_EQ(config.plugins.directory, folder / "conf/../build/plugins");
  EXPECT_FALSE(config.plugins.watch);
  EXPECT_EQ(std::get<std::string>(config.plugins.settings.at("get").at("index")), "home.html");
  EXPECT_EQ(std::get<bool>(config.plugins.settings.at("get").at("listing")), true);
  EXPECT_EQ(std::get<std::int64_t>(config.plugins.settings.at("get").at("depth")), 3);
  EXPECT_EQ(config.store.backend, "files");
  EXPECT_EQ(config.store.root, folder / "conf/../data");
  EXPECT_FALSE(config.store.fsync);
  EXPECT_EQ(config.store.recheck.count(), 0);
  EXPECT_EQ(config.log.level, spdlog::level::debug);
  EXPECT_FALSE(config.log.access);
}

TEST(Config, AnEmptyFileGivesTheDefaults) {
  TempFolder folder;
  folder.write("verbd.toml", "");
  Config config = load(folder / "verbd.toml");
  EXPECT_EQ(config.server.port, 8080);
  EXPECT_EQ(config.server.workers, 2u);
  EXPECT_EQ(config.server.processes, 2u);  // one per worker: a crash costs one worker's connections
  EXPECT_EQ(config.plugins.quarantine_after, 3u);
  EXPECT_EQ(config.plugins.quarantine_window, std::chrono::seconds(60));
  EXPECT_TRUE(config.server.batch_scheduling);
  EXPECT_EQ(config.store.backend, "files");
  EXPECT_EQ(config.limits.max_body_bytes, 1024u * 1024 * 1024);
  EXPECT_EQ(config.limits.body_in_memory_bytes, 64u * 1024);
  EXPECT_EQ(config.server.plugin_threads, 16u);
  EXPECT_EQ(config.store.recheck, std::chrono::milliseconds(100));
  EXPECT_EQ(config.limits.handler_timeout, std::chrono::seconds(30));
  EXPECT_EQ(config.limits.plugin_queue, 1024u);
}

// config/verbd.toml is how users learn the keys: each value it sets, apart
// from its paths, is the built-in default it says it is; and the WebDAV
// one loads too.
TEST(Config, TheShippedFilesLoadAndStateTheDefaults) {
  TempFolder folder;
  folder.write("verbd.toml", "");
  Config defaults = load(folder / "verbd.toml");
  Config shipped = load(std::filesystem::path(VERBD_CONFIG_DIR) / "verbd.toml");
#define EXPECT_DEFAULT(field) EXPECT_EQ(shipped.field, defaults.field) << #field
  EXPECT_DEFAULT(server.host);
  EXPECT_DEFAULT(server.port);
  EXPECT_DEFAULT(server.workers);
  EXPECT_DEFAULT(server.processes);
  EXPECT_DEFAULT(server.name);
  EXPECT_DEFAULT(server.batch_scheduling);
  EXPECT_DEFAULT(server.plugin_threads);
  EXPECT_DEFAULT(limits.max_request_line_bytes);
  EXPECT_DEFAULT(limits.max_header_bytes);
  EXPECT_DEFAULT(limits.max_body_bytes);
  EXPECT_DEFAULT(limits.body_in_memory_bytes);
  EXPECT_DEFAULT(limits.header_timeout);
  EXPECT_DEFAULT(limits.idle_timeout);
  EXPECT_DEFAULT(limits.shutdown_drain);
  EXPECT_DEFAULT(limits.max_connections);
  EXPECT_DEFAULT(limits.handler_timeout);
  EXPECT_DEFAULT(limits.plugin_queue);
  EXPECT_DEFAULT(plugins.watch);
  EXPECT_DEFAULT(plugins.quarantine_after);
  EXPECT_DEFAULT(plugins.quarantine_window);
  EXPECT_DEFAULT(store.backend);
  EXPECT_DEFAULT(store.fsync);
  EXPECT_DEFAULT(store.recheck);
  EXPECT_DEFAULT(log.level);
  EXPECT_DEFAULT(log.access);
  EXPECT_DEFAULT(log.access_format);
#undef EXPECT_DEFAULT
  EXPECT_EQ(shipped.plugins.directory.filename(), "plugins");
  EXPECT_EQ(shipped.store.root.filename(), "data");

  Config dav = load(std::filesystem::path(VERBD_CONFIG_DIR) / "webdav.toml");
  EXPECT_EQ(dav.plugins.directory.filename(), "plugins-dav");
}

TEST(Config, WorkersZeroMeansOnePerCore) {
  TempFolder folder;
  folder.write("verbd.toml", "[server]\nworkers = 0\n");
  ASSERT_GT(std::thread::hardware_concurrency(), 0u);  // else the rule is "one"
  EXPECT_EQ(load(folder / "verbd.toml").server.workers, std::thread::hardware_concurrency());
}

TEST(Config, ProcessesDefaultToOnePerWorkerAndOneWithTheMemoryStore) {
  TempFolder folder;
  folder.write("verbd.toml", "[server]\nworkers = 4\n");
  EXPECT_EQ(load(folder / "verbd.toml").server.processes, 4u);
  folder.write("verbd.toml", "[server]\nworkers = 4\nprocesses = 2\n");
  EXPECT_EQ(load(folder / "verbd.toml").server.processes, 2u);
  folder.write("verbd.toml", "[server]\nworkers = 4\n[store]\nbackend = \"memory\"\n");
  EXPECT_EQ(load(folder / "verbd.toml").server.processes, 1u);
}

TEST(Config, KnowsWhichMethodsRunIsolated) {
  TempFolder folder;
  folder.write(
      "verbd.toml",
      "[plugins.get]\nisolation = \"process\"\n[plugins.put]\nisolation = \"none\"\n[plugins.post]\nx = 1\n");
  auto plugins = load(folder / "verbd.toml").plugins;
  EXPECT_EQ(plugins.isolated, (std::set<std::string, std::less<>>{"get"}));
  EXPECT_EQ(std::get<std::string>(plugins.settings.at("get").at("isolation")),
            "process");  // still handed over
}

TEST(Config, RefusesMoreProcessesThanWorkersAndSeveralWithTheMemoryStore) {
  TempFolder folder;
  std::string file = (folder / "verbd.toml").string();
  EXPECT_EQ(error_of(folder, "[server]\nworkers = 2\nprocesses = 3\n"),
            file +
                ": server.processes (3) is more than server.workers (2): each worker process runs at least "
                "one of the workers (event loops)");
  std::string memory = error_of(folder, "[server]\nprocesses = 2\n[store]\nbackend = \"memory\"\n");
  EXPECT_EQ(memory.rfind(file + ": server.processes must be 1 with the memory store", 0), 0u) << memory;
  EXPECT_EQ(error_of(folder, "[plugins.get]\nisolation = \"sandbox\"\n"),
            file + ":2:13: plugins.get.isolation must be \"process\" or \"none\"");
  std::string isolated =
      error_of(folder, "[plugins.get]\nisolation = \"process\"\n[store]\nbackend = \"memory\"\n");
  EXPECT_EQ(isolated.rfind(file + ": plugins.get.isolation = \"process\" needs the files store", 0), 0u)
      << isolated;
  EXPECT_EQ(error_of(folder, "[plugins]\nquarantine_after = 0\n"),
            file + ":2:20: plugins.quarantine_after must be an integer from 1 to 1000");
  EXPECT_EQ(error_of(folder, "[server]\nplugin_threads = 0\n"),
            file + ":2:18: server.plugin_threads must be an integer from 1 to 1024");
  EXPECT_EQ(error_of(folder, "[limits]\nhandler_timeout_ms = 0\n"),
            file + ":2:22: limits.handler_timeout_ms must be an integer from 1 to 86400000");
}

TEST(Config, ErrorsNameFileLineAndColumn) {
  TempFolder folder;
  std::string file = (folder / "verbd.toml").string();
  EXPECT_EQ(error_of(folder, "[server]\nport = \"eighty\"\n"),
            file + ":2:8: server.port must be an integer from 0 to 65535");
  EXPECT_EQ(error_of(folder, "[server]\nport = 70000\n"),
            file + ":2:8: server.port must be an integer from 0 to 65535");
  EXPECT_EQ(error_of(folder, "[server]\nprot = 80\n"), file + ":2:1: unknown key 'prot' in [server]");
  EXPECT_EQ(error_of(folder, "[server]\nbatch_scheduling = 1\n"),
            file + ":2:20: server.batch_scheduling must be true or false");
  EXPECT_EQ(error_of(folder, "[sever]\n"), file + ":1:2: unknown section [sever]");
  EXPECT_EQ(error_of(folder, "[store]\nbackend = \"disk\"\n"),
            file + ":2:11: store.backend must be \"files\", \"memory\" or \"redis\"");
  EXPECT_EQ(error_of(folder, "[store]\nrecheck_ms = -1\n"),
            file + ":2:14: store.recheck_ms must be an integer from 0 to 60000");
  EXPECT_EQ(error_of(folder, "[log]\nlevel = \"loud\"\n"),
            file + ":2:9: log.level must be one of trace, debug, info, warn, error");
  EXPECT_EQ(error_of(folder, "[plugins]\nwatch = 1\n"), file + ":2:9: plugins.watch must be true or false");
  EXPECT_EQ(error_of(folder, "[limits]\nidle_timeout_ms = 0\n"),
            file + ":2:19: limits.idle_timeout_ms must be an integer from 1 to 86400000");
}

TEST(Config, ReadsTheLogFilesTlsAndMetrics) {
  TempFolder folder;
  folder.write("conf/verbd.toml", R"(
[log]
access_format = "json"
access_file = "../log/access.log"
error_file = "/var/log/verbd/error.log"
[tls]
port = 0
certificate = "cert.pem"
key = "key.pem"
ciphers = "ECDHE-RSA-AES128-GCM-SHA256"
[metrics]
listen = "[::1]:9146"
)");
  Config config = load(folder / "conf/verbd.toml");
  EXPECT_EQ(config.log.access_format, AccessFormat::json);
  EXPECT_EQ(config.log.access_file, folder / "conf/../log/access.log");
  EXPECT_EQ(config.log.error_file, "/var/log/verbd/error.log");
  EXPECT_TRUE(config.tls.enabled);
  EXPECT_EQ(config.tls.port, 0);
  EXPECT_EQ(config.tls.certificate, folder / "conf/cert.pem");
  EXPECT_EQ(config.tls.key, folder / "conf/key.pem");
  EXPECT_EQ(config.tls.ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_TRUE(config.metrics.enabled);
  EXPECT_EQ(config.metrics.host, "::1");
  EXPECT_EQ(config.metrics.port, 9146);
}

TEST(Config, LogsInCombinedFormatOnStderrWithoutTlsOrMetricsByDefault) {
  TempFolder folder;
  folder.write("verbd.toml", "");
  Config config = load(folder / "verbd.toml");
  EXPECT_EQ(config.log.access_format, AccessFormat::combined);
  EXPECT_TRUE(config.log.access_file.empty());
  EXPECT_TRUE(config.log.error_file.empty());
  EXPECT_FALSE(config.tls.enabled);
  EXPECT_FALSE(config.metrics.enabled);
}

TEST(Config, RefusesAnIncompleteTlsTableAndABadMetricsAddress) {
  TempFolder folder;
  std::string file = (folder / "verbd.toml").string();
  EXPECT_EQ(error_of(folder, "[tls]\nport = 8443\ncertificate = \"c.pem\"\n"),
            file + ": [tls] needs key (port, certificate and key, all three)");
  EXPECT_EQ(error_of(folder, "[metrics]\nlisten = \"9145\"\n"),
            file + ":2:10: metrics.listen must be \"HOST:PORT\", e.g. \"127.0.0.1:9145\"");
  EXPECT_EQ(error_of(folder, "[metrics]\nlisten = \"localhost:99999\"\n"),
            file + ":2:10: metrics.listen must be \"HOST:PORT\", e.g. \"127.0.0.1:9145\"");
  EXPECT_EQ(error_of(folder, "[log]\naccess_format = \"clf\"\n"),
            file + ":2:17: log.access_format must be \"combined\", \"verbd\" or \"json\"");
}

TEST(Config, ReadsTheRedisStoreFromItsUrlAndKeys) {
  TempFolder folder;
  folder.write("verbd.toml", R"(
[store]
backend = "redis"
url = "redis://reader:s%40cret@10.0.0.7:7000/3"
prefix = "site"
timeout_ms = 250
wait_replicas = 1
wait_timeout_ms = 400
)");
  Config config = load(folder / "verbd.toml");
  EXPECT_EQ(config.store.backend, "redis");
  const Redis& redis = config.store.redis;
  EXPECT_EQ(redis.host, "10.0.0.7");
  EXPECT_EQ(redis.port, 7000);
  EXPECT_EQ(redis.database, 3u);
  EXPECT_EQ(redis.username, "reader");
  EXPECT_EQ(redis.password, "s@cret") << "percent-decoded";
  EXPECT_EQ(redis.prefix, "site");
  EXPECT_EQ(redis.timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(redis.wait_replicas, 1u);
  EXPECT_EQ(redis.wait_timeout, std::chrono::milliseconds(400));

  folder.write("verbd.toml", "[store]\nbackend = \"redis\"\npassword = \"other\"\n");
  Config defaults = load(folder / "verbd.toml");
  EXPECT_EQ(defaults.store.redis.host, "127.0.0.1");
  EXPECT_EQ(defaults.store.redis.port, 6379);
  EXPECT_EQ(defaults.store.redis.database, 0u);
  EXPECT_EQ(defaults.store.redis.password, "other");
  EXPECT_EQ(defaults.server.processes, defaults.server.workers) << "every process reaches the one Redis";

  folder.write("verbd.toml",
               "[store]\nbackend = \"redis\"\ncluster = [\"127.0.0.1:7000\", \"[::1]:7001\"]\n");
  Config cluster = load(folder / "verbd.toml");
  ASSERT_EQ(cluster.store.redis.cluster.size(), 2u);
  EXPECT_EQ(cluster.store.redis.cluster[0].host, "127.0.0.1");
  EXPECT_EQ(cluster.store.redis.cluster[0].port, 7000);
  EXPECT_EQ(cluster.store.redis.cluster[1].host, "::1");
  EXPECT_EQ(cluster.store.redis.cluster[1].port, 7001);
}

TEST(Config, RefusesABadRedisUrlAndRedisKeysForAnotherStore) {
  TempFolder folder;
  std::string file = (folder / "verbd.toml").string();
  EXPECT_EQ(error_of(folder, "[store]\nbackend = \"redis\"\nurl = \"http://host/\"\n"),
            file + ":3:7: store.url must be redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]");
  EXPECT_EQ(error_of(folder, "[store]\nbackend = \"redis\"\nurl = \"redis://host/x\"\n"),
            file + ":3:7: store.url must end with a database number, as in redis://HOST:PORT/0");
  EXPECT_EQ(error_of(folder, "[store]\nbackend = \"redis\"\nprefix = \"a{b}\"\n"),
            file + ":3:10: store.prefix must be a non-empty string without '{' or '}'");
  EXPECT_EQ(error_of(folder, "[store]\nbackend = \"redis\"\ncluster = [\"a:1\", \"b\"]\n"),
            file + ":3:11: store.cluster must list nodes as \"HOST:PORT\", not \"b\"");
  EXPECT_EQ(error_of(folder, "[store]\nbackend = \"redis\"\ncluster = [\"a:1\"]\nurl = \"redis://b/0\"\n"),
            file + ":3:11: store.cluster and url cannot both be set: a cluster is found from its nodes");
  EXPECT_EQ(error_of(folder, "[store]\nurl = \"redis://host/0\"\n"),
            file + ":2:7: store.url is a setting of the redis store, and backend is not \"redis\"");
  EXPECT_EQ(error_of(folder, "[store]\nbackend = \"redis\"\nurl = \"redis://host/0\"\nfsync = true\n"),
            file + ":4:9: store.fsync is a setting of the files store, and backend is not \"files\"");
  EXPECT_EQ(error_of(folder, "[store]\nbackend = \"memory\"\nrecheck_ms = 0\n"),
            file + ":3:14: store.recheck_ms is a setting of the files store, and backend is not \"files\"");
}

TEST(Config, SyntaxErrorsNameTheirPlace) {
  TempFolder folder;
  std::string message = error_of(folder, "[server]\nport = = 3\n");
  EXPECT_EQ(message.rfind((folder / "verbd.toml").string() + ":2:", 0), 0u) << message;
}

TEST(Config, AMissingFileIsAnError) {
  TempFolder folder;
  EXPECT_THROW(load(folder / "absent.toml"), Error);
}

}  // namespace
}  // namespace verbd::config
