// Each entry point of the host's services table, called as a plugin would
// call it through <verbd/plugin.h>, including with what a careless or
// outdated plugin might hand it: it must answer with a status, never crash
// or throw.
#include "dispatch/services.hpp"

#include "plugin/plugin.hpp"
#include "store/store.hpp"

#include "../../support/temp_folder.hpp"

#include <verbd/detail/rules.hpp>
#include <verbd/plugin.hpp>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <gtest/gtest.h>

#include <fcntl.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace verbd::dispatch {
namespace {

using verbd::detail::str;

verbd_entry sized_entry() {
  verbd_entry entry{};
  entry.struct_size = sizeof entry;
  return entry;
}

// A sink that takes everything, or fails once it has taken `limit` bytes.
struct Collector {
  std::string bytes;
  std::size_t limit = std::string::npos;
  static std::int32_t append(void* target, const char* data, std::size_t size) {
    auto& self = *static_cast<Collector*>(target);
    if (self.bytes.size() + size > self.limit) return VERBD_NO_MEMORY;
    self.bytes.append(data, size);
    return VERBD_OK;
  }
  verbd_sink sink() { return {sizeof(verbd_sink), this, &append}; }
};

class ServicesTest : public ::testing::Test {
 protected:
  ServicesTest() : log_("plugin test", std::make_shared<spdlog::sinks::ostream_sink_st>(lines_)) {
    log_.set_pattern("%l %v");
    log_.set_level(spdlog::level::trace);
    context_.log = &log_;
    context_.settings = {{"name", std::string("value")}, {"count", std::int64_t{3}}, {"on", true}};
    context_.store = store_.get();
    table_.context = &context_;
  }

  std::int32_t write(std::string_view path, std::string_view body, verbd_entry* entry = nullptr,
                     std::int32_t mode = VERBD_WRITE_REPLACE) {
    verbd_write w{sizeof(verbd_write), mode, str(path), str(body), str(""), nullptr};
    verbd_entry ignored = sized_entry();
    std::int32_t created = 0;
    return table_.store_write(table_.context, &w, entry ? entry : &ignored, &created);
  }

