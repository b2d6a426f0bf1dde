// HTTPS beside plain HTTP: TLS 1.2 and 1.3 only, ALPN http/1.1, sessions
// resumed across worker processes, the certificate reloaded on SIGHUP (a
// bad one kept out), and bad files refused at start with their names.
#include "../support/http_client.hpp"
#include "../support/process.hpp"
#include "../support/temp_folder.hpp"
#include "../support/tls_client.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <signal.h>

#include <chrono>
#include <regex>
#include <thread>

namespace verbd::test {
namespace {

namespace fs = std::filesystem;

class Https : public ::testing::Test {
 protected:
  Https() {
    make_certificate(folder_ / "cert.pem", folder_ / "key.pem", "localhost-a");
    folder_.write("verbd.toml", "[server]\nport = 0\nworkers = 2\n[plugins]\ndirectory = \"" +
                                    std::string(VERBD_PLUGIN_DIR) +
                                    "\"\n[store]\nroot = \"data\"\nfsync = false\n[tls]\nport = 0\n"
                                    "certificate = \"cert.pem\"\nkey = \"key.pem\"\n");
    folder_.write("data/index.html", "HTTP GET Method (Success)\n");
  }
  std::string config() const { return (folder_ / "verbd.toml").string(); }

  // The port from the "... and https://127.0.0.1:PORT/" part of the start line.
  static std::uint16_t https_port(const Process& verbd) {
    if (verbd.port() == 0) return 0;
    std::smatch match;
    std::string log = verbd.err();
    std::regex listening("and https://127\\.0\\.0\\.1:([0-9]+)/");
    return std::regex_search(log, match, listening) ? static_cast<std::uint16_t>(std::stoi(match[1])) : 0;
  }

  TlsOptions trusting() const { return {folder_ / "cert.pem"}; }

