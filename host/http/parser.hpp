// The request parser: Boost.Beast's basic_parser, which does the RFC 9112
// grammar, Content-Length and chunked framing, plus the checks Beast leaves
// to its user (Host, Transfer-Encoding codings, versions, limits).
//
// Feed it what the connection has buffered; it consumes what it has parsed.
// One parser per request: make a new one (it does not allocate) each time.
#pragma once

#include "http/request.hpp"
#include "http/spool_writer.hpp"

#include <boost/beast/http/basic_parser.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace verbd::http {

// From [limits]; config::Limits holds their defaults.
struct ParserLimits {
  std::size_t max_request_line_bytes = 0;
  std::size_t max_header_bytes = 0;
  std::uint64_t max_body_bytes = 0;
  // A larger body goes to a file as it arrives (see Spooler).
  std::uint64_t body_in_memory_bytes = UINT64_MAX;
};

// Where a body too large for memory is written as it arrives: an unnamed
// file in a place its store can adopt it from without copying
// (store::Store::open_spool). A closed Fd, with errno set, when it cannot.
class Spooler {
 public:
  virtual Fd open_spool() = 0;

 protected:
  ~Spooler() = default;
};

// Why a request was refused before it reached a plugin.
struct Refusal {
  int status = 0;  // 0: nothing refused
  const char* reason = "";
};

class Parser final : private boost::beast::http::basic_parser<true> {
 public:
  enum class State { header, body, complete, refused };

  // Without a spooler, every body is kept in memory.
  Parser(const ParserLimits& limits, Request& request, Spooler* spooler = nullptr);
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Parses what it can of `input`; returns how many bytes it used up. The
  // bytes are the connection's own: a request line of HTTP/1.2 to 1.9 has
  // its minor digit rewritten to 1, the version served (RFC 9110 §2.5).
  std::size_t feed(std::span<char> input);

  State state() const noexcept { return state_; }
  const Refusal& refusal() const noexcept { return refusal_; }
  // Whether the request announced a body that is still to come.
  bool body_pending() const noexcept { return state_ == State::body; }
  // What writes a spooled body to its file; null while the body is in memory.
  // The request is whole only once it has drained.
  SpoolWriter* spool() const noexcept { return spool_.get(); }

 private:
  using Base = boost::beast::http::basic_parser<true>;

  void on_request_impl(boost::beast::http::verb, boost::beast::string_view method,
                       boost::beast::string_view target, int version, boost::beast::error_code& ec) override;
  void on_response_impl(int, boost::beast::string_view, int, boost::beast::error_code&) override {}
  void on_field_impl(boost::beast::http::field field, boost::beast::string_view name,
                     boost::beast::string_view value, boost::beast::error_code& ec) override;
  void on_header_impl(boost::beast::error_code& ec) override;
  void on_body_init_impl(boost::optional<std::uint64_t> const& length, boost::beast::error_code& ec) override;
  std::size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t size, boost::beast::string_view,
                            boost::beast::error_code&) override;
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                 boost::beast::error_code& ec) override;
  void on_finish_impl(boost::beast::error_code& ec) override;

  void refuse(int status, const char* reason, boost::beast::error_code& ec);
  void refuse_for(const boost::beast::error_code& ec);
  void stop(Refusal refusal);
  std::size_t hand_to_beast(std::span<const char> part);
  bool take_whole_chunk_lines(std::span<const char> input);
  static std::size_t skip_empty_lines(std::span<const char> input);
  bool take_whole_head(std::span<char> input);
  bool check_version(std::span<char> request_line);
  void check_transfer_coding(boost::beast::error_code& ec);
  void check_host(boost::beast::error_code& ec);
  void check_expectation(boost::beast::error_code& ec);
  std::size_t keep(std::string_view text);
  void take_body(std::string_view bytes, boost::beast::error_code& ec);
  void spool(std::string_view bytes);

  ParserLimits limits_;
  Request& request_;
  Spooler* spooler_;
  State state_ = State::header;
  Refusal refusal_;
  bool got_request_line_ = false;
  bool got_header_ = false;
  std::size_t head_scanned_ = 0;  // bytes of the head whose line ends are checked
  int host_fields_ = 0;
  std::string transfer_codings_;  // every Transfer-Encoding value, comma-joined
  bool saw_transfer_encoding_ = false;
  std::uint64_t chunk_data_left_ = 0;  // of the chunk being read; 0 while a chunk line is due
  std::uint64_t chunks_read_ = 0;      // chunks with data so far
  std::shared_ptr<SpoolWriter> spool_;  // once the body goes to a file
};

}  // namespace verbd::http