  std::ostringstream lines_;
  spdlog::logger log_;
  std::unique_ptr<store::Store> store_ = store::make_memory_store();
  plugin::Context context_;
  verbd_host table_ = services_table();
};

TEST_F(ServicesTest, TheTableIsWhole) {
  EXPECT_EQ(table_.struct_size, sizeof(verbd_host));
  EXPECT_EQ(table_.abi_major, VERBD_ABI_MAJOR);
  EXPECT_EQ(table_.abi_minor, VERBD_ABI_MINOR);
  for (auto function : {(void*)table_.log, (void*)table_.setting_string, (void*)table_.setting_int,
                        (void*)table_.setting_bool, (void*)table_.store_stat, (void*)table_.store_read,
                        (void*)table_.store_write, (void*)table_.store_remove, (void*)table_.store_list,
                        (void*)table_.response_status, (void*)table_.response_header,
                        (void*)table_.response_append, (void*)table_.response_resource,
                        (void*)table_.content_read, (void*)table_.response_send, (void*)table_.response_file})
    EXPECT_NE(function, nullptr);
}

TEST_F(ServicesTest, LogWritesToThePluginsLoggerAtTheNearestLevel) {
  table_.log(table_.context, VERBD_LOG_WARN, str("careful"));
  table_.log(table_.context, 99, str("too loud"));
  table_.log(table_.context, -5, str("too quiet"));
  EXPECT_EQ(lines_.str(), "warning careful\nerror too loud\ntrace too quiet\n");
}

TEST_F(ServicesTest, SettingsComeTypedOrNotAtAll) {
  verbd_str text{};
  std::int64_t number = 0;
  std::int32_t flag = 0;
  EXPECT_EQ(table_.setting_string(table_.context, str("name"), &text), VERBD_OK);
  EXPECT_EQ(detail::view(text), "value");
  EXPECT_EQ(table_.setting_int(table_.context, str("count"), &number), VERBD_OK);
  EXPECT_EQ(number, 3);
  EXPECT_EQ(table_.setting_bool(table_.context, str("on"), &flag), VERBD_OK);
  EXPECT_EQ(flag, 1);
  EXPECT_EQ(table_.setting_int(table_.context, str("absent"), &number), VERBD_NOT_FOUND);
  EXPECT_EQ(table_.setting_int(table_.context, str("name"), &number), VERBD_BAD_ARGUMENT);
  EXPECT_EQ(table_.setting_string(table_.context, str("count"), &text), VERBD_BAD_ARGUMENT);
  EXPECT_EQ(table_.setting_bool(table_.context, str("name"), &flag), VERBD_BAD_ARGUMENT);
  EXPECT_EQ(table_.setting_string(table_.context, str("name"), nullptr), VERBD_BAD_ARGUMENT);
  EXPECT_EQ(table_.setting_int(table_.context, str("count"), nullptr), VERBD_BAD_ARGUMENT);
  EXPECT_EQ(table_.setting_bool(table_.context, str("on"), nullptr), VERBD_BAD_ARGUMENT);
}

TEST_F(ServicesTest, StoreWriteReportsCreationAndFillsTheEntry) {
  verbd_write w{sizeof(verbd_write), VERBD_WRITE_REPLACE, str("/a.txt"), str("hello"), str(""), nullptr};
  verbd_entry entry = sized_entry();
  std::int32_t created = 0;
  ASSERT_EQ(table_.store_write(table_.context, &w, &entry, &created), VERBD_OK);
  EXPECT_EQ(created, 1);
  EXPECT_EQ(entry.struct_size, sizeof entry);
  EXPECT_EQ(entry.kind, VERBD_ENTRY_RESOURCE);
  EXPECT_EQ(entry.size, 5u);
  EXPECT_STREQ(entry.media_type, "text/plain; charset=utf-8");
  ASSERT_EQ(table_.store_write(table_.context, &w, &entry, &created), VERBD_OK);
  EXPECT_EQ(created, 0);
  w.mode = VERBD_WRITE_CREATE;
  EXPECT_EQ(table_.store_write(table_.context, &w, &entry, &created), VERBD_EXISTS);
}

TEST_F(ServicesTest, StoreWriteRefusesWhatItCannotTrust) {
  verbd_entry entry = sized_entry();
  std::int32_t created = 0;
  verbd_write w{sizeof(verbd_write), VERBD_WRITE_REPLACE, str("/a"), str("x"), str(""), nullptr};
  EXPECT_EQ(table_.store_write(table_.context, nullptr, &entry, &created), VERBD_BAD_ARGUMENT);
  EXPECT_EQ(table_.store_write(table_.context, &w, nullptr, &created), VERBD_BAD_ARGUMENT);
  EXPECT_EQ(table_.store_write(table_.context, &w, &entry, nullptr), VERBD_BAD_ARGUMENT);
  verbd_write small = w;
  small.struct_size = verbd::detail::write_size_1_0 - 1;
  EXPECT_EQ(table_.store_write(table_.context, &small, &entry, &created), VERBD_BAD_ARGUMENT);
  verbd_write odd_mode = w;
  odd_mode.mode = 7;
  EXPECT_EQ(table_.store_write(table_.context, &odd_mode, &entry, &created), VERBD_BAD_ARGUMENT);
  verbd_entry small_entry = sized_entry();
  small_entry.struct_size = 8;
  EXPECT_EQ(table_.store_write(table_.context, &w, &small_entry, &created), VERBD_BAD_ARGUMENT);
  std::string bytes;
  verbd_entry stat = sized_entry();
  EXPECT_EQ(table_.store_stat(table_.context, str("/a"), &stat), VERBD_NOT_FOUND);  // nothing was written
}

TEST_F(ServicesTest, StoreStatFillsOnlyWhatTheEntryHolds) {
  ASSERT_EQ(write("/a", "abc"), VERBD_OK);
  verbd_entry entry = sized_entry();
  ASSERT_EQ(table_.store_stat(table_.context, str("/a"), &entry), VERBD_OK);
  EXPECT_EQ(entry.kind, VERBD_ENTRY_RESOURCE);
  EXPECT_EQ(entry.size, 3u);
  EXPECT_EQ(entry.etag[0], '"');
  ASSERT_EQ(table_.store_stat(table_.context, str("/"), &entry), VERBD_OK);
  EXPECT_EQ(entry.kind, VERBD_ENTRY_COLLECTION);
  EXPECT_EQ(table_.store_stat(table_.context, str("/missing"), &entry), VERBD_NOT_FOUND);
  EXPECT_EQ(entry.kind, VERBD_ENTRY_NONE);
  EXPECT_EQ(entry.struct_size, sizeof entry);
  EXPECT_EQ(table_.store_stat(table_.context, str("/a"), nullptr), VERBD_BAD_ARGUMENT);
  verbd_entry unsized{};
  EXPECT_EQ(table_.store_stat(table_.context, str("/a"), &unsized), VERBD_BAD_ARGUMENT);
  EXPECT_EQ(table_.store_stat(table_.context, str("relative"), &entry), VERBD_BAD_ARGUMENT);
}

// A plugin of a later minor version may pass a larger entry (a host of that
// version fills more of it): this host fills what it knows and leaves the rest.
TEST_F(ServicesTest, AnEntryLargerThanTheHostsIsFilledAsFarAsTheHostKnows) {
  ASSERT_EQ(write("/a", "abc"), VERBD_OK);
  struct Later {
    verbd_entry known;
    char later_fields[16];
  } later;
  std::memset(&later, 0x5a, sizeof later);
  later.known.struct_size = sizeof later;
  ASSERT_EQ(table_.store_stat(table_.context, str("/a"), &later.known), VERBD_OK);
  EXPECT_EQ(later.known.struct_size, sizeof later);
  EXPECT_EQ(later.known.kind, VERBD_ENTRY_RESOURCE);
  EXPECT_EQ(later.known.size, 3u);
  for (char c : later.later_fields) EXPECT_EQ(c, 0x5a);
}

TEST_F(ServicesTest, StoreReadHandsTheBytesToTheSinkAndItsFailureBack) {
  ASSERT_EQ(write("/a", "hello"), VERBD_OK);
  Collector all;
  verbd_sink sink = all.sink();
  verbd_entry entry = sized_entry();
  ASSERT_EQ(table_.store_read(table_.context, str("/a"), &sink, &entry), VERBD_OK);
  EXPECT_EQ(all.bytes, "hello");
  EXPECT_EQ(entry.size, 5u);

  Collector refusing;
  refusing.limit = 2;
  verbd_sink failing = refusing.sink();
  EXPECT_EQ(table_.store_read(table_.context, str("/a"), &failing, &entry), VERBD_NO_MEMORY);
  EXPECT_EQ(table_.store_read(table_.context, str("/missing"), &sink, &entry), VERBD_NOT_FOUND);
  EXPECT_EQ(table_.store_read(table_.context, str("/"), &sink, &entry), VERBD_IS_COLLECTION);

  EXPECT_EQ(table_.store_read(table_.context, str("/a"), nullptr, &entry), VERBD_BAD_ARGUMENT);
  verbd_sink unsized = sink;
  unsized.struct_size = 0;
  EXPECT_EQ(table_.store_read(table_.context, str("/a"), &unsized, &entry), VERBD_BAD_ARGUMENT);
  verbd_sink no_function = sink;
  no_function.append = nullptr;
  EXPECT_EQ(table_.store_read(table_.context, str("/a"), &no_function, &entry), VERBD_BAD_ARGUMENT);
}

TEST_F(ServicesTest, StoreListAndRemove) {
  ASSERT_EQ(write("/d/a", "1"), VERBD_OK);
  ASSERT_EQ(write("/d/sub/b", "2"), VERBD_OK);
  Collector lines;
  verbd_sink sink = lines.sink();
  ASSERT_EQ(table_.store_list(table_.context, str("/d/"), &sink), VERBD_OK);
  EXPECT_EQ(lines.bytes, "a\nsub/\n");
  EXPECT_EQ(table_.store_list(table_.context, str("/d/"), nullptr), VERBD_BAD_ARGUMENT);
  Collector refusing;
  refusing.limit = 0;
  verbd_sink failing = refusing.sink();
  EXPECT_EQ(table_.store_list(table_.context, str("/d/"), &failing), VERBD_NO_MEMORY);

  EXPECT_EQ(table_.store_remove(table_.context, str("/d/")), VERBD_OK);
  EXPECT_EQ(table_.store_remove(table_.context, str("/d/")), VERBD_NOT_FOUND);
  EXPECT_EQ(table_.store_remove(table_.context, str("/../x")), VERBD_BAD_ARGUMENT);
}

// The response functions, on a Draft as the dispatcher makes one.
class ResponseServicesTest : public ServicesTest {
 protected:
  std::string wire() {
    std::string out;
    response_.serialize(out, {"verbd", true, 11});
    if (Fd file = response_.file_to_send(); file.ok())
      append_file_start(file.get(), response_.content_length(), out);
    return out;
  }