  TempFolder folder_;
};

TEST_F(Https, ServesHttpsAndHttpAtOnce) {
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  std::uint16_t port = https_port(verbd);
  ASSERT_NE(port, 0) << verbd.err();
  TlsClient client(port, trusting());
  EXPECT_EQ(client.protocol(), "TLSv1.3");
  EXPECT_EQ(client.alpn(), "http/1.1");
  Reply reply = client.request("GET", "/index.html");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "HTTP GET Method (Success)\n");
  EXPECT_EQ(client.request("PUT", "/a.txt", "over TLS").status, 201);  // the same connection, kept alive
  EXPECT_EQ(fetch(verbd.port(), "GET", "/a.txt").body, "over TLS");  // and plain HTTP
  verbd.signal(SIGTERM);
  EXPECT_EQ(verbd.exit_code(), 0);
}

TEST_F(Https, PipelinedRequestsAndLargeBodiesCrossIntact) {
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  std::uint16_t port = https_port(verbd);
  ASSERT_NE(port, 0) << verbd.err();
  std::string large;
  for (int i = 0; large.size() < 3 * 1024 * 1024; ++i) large += std::to_string(i) + ",";
  TlsClient client(port, trusting());
  EXPECT_EQ(client.request("PUT", "/large", large).status, 201);  // written to a file as it arrives
  client.send("GET /large HTTP/1.1\r\nHost: x\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
  Reply first = client.read_reply(), second = client.read_reply();  // sent from its file, then the next
  EXPECT_EQ(first.status, 200);
  EXPECT_TRUE(first.body == large) << "the large body came back different, " << first.body.size() << " bytes";
  EXPECT_EQ(second.body, "HTTP GET Method (Success)\n");
}

// A Range of a file sent through TLS: read from its place in the file.
TEST_F(Https, APartOfALargeFileCrossesIntact) {
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  std::uint16_t port = https_port(verbd);
  ASSERT_NE(port, 0) << verbd.err();
  std::string large;
  for (int i = 0; large.size() < 1024 * 1024; ++i) large += std::to_string(i) + ",";
  TlsClient client(port, trusting());
  EXPECT_EQ(client.request("PUT", "/large", large).status, 201);
  client.send(
      "GET /large HTTP/1.1\r\nHost: x\r\nRange: bytes=300000-799999\r\n\r\n"
      "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
  Reply part = client.read_reply(), next = client.read_reply();
  EXPECT_EQ(part.status, 206);
  EXPECT_TRUE(part.body == large.substr(300000, 500000))
      << "the part came back different, " << part.body.size() << " bytes";
  EXPECT_EQ(next.body, "HTTP GET Method (Success)\n");
}

TEST_F(Https, RefusesTls11AndAClientThatSpeaksNoHttp11) {
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  std::uint16_t port = https_port(verbd);
  ASSERT_NE(port, 0) << verbd.err();
  TlsOptions old = trusting();
  old.max_version = TLS1_1_VERSION;
  EXPECT_THROW(TlsClient(port, old), std::runtime_error);
  TlsOptions h2_only = trusting();
  h2_only.alpn = "h2";
  EXPECT_THROW(TlsClient(port, h2_only), std::runtime_error);  // no_application_protocol (RFC 7301)
  TlsOptions tls12 = trusting();
  tls12.max_version = TLS1_2_VERSION;
  EXPECT_EQ(TlsClient(port, tls12).protocol(), "TLSv1.2");
  TlsOptions no_alpn = trusting();
  no_alpn.alpn = "";
  EXPECT_EQ(TlsClient(port, no_alpn).request("GET", "/index.html").status, 200);
}

// Ticket keys are shared by the worker processes: a session resumes
// whichever of them the next connection meets.
TEST_F(Https, SessionsResumeAcrossWorkerProcesses) {
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  std::uint16_t port = https_port(verbd);
  ASSERT_NE(port, 0) << verbd.err();
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    TlsOptions options = trusting();
    options.max_version = version;
    SSL_SESSION* session;
    {
      TlsClient first(port, options);
      first.request("GET", "/index.html");  // TLS 1.3 tickets come after the handshake
      session = first.session();
    }
    EXPECT_EQ(SSL_SESSION_is_resumable(session), 1);
    options.resume = session;
    int resumed = 0;
    for (int i = 0; i < 8; ++i) resumed += TlsClient(port, options).resumed();
    SSL_SESSION_free(session);
    EXPECT_EQ(resumed, 8) << "of 8 connections spread over 2 processes, TLS version " << version;
  }
}

TEST_F(Https, SighupLoadsANewCertificateAndKeepsTheOldWhenTheNewIsBad) {
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  std::uint16_t port = https_port(verbd);
  ASSERT_NE(port, 0) << verbd.err();
  TlsClient before(port, trusting());
  EXPECT_EQ(before.subject(), "/CN=localhost-a");

  make_certificate(folder_ / "cert.pem", folder_ / "key.pem", "localhost-b");
  verbd.signal(SIGHUP);
  bool swapped = false;
  for (int i = 0; i < 250 && !swapped; ++i) {
    try {  // a worker that has not reloaded yet sends the old one, which this client no longer trusts
      swapped = TlsClient(port, trusting()).subject() == "/CN=localhost-b" &&
                TlsClient(port, trusting()).subject() == "/CN=localhost-b";
    } catch (const std::runtime_error&) {
    }
    if (!swapped) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(swapped) << verbd.err();
  EXPECT_EQ(before.request("GET", "/index.html").status, 200);  // the open connection goes on

  folder_.write("key.pem", "not a key\n");
  verbd.signal(SIGHUP);
  EXPECT_TRUE(verbd.err_shows("SIGHUP: TLS certificate not reloaded, the old one stays in force: cannot load the "
                              "TLS key " + (folder_ / "key.pem").string()))
      << verbd.err();
  TlsClient after(port, trusting());
  EXPECT_EQ(after.subject(), "/CN=localhost-b");
  EXPECT_EQ(after.request("GET", "/index.html").status, 200);
  verbd.signal(SIGTERM);
  EXPECT_EQ(verbd.exit_code(), 0);
}

TEST_F(Https, ABadKeyOrCertificateStopsTheStartNamingTheFile) {
  folder_.write("key.pem", "not a key\n");
  Process bad_key(folder_, VERBD_BINARY, {"--config", config()});
  EXPECT_EQ(bad_key.exit_code(), 1);
  EXPECT_NE(bad_key.err().find("verbd: cannot load the TLS key " + (folder_ / "key.pem").string() + ": "),
            std::string::npos)
      << bad_key.err();

  make_certificate(folder_ / "other.pem", folder_ / "key.pem", "other");  // a key of another certificate
  Process mismatch(folder_, VERBD_BINARY, {"--config", config()});
  EXPECT_EQ(mismatch.exit_code(), 1);
  EXPECT_NE(mismatch.err().find("verbd: the TLS key " + (folder_ / "key.pem").string() +
                                " does not belong to the certificate " + (folder_ / "cert.pem").string()),
            std::string::npos)
      << mismatch.err();

  fs::remove(folder_ / "cert.pem");
  Process missing(folder_, VERBD_BINARY, {"--check", "--config", config()});
  EXPECT_EQ(missing.exit_code(), 1);
  EXPECT_NE(missing.err().find("verbd: cannot load the TLS certificate " + (folder_ / "cert.pem").string()),
            std::string::npos)
      << missing.err();
}

TEST_F(Https, VerbSpeaksHttpsAndChecksTheCertificate) {
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  std::uint16_t port = https_port(verbd);
  ASSERT_NE(port, 0) << verbd.err();
  std::string url = "https://127.0.0.1:" + std::to_string(port) + "/index.html";
  Process trusted(folder_, VERB_BINARY, {"GET", url, "--cacert", (folder_ / "cert.pem").string()});
  EXPECT_EQ(trusted.exit_code(), 0) << trusted.err();
  EXPECT_EQ(trusted.out(), "HTTP GET Method (Success)\n");
  Process by_name(folder_, VERB_BINARY,
                  {"GET", "https://localhost:" + std::to_string(port) + "/index.html", "--cacert",
                   (folder_ / "cert.pem").string()});
  EXPECT_EQ(by_name.exit_code(), 0) << by_name.err();

  Process untrusted(folder_, VERB_BINARY, {"GET", url});
  EXPECT_EQ(untrusted.exit_code(), 3);
  EXPECT_NE(untrusted.err().find("the server's certificate is not trusted (self-signed certificate"),
            std::string::npos)
      << untrusted.err();
  Process insecure(folder_, VERB_BINARY, {"GET", url, "--insecure"});
  EXPECT_EQ(insecure.exit_code(), 0) << insecure.err();
  EXPECT_EQ(insecure.out(), "HTTP GET Method (Success)\n");
}

}  // namespace
}  // namespace verbd::test