  http::Response response_;
  Draft draft_{response_, *store_, false, {}};
};

TEST_F(ResponseServicesTest, StatusHeaderAndBodyGoIntoTheResponse) {
  response_.reset(false);
  table_.response_status(draft_.handle(), 201);
  table_.response_header(draft_.handle(), str("Location"), str("/x"));
  table_.response_append(draft_.handle(), str("made"));
  EXPECT_FALSE(draft_.broken);
  std::string out = wire();
  EXPECT_EQ(out.rfind("HTTP/1.1 201 Created\r\n", 0), 0u);
  EXPECT_NE(out.find("Location: /x\r\n"), std::string::npos);
  EXPECT_TRUE(out.ends_with("\r\n\r\nmade"));
}

TEST_F(ResponseServicesTest, WhatBreaksTheContractIsNotedNotSent) {
  struct Case {
    void (*act)(const verbd_host&, verbd_response*);
    std::string problem;
  };
  const Case cases[] = {
      {[](const verbd_host& t, verbd_response* r) { t.response_status(r, 99); },
       "status 99 is outside 200-599"},
      {[](const verbd_host& t, verbd_response* r) { t.response_status(r, 600); },
       "status 600 is outside 200-599"},
      {[](const verbd_host& t, verbd_response* r) { t.response_header(r, str("content-length"), str("1")); },
       "header content-length belongs to the host"},
      {[](const verbd_host& t, verbd_response* r) { t.response_header(r, str("Server"), str("x")); },
       "header Server belongs to the host"},
      {[](const verbd_host& t, verbd_response* r) { t.response_header(r, str("X-A"), str("a\r\nB: c")); },
       "header X-A has CR, LF or NUL in its value"},
      {[](const verbd_host& t, verbd_response* r) { t.response_header(r, str("Bad Name"), str("x")); },
       "header name 'Bad Name' is not a token"},
  };
  for (const auto& c : cases) {
    response_.reset(false);
    Draft draft{response_, *store_, false, {}};
    c.act(table_, draft.handle());
    table_.response_status(draft.handle(), 600);  // a second fault: the first is the one told
    EXPECT_TRUE(draft.broken) << c.problem;
    EXPECT_EQ(draft.problem, c.problem);
    EXPECT_EQ(response_.status(), 200);
    std::string out = wire();
    EXPECT_EQ(out.find("Bad Name"), std::string::npos);
    EXPECT_EQ(out.find("B: c"), std::string::npos);
  }
  response_.reset(false);
  Draft fine{response_, *store_, false, {}};
  table_.response_header(fine.handle(), str("X-Fine"), str("ok\tvalue"));
  EXPECT_FALSE(fine.broken);
}

// A Streamer that keeps what it is handed.
struct KeepingStreamer : Streamer {
  bool begin(http::Response& head) override {
    head.set_streamed_body(std::make_shared<http::BodyStream>());  // as PooledCall does
    head.serialize(wire, {"verbd", true, 11});
    return begun = true;
  }
  bool send(std::string_view piece) override {
    pieces += piece;
    return taking;
  }
  void end(bool whole) noexcept override { complete = whole; }
  bool began() const noexcept override { return begun; }
  std::string wire, pieces;
  bool begun = false, taking = true, complete = false;
};

TEST_F(ResponseServicesTest, TheFirstPieceSendsTheHeadAndWhatWasAppended) {
  KeepingStreamer streamer;
  response_.reset(false);
  draft_.streamer = &streamer;
  table_.response_header(draft_.handle(), str("X-A"), str("1"));
  table_.response_append(draft_.handle(), str("before "));
  EXPECT_EQ(table_.response_send(draft_.handle(), str("first ")), VERBD_OK);
  EXPECT_NE(streamer.wire.find("X-A: 1\r\nTransfer-Encoding: chunked\r\n"), std::string::npos)
      << streamer.wire;
  EXPECT_EQ(streamer.wire.find("Content-Length"), std::string::npos);
  EXPECT_EQ(table_.response_send(draft_.handle(), str("second")), VERBD_OK);
  EXPECT_EQ(streamer.pieces, "before first second");
  // The head has gone: nothing else may change the response.
  table_.response_header(draft_.handle(), str("X-B"), str("2"));
  EXPECT_TRUE(draft_.broken);
  EXPECT_EQ(draft_.problem, "response_header after response_send had sent the head");
  streamer.taking = false;
  draft_.broken = false;
  EXPECT_EQ(table_.response_send(draft_.handle(), str("third")), VERBD_CLIENT_GONE);
}

TEST_F(ResponseServicesTest, PiecesAreRefusedOnTheEventLoopAndDroppedForHead) {
  response_.reset(false);
  EXPECT_EQ(table_.response_send(draft_.handle(), str("x")), VERBD_WOULD_BLOCK);  // no streamer
  KeepingStreamer streamer;
  response_.reset(true);
  Draft head{response_, *store_, false, {}};
  head.streamer = &streamer;
  EXPECT_EQ(table_.response_send(head.handle(), str("x")), VERBD_OK);
  EXPECT_FALSE(streamer.begun);
  std::string out = wire();
  EXPECT_EQ(out.find("Content-Length"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\n")) << out;
}

TEST_F(ResponseServicesTest, AFileThePluginMadeBecomesTheBody) {
  test::TempFolder folder;
  auto path = folder / "made";
  {
    std::ofstream made(path);
    made << "made by the plugin";
  }
  response_.reset(false);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_EQ(table_.response_file(draft_.handle(), fd), VERBD_OK);
  std::string out = wire();
  EXPECT_NE(out.find("Content-Length: 18\r\n"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\nmade by the plugin")) << out;
  EXPECT_EQ(table_.response_file(draft_.handle(), ::open(folder.path().c_str(), O_RDONLY | O_CLOEXEC)),
            VERBD_BAD_ARGUMENT);  // a folder, closed all the same
  EXPECT_EQ(table_.response_file(draft_.handle(), -1), VERBD_BAD_ARGUMENT);
}

TEST_F(ResponseServicesTest, AResourceIsReadForGetAndOnlyMeasuredForHead) {
  ASSERT_EQ(write("/page.html", "<p>hi</p>"), VERBD_OK);
  verbd_entry entry = sized_entry();
  response_.reset(false);
  ASSERT_EQ(table_.response_resource(draft_.handle(), str("/page.html"), &entry), VERBD_OK);
  EXPECT_EQ(entry.size, 9u);
  std::string got = wire();
  EXPECT_NE(got.find("Content-Length: 9\r\n"), std::string::npos) << got;
  EXPECT_TRUE(got.ends_with("\r\n\r\n<p>hi</p>")) << got;

  response_.reset(true);
  ASSERT_EQ(table_.response_resource(draft_.handle(), str("/page.html"), &entry), VERBD_OK);
  got = wire();
  EXPECT_NE(got.find("Content-Length: 9\r\n"), std::string::npos) << got;
  EXPECT_TRUE(got.ends_with("\r\n\r\n")) << got;

  response_.reset(false);
  table_.response_append(draft_.handle(), str("partial"));
  EXPECT_EQ(table_.response_resource(draft_.handle(), str("/missing"), &entry), VERBD_NOT_FOUND);
  EXPECT_EQ(response_.content_length(), 0u);  // the missing resource leaves no body behind
  EXPECT_EQ(table_.response_resource(draft_.handle(), str("/page.html"), nullptr), VERBD_BAD_ARGUMENT);
}

// A plugin that appends after a large resource (sent from its file by the
// files store) gets both in the body.
TEST_F(ResponseServicesTest, BytesAppendedAfterALargeResourceFollowIt) {
  test::TempFolder folder;
  auto files = store::make_files_store({folder / "root", false});
  std::string large(store::Store::send_from_file_bytes + 1, 'a');
  folder.write("root/large.bin", large);
  Draft draft{response_, *files, false, {}};
  response_.reset(false);
  verbd_entry entry = sized_entry();
  ASSERT_EQ(table_.response_resource(draft.handle(), str("/large.bin"), &entry), VERBD_OK);
  table_.response_append(draft.handle(), str("!"));
  EXPECT_EQ(response_.content_length(), large.size() + 1);
  EXPECT_TRUE(wire().ends_with("\r\n\r\n" + large + "!"));
}

// The C++ layer's sink cannot throw into the host: a string that cannot
// grow reports VERBD_NO_MEMORY.
TEST(Sinks, AStringSinkReportsFailureAsAStatus) {
  std::string bytes;
  verbd_sink sink = verbd::detail::string_sink(bytes);
  EXPECT_EQ(sink.append(sink.target, "abc", 3), VERBD_OK);
  EXPECT_EQ(bytes, "abc");
  volatile std::size_t too_many = bytes.max_size();  // volatile: the compiler must not see the copy's size
  EXPECT_EQ(sink.append(sink.target, "abc", too_many), VERBD_NO_MEMORY);
  EXPECT_EQ(bytes, "abc");
}

}  // namespace
}  // namespace verbd::dispatch

namespace verbd::dispatch {
namespace {

// A write of ABI 1.0 ends before `content`: its body is `body`, whatever
// lies beyond its struct_size.
TEST_F(ServicesTest, AWriteOfAnOlderPluginEndsBeforeItsContent) {
  Content stray{"not this", {}};
  verbd_write w{
      verbd::detail::write_size_1_0, VERBD_WRITE_REPLACE, str("/a"), str("this"), str(""), stray.handle()};
  verbd_entry entry = sized_entry();
  std::int32_t created = 0;
  ASSERT_EQ(table_.store_write(table_.context, &w, &entry, &created), VERBD_OK);
  std::string bytes;
  verbd_entry read = sized_entry();
  ASSERT_EQ(store_->read("/a", &bytes, read), VERBD_OK);
  EXPECT_EQ(bytes, "this");
}

// The request body, in memory or in its spool file, read in pieces and
// written whole through verbd_write.content.
TEST_F(ServicesTest, ContentIsReadInPiecesAndWrittenWholeFromMemoryOrFile) {
  std::string body = "0123456789abcdef";
  std::FILE* spool = std::tmpfile();
  ASSERT_NE(spool, nullptr);
  ASSERT_EQ(std::fwrite(body.data(), 1, body.size(), spool), body.size());
  std::fflush(spool);
  Content in_memory{body, {}};
  Content in_file{{}, {::fileno(spool), body.size(), false}};
  for (const Content* content : {&in_memory, &in_file}) {
    std::string pieces;
    char piece[5];
    std::size_t got = 0;
    for (std::uint64_t at = 0;; at += got) {
      ASSERT_EQ(table_.content_read(content->handle(), at, piece, sizeof piece, &got), VERBD_OK);
      if (got == 0) break;
      pieces.append(piece, got);
    }
    EXPECT_EQ(pieces, body);
    verbd_write w{sizeof(verbd_write), VERBD_WRITE_APPEND, str("/log"), str("ignored"), str(""),
                  content->handle()};
    verbd_entry entry = sized_entry();
    std::int32_t created = 0;
    ASSERT_EQ(table_.store_write(table_.context, &w, &entry, &created), VERBD_OK);
  }
  std::string stored;
  verbd_entry entry = sized_entry();
  ASSERT_EQ(store_->read("/log", &stored, entry), VERBD_OK);
  EXPECT_EQ(stored, body + body);
  std::size_t got = 1;
  EXPECT_EQ(table_.content_read(nullptr, 0, nullptr, 0, &got), VERBD_BAD_ARGUMENT);
  EXPECT_EQ(table_.content_read(in_memory.handle(), 100, nullptr, 0, &got), VERBD_OK);
  EXPECT_EQ(got, 0u);
  std::fclose(spool);
}

}  // namespace
}  // namespace verbd::dispatch
