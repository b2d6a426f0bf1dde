/* verbd plugin ABI — the C boundary between the verbd host and a method plugin.
 *
 * This header is the contract. It is plain C so that neither side depends on
 * the other's compiler, standard library or exception model.
 *
 * A plugin is a shared library that exports one object by name:
 *
 *     const verbd_plugin_descriptor verbd_plugin;     (Required)
 *
 * The host reads the descriptor before calling anything: it checks `magic`,
 * then `abi_major` (must equal the host's), then `abi_minor` (must not be
 * newer than the host's), then `struct_size`. Only then does it call
 * `create`. Every host service reaches the plugin through `verbd_host`.
 *
 * Versions. VERBD_ABI_MAJOR.VERBD_ABI_MINOR is the version of this header.
 *   - A plugin built for M.m loads in a host of M.n when n >= m. A host
 *     refuses any other major, and any newer minor, with a message saying
 *     what to rebuild.
 *   - ABI_MINOR rises when something is added: a field at the end of a
 *     struct, a function at the end of verbd_host, a status, a flag. Nothing
 *     that a plugin of an older minor relies on changes meaning.
 *   - ABI_MAJOR rises for anything else: a field moved, removed or retyped, a
 *     meaning changed. 1.0 is the first settled version.
 *   - 1.1 added verbd_plugin_descriptor.flags (VERBD_PLUGIN_NEVER_BLOCKS) and
 *     VERBD_WOULD_BLOCK.
 *   - 1.2 added large bodies: verbd_request.body_size and .content,
 *     verbd_host.content_read, verbd_write.content. A body larger than
 *     [limits] body_in_memory_bytes is no longer in verbd_request.body; the
 *     host answers 413 for it instead of calling a plugin built for 1.0 or
 *     1.1, which would take the empty `body` for the whole.
 *   - 1.3 added responses sent as they are made: verbd_host.response_send
 *     (a body in pieces, of a length not known in advance) and
 *     verbd_host.response_file (an open file the plugin made), and
 *     VERBD_CLIENT_GONE.
 *   - 1.4 added what WebDAV (RFC 4918) needs: verbd_request.destination,
 *     verbd_entry.created_unix,
 *     the store services store_make_collection, store_copy, store_move,
 *     store_properties and store_change_properties (dead properties), the
 *     lock services lock_acquire, lock_refresh, lock_release and
 *     lock_discover, and VERBD_LOCKED and VERBD_NO_PARENT. The host
 *     evaluates the If header and enforces locks before it calls any
 *     plugin (see "Locks and the If header" below).
 *   - A plugin that wants a service added after 1.0 checks
 *     `verbd_host.abi_minor` (or that `struct_size` covers the function)
 *     before calling it; <verbd/plugin.hpp> does this for its users.
 *
 * Structs that can grow carry `struct_size` as their first field: the size
 * of the struct as the side that filled it was compiled. A reader uses only
 * the fields that fit inside it, and takes those that do not as absent. Each
 * struct says who writes it. Where the host writes into a struct the plugin
 * provides (verbd_entry), the plugin sets `struct_size` first and the host
 * writes only what fits; a struct smaller than its 1.0 size is refused with
 * VERBD_BAD_ARGUMENT. verbd_str and verbd_header never change.
 *
 * Neither side lets a C++ exception, a longjmp or a signal handler's jump
 * cross this boundary. Every function here returns; failures are statuses.
 * <verbd/plugin.hpp> catches everything at the plugin's edge; the host does
 * the same at its own.
 *
 * Strings are `verbd_str`: a pointer and a length, not NUL-terminated unless
 * a comment says so. Strings the host hands to a plugin stay valid for the
 * duration of the call that handed them over, unless a comment says longer.
 */
#ifndef VERBD_PLUGIN_H
#define VERBD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VERBD_PLUGIN_MAGIC 0x56524244u /* "VRBD" */
#define VERBD_ABI_MAJOR 1
#define VERBD_ABI_MINOR 4

/* The exported symbol the host looks up. */
#define VERBD_DESCRIPTOR_SYMBOL "verbd_plugin"

#if defined(_WIN32)
#define VERBD_EXPORT __declspec(dllexport)
#else
#define VERBD_EXPORT __attribute__((visibility("default")))
#endif

typedef struct verbd_str {
  const char* data;
  size_t size;
} verbd_str;

typedef struct verbd_header {
  verbd_str name;
  verbd_str value;
} verbd_header;

/* Results of host services and of sinks. 0 is success; every failure is negative. */
typedef enum verbd_status {
  VERBD_OK = 0,
  VERBD_NOT_FOUND = -1,      /* no resource or collection at that path */
  VERBD_IS_COLLECTION = -2,  /* the path names a collection, a resource was needed */
  VERBD_NOT_COLLECTION = -3, /* a parent in the path is a resource, not a collection */
  VERBD_EXISTS = -4,         /* VERBD_WRITE_CREATE, and something is already there */
  VERBD_NO_SPACE = -5,       /* the store is out of space or over a size limit */
  VERBD_DENIED = -6,         /* the store may not touch that path (permissions, symlink out of root) */
  VERBD_BAD_ARGUMENT = -7,   /* a malformed path, key, media type, header, or struct */
  VERBD_IO_ERROR = -8,       /* any other failure of the store; the host has logged it */
  VERBD_PLUGIN_FAILED = -9,  /* returned by a plugin's handle(): the host answers 500 */
  VERBD_NO_MEMORY = -10,     /* memory ran out, on either side (a sink could not take bytes) */
  VERBD_WOULD_BLOCK = -11,   /* (1.1) a plugin that declared VERBD_PLUGIN_NEVER_BLOCKS called a
                                service that may block (store_write, store_remove,
                                response_send, and the 1.4 services that change the store
                                or the locks); refused, and the host has logged it */
  VERBD_CLIENT_GONE = -12,   /* (1.3) response_send: nobody takes the rest of the response (the
                                client has gone, or the call passed its time limit); return */
  VERBD_LOCKED = -13,        /* (1.4) lock_acquire: a lock held by another conflicts. The
                                services that change the store: a lock whose token the
                                request did not submit protects the change (see "Locks and
                                the If header"); a plugin built for any minor may get it */
  VERBD_NO_PARENT = -14      /* (1.4) the collection that would hold the path does not exist,
                                or is a resource (store_make_collection, store_copy, store_move) */
} verbd_status;

typedef enum verbd_log_level {
  VERBD_LOG_TRACE = 0,
  VERBD_LOG_DEBUG = 1,
  VERBD_LOG_INFO = 2,
  VERBD_LOG_WARN = 3,
  VERBD_LOG_ERROR = 4
} verbd_log_level;

/* What the store knows about one path. The plugin provides it with
 * `struct_size` set; the host fills the rest. */
typedef enum verbd_entry_kind {
  VERBD_ENTRY_NONE = 0,
  VERBD_ENTRY_RESOURCE = 1,
  VERBD_ENTRY_COLLECTION = 2
} verbd_entry_kind;

#define VERBD_ETAG_CAPACITY 64
#define VERBD_MEDIA_TYPE_CAPACITY 128

typedef struct verbd_entry {
  uint32_t struct_size;                       /* set by the plugin: sizeof(verbd_entry) */
  int32_t kind;                               /* verbd_entry_kind */
  uint64_t size;                              /* bytes; 0 for a collection */
  int64_t modified_unix;                      /* seconds since the epoch, UTC */
  char etag[VERBD_ETAG_CAPACITY];             /* strong ETag with its quotes, NUL-terminated */
  char media_type[VERBD_MEDIA_TYPE_CAPACITY]; /* NUL-terminated; empty for a collection */
  int64_t created_unix;                       /* (1.4) when it was made, seconds since the
                                                 epoch; 0 when the store cannot tell */
} verbd_entry;

/* A destination for bytes the host produces (a listing, a resource's body).
 * The plugin fills it; the host calls `append` zero or more times. `append`
 * returns VERBD_OK, or a failure (VERBD_NO_MEMORY) after which the host makes
 * no further call and returns that failure from the service it was in; what
 * the sink took until then is partial. */
typedef struct verbd_sink {
  uint32_t struct_size; /* sizeof(verbd_sink) as the plugin saw it */
  void* target;
  int32_t (*append)(void* target, const char* data, size_t size);
} verbd_sink;

/* The body of a request (RFC 9110 calls it the request's content), wherever
 * the host keeps it: in memory, or in a file when it is larger than
 * [limits] body_in_memory_bytes. Opaque: read through verbd_host.content_read,
 * or handed whole to the store through verbd_write.content. (1.2) */
typedef struct verbd_content verbd_content;

typedef enum verbd_write_mode {
  VERBD_WRITE_REPLACE = 0, /* create or replace the whole resource */
  VERBD_WRITE_APPEND = 1,  /* create, or append to the existing bytes */
  VERBD_WRITE_CREATE = 2   /* create only; VERBD_EXISTS if anything is there */
} verbd_write_mode;

/* A write to the store. The plugin fills it; the host reads it. */
typedef struct verbd_write {
  uint32_t struct_size; /* sizeof(verbd_write) as the plugin saw it */
  int32_t mode;         /* verbd_write_mode */
  verbd_str path;       /* a clean resource path, as in verbd_request.path */
  verbd_str body;
  verbd_str media_type; /* empty: keep the current one, or guess from the path */
  /* (1.2) When not NULL, the body written is this request body, whole, and
   * `body` is ignored: the host moves it as it sees fit (a body spooled to a
   * file becomes the stored file itself in the files store: a rename, not a
   * copy). Valid only during the handle() call of its request. */
  const verbd_content* content;
} verbd_write;

/* One request, as the host parsed and cleaned it. The host fills it. */
typedef struct verbd_request {
  uint32_t struct_size;        /* sizeof(verbd_request) as the host saw it */
  int32_t version;             /* 10 for HTTP/1.0, 11 for HTTP/1.1 */
  verbd_str method;            /* the method token, case-sensitive */
  verbd_str target;            /* the request-target exactly as received */
  verbd_str path;              /* percent-decoded, normalised, starts with '/';
                                  never holds "..", "." or "//" segments, NUL or a
                                  segment with '/'; ends with '/' for a collection;
                                  "*" for OPTIONS *, "" for CONNECT */
  verbd_str query;             /* the raw query, without '?'; empty when absent */
  const verbd_header* headers; /* in the order received, names as sent */
  size_t header_count;
  verbd_str body;  /* de-chunked; empty when there is none, and (1.2) when the
                      body is larger than body_in_memory_bytes: see body_size */
  verbd_str allow; /* the methods served for this request, as the Allow field
                      lists them: "DELETE, GET, HEAD" */
  /* (1.2) The body's length in bytes. When it is more than body.size, the
   * body is not in memory: read it with content_read, or store it with
   * verbd_write.content. */
  uint64_t body_size;
  const verbd_content* content; /* (1.2) the body, for content_read and verbd_write.content */
  /* (1.4) The Destination field (RFC 4918 §10.3) as a clean path, like
   * `path`; empty when the request has none. The host has answered 400 for
   * one that does not clean, and 502 for one naming another server. */
  verbd_str destination;
} verbd_request;

/* (1.4) A dead property: one that the store keeps for a client (RFC 4918
 * §4.2), whatever its name and value. The host fills it for the plugin to
 * read during the call that hands it over. */
typedef struct verbd_property {
  verbd_str name;  /* "{namespace}local-name" (Clark notation); "{}name" without a namespace */
  verbd_str value; /* the XML inside the property element, as the client's namespaces
                      made self-contained: each element declares its own namespace */
} verbd_property;

/* (1.4) A destination for properties: the host calls `take` once per
 * property, in name order. A failure stops the listing and is returned. */
typedef struct verbd_property_sink {
  uint32_t struct_size;
  void* target;
  int32_t (*take)(void* target, const verbd_property* property);
} verbd_property_sink;

/* (1.4) One change of a PROPPATCH: set `name` to `value`, or remove it. */
typedef struct verbd_property_change {
  verbd_property property;
  int32_t remove; /* 1: remove the property (its value is ignored); 0: set it */
} verbd_property_change;

/* (1.4) store_copy and store_move flags. */
#define VERBD_TRANSFER_OVERWRITE 0x1u /* replace what is at the destination (Overwrite: T) */
#define VERBD_TRANSFER_SHALLOW 0x2u   /* store_copy of a collection: without its members (Depth: 0) */

/* (1.4) A WebDAV write lock (RFC 4918 §6, §7). For lock_acquire the plugin
 * fills it, and the host writes `token` and `timeout_s`; the other lock
 * services hand the host's locks to a verbd_lock_sink, whose strings are
 * valid during `take`. */
#define VERBD_LOCK_TOKEN_CAPACITY 64
typedef struct verbd_lock {
  uint32_t struct_size;
  verbd_str root;                        /* the path the lock was taken on */
  int32_t exclusive;                     /* 1: exclusive; 0: shared */
  int32_t infinite;                      /* 1: Depth infinity (the collection and all below it); 0: Depth 0 */
  verbd_str owner;                       /* the client's DAV:owner XML, as sent; may be empty */
  int64_t timeout_s;                     /* seconds left; asked for in lock_acquire and lock_refresh */
  char token[VERBD_LOCK_TOKEN_CAPACITY]; /* "urn:uuid:...", NUL-terminated */
} verbd_lock;

/* (1.4) A destination for locks: `take` once per lock. */
typedef struct verbd_lock_sink {
  uint32_t struct_size;
  void* target;
  int32_t (*take)(void* target, const verbd_lock* lock);
} verbd_lock_sink;

/* The response under construction. Opaque: only the host touches it. */
typedef struct verbd_response verbd_response;

/* The services the host offers a plugin instance. The host fills it.
 * `context` identifies the plugin instance to the host and goes first in
 * every call that needs it. The table and the context stay valid until the
 * host calls `destroy`. Every function may be called from any thread. */
typedef struct verbd_host {
  uint32_t struct_size; /* sizeof(verbd_host) as the host saw it */
  uint16_t abi_major;
  uint16_t abi_minor;
  void* context;

  /* Logging: the host prefixes every line with the plugin's name. A level
   * outside trace..error is taken as the nearest one. */
  void (*log)(void* context, int32_t level, verbd_str message);

  /* Settings from the config file's [plugins.<method>] table.
   * Each returns VERBD_OK, VERBD_NOT_FOUND, or VERBD_BAD_ARGUMENT when the
   * setting exists with another type. A string stays valid until destroy. */
  int32_t (*setting_string)(void* context, verbd_str key, verbd_str* value);
  int32_t (*setting_int)(void* context, verbd_str key, int64_t* value);
  int32_t (*setting_bool)(void* context, verbd_str key, int32_t* value);

  /* The resource store. Paths are clean paths (see verbd_request.path).
   * The store is shared by every request and every thread; each call is
   * atomic on its own. */
  int32_t (*store_stat)(void* context, verbd_str path, verbd_entry* entry);
  /* Hands the resource's bytes to `sink` and fills `entry` from the same version. */
  int32_t (*store_read)(void* context, verbd_str path, const verbd_sink* sink, verbd_entry* entry);
  /* `created` is set to 1 when the path named nothing before the write, else 0. */
  int32_t (*store_write)(void* context, const verbd_write* write, verbd_entry* entry, int32_t* created);
  /* A collection goes with everything in it; "/" empties the store. */
  int32_t (*store_remove)(void* context, verbd_str path);
  /* Hands `sink` one member name a line, "name/" for a collection, sorted. */
  int32_t (*store_list)(void* context, verbd_str path, const verbd_sink* sink);

  /* Building the response. The host owns Content-Length, Transfer-Encoding,
   * Connection, Date and Server: a plugin that sets one of them, a status
   * outside 200-599, or a header whose name is not a token or whose value
   * holds CR, LF or NUL, makes the host answer 500 instead. */
  void (*response_status)(verbd_response* response, int32_t status);
  void (*response_header)(verbd_response* response, verbd_str name, verbd_str value);
  void (*response_append)(verbd_response* response, verbd_str bytes);
  /* Makes the resource at `path` the body, read by the host as it sees fit
   * (not at all for HEAD), and fills `entry` from the same version of it.
   * When the plugin answers a GET 200 with a resource alone (nothing
   * appended), the host serves what a Range field asks (206 with the part,
   * or several in a multipart/byteranges body; 416 when every part starts
   * past the end), after If-Range against the ETag and Last-Modified the
   * plugin set, and adds Accept-Ranges (RFC 9110 §14); unless the plugin
   * set "Accept-Ranges: none", which keeps it whole. */
  int32_t (*response_resource)(verbd_response* response, verbd_str path, verbd_entry* entry);

  /* (1.2) Copies up to `capacity` bytes of the request body, from byte
   * `offset`, into `buffer`; `got` is how many (0 at the end). In memory or
   * in a file alike, in any order, as often as wanted. VERBD_IO_ERROR when
   * the body's file cannot be read (the host has logged it). */
  int32_t (*content_read)(const verbd_content* content, uint64_t offset, char* buffer, size_t capacity,
                          size_t* got);

  /* (1.3) Sends `bytes` as the next piece of the body, now, while handle()
   * goes on making the rest: for a body too large to hold, or one made
   * slowly. The first call sends the head (the status and fields set so
   * far) and the body appended so far; the body's length is not known in
   * advance, so the host frames it: chunked for HTTP/1.1, ended by closing
   * the connection for HTTP/1.0. It ends when handle() returns VERBD_OK;
   * when handle() fails instead, the host ends the connection without
   * completing the body, so that the client sees it cut short.
   *   - After the first call, only response_send may touch the response:
   *     a status, field, append, resource or file then breaks the contract,
   *     and the body is cut short as above.
   *   - It waits while the client is slower than the plugin (the host holds
   *     a bounded amount), so it is refused with VERBD_WOULD_BLOCK in a
   *     plugin that declared VERBD_PLUGIN_NEVER_BLOCKS. [limits]
   *     handler_timeout_ms bounds the time to the first piece and between
   *     two pieces, not the whole: time waiting for the client does not count.
   *   - Empty `bytes` sends the head (and what was appended) and nothing else.
   *   - For HEAD, or a 204 or 304 status, no body goes: the pieces are
   *     dropped, and the response goes when handle() returns, as any other
   *     (for HEAD without Content-Length: the length is not known).
   * Returns VERBD_OK; VERBD_CLIENT_GONE when nobody takes more (the plugin
   * should return: nothing more will be sent); VERBD_NO_MEMORY. */
  int32_t (*response_send)(verbd_response* response, verbd_str bytes);
  /* (1.3) Makes the open file `fd` the body: from its start to its size
   * now, sent by the host as it sees fit (sendfile(2); not at all for HEAD).
   * For a file the plugin made (a temporary file, an unnamed one). The host
   * owns `fd` from this call on, whatever it returns, and closes it.
   * VERBD_BAD_ARGUMENT when `fd` is not an open regular file. */
  int32_t (*response_file)(verbd_response* response, int fd);

  /* (1.4) WebDAV. Locks and the If header: before it calls any plugin, the
   * host evaluates the request's If header (RFC 4918 §10.4) and answers 412
   * when it is false, and answers 423 when the request would change a
   * resource that a lock covers without naming that lock's token in the If
   * header. The paths a method changes: its path (and, when it creates or
   * removes something there, the collection holding it); for DELETE and
   * MOVE everything below a collection too; for COPY and MOVE the
   * Destination likewise. GET, HEAD, OPTIONS, PROPFIND, TRACE, REPORT,
   * LOCK and UNLOCK change nothing; a method the host does not know is
   * taken to change its path. So no plugin checks locks itself.
   * The services that change the store (store_write, store_remove,
   * store_make_collection, store_copy, store_move, store_change_properties)
   * check each change again, with the lock tokens of the request being
   * handled on the calling thread (none on a thread the plugin started):
   * one that a lock protects, taken while the plugin ran or on a path the
   * request does not name, is refused with VERBD_LOCKED and changes
   * nothing. The host then answers 423 naming the lock if the plugin
   * failed or answered 423 or 5xx. No lock is granted between that check
   * and the end of the change. */

  /* Makes the collection `path` (ending in '/'): VERBD_EXISTS when
   * something is there, VERBD_NO_PARENT when the collection above is
   * missing. */
  int32_t (*store_make_collection)(void* context, verbd_str path);
  /* Copies the resource or collection at `from` (with its members, unless
   * VERBD_TRANSFER_SHALLOW) to `to`, media types and dead properties with
   * it. `to` names the same kind as `from` ('/' or not at the end).
   * VERBD_EXISTS when something is at `to` without
   * VERBD_TRANSFER_OVERWRITE, else it is replaced; VERBD_NO_PARENT when the
   * collection that would hold `to` is missing; VERBD_BAD_ARGUMENT when one
   * path lies within the other. `created`: nothing was at `to`. */
  int32_t (*store_copy)(void* context, verbd_str from, verbd_str to, uint32_t flags, int32_t* created);
  /* As store_copy, but `from` goes: an atomic rename where the store can
   * (the files store, the memory store). Locks on what moved are released. */
  int32_t (*store_move)(void* context, verbd_str from, verbd_str to, uint32_t flags, int32_t* created);
  /* Hands `sink` every dead property of `path`. */
  int32_t (*store_properties)(void* context, verbd_str path, const verbd_property_sink* sink);
  /* Applies `changes` in order, all or none. VERBD_NO_SPACE when the
   * properties would pass the store's limit for one resource. */
  int32_t (*store_change_properties)(void* context, verbd_str path, const verbd_property_change* changes,
                                     size_t count);

  /* Takes a lock on `lock->root` and writes its token: VERBD_LOCKED when a
   * lock of another conflicts (an exclusive one, or any one for an
   * exclusive request). The host bounds timeout_s, and writes back what it
   * granted. Locks are shared by every worker process; whether they survive
   * a restart depends on the store (README). */
  int32_t (*lock_acquire)(void* context, verbd_lock* lock);
  /* Renews the lock `token`, which must cover `path`, for `timeout_s`, and
   * hands it to `sink`; VERBD_NOT_FOUND when no such lock covers `path`. */
  int32_t (*lock_refresh)(void* context, verbd_str path, verbd_str token, int64_t timeout_s,
                          const verbd_lock_sink* sink);
  /* Releases the lock `token`, which must cover `path`; VERBD_NOT_FOUND otherwise. */
  int32_t (*lock_release)(void* context, verbd_str path, verbd_str token);
  /* Hands `sink` every lock that covers `path`: taken on it, or Depth
   * infinity on a collection above it. */
  int32_t (*lock_discover)(void* context, verbd_str path, const verbd_lock_sink* sink);
} verbd_host;

/* Flags of verbd_plugin_descriptor (1.1).
 *
 * VERBD_PLUGIN_NEVER_BLOCKS: the plugin promises that handle() never waits:
 * no sleep, no network, no lock held for long, no store write or remove
 * (those fsync). The host then calls it on the event loop itself, which
 * spares a hand-over between threads on every request: verbd's GET, HEAD and
 * OPTIONS say so. Every other plugin is called on a pool of threads
 * ([server] plugin_threads), so that a slow call stalls nobody else, within a
 * time limit ([limits] handler_timeout_ms) after which its client gets 503.
 * A promise broken by a store write or remove is refused with
 * VERBD_WOULD_BLOCK; one broken by a sleep stalls the event loop. */
#define VERBD_PLUGIN_NEVER_BLOCKS 0x1u

/* The descriptor a plugin exports as `verbd_plugin`. The plugin fills it. */
typedef struct verbd_plugin_descriptor {
  uint32_t magic;             /* Required: VERBD_PLUGIN_MAGIC */
  uint16_t abi_major;         /* Required: VERBD_ABI_MAJOR the plugin was built with */
  uint16_t abi_minor;         /* Required: VERBD_ABI_MINOR the plugin was built with */
  uint32_t struct_size;       /* Required: sizeof(verbd_plugin_descriptor) */
  const char* name;           /* Required: short name for logs, NUL-terminated */
  const char* version;        /* Required: the plugin's own version, NUL-terminated */
  const char* const* methods; /* Required: NULL-terminated list of method tokens */

  /* Required: makes an instance. On failure returns non-zero and may write a
   * NUL-terminated reason of at most `error_size` bytes into `error`. */
  int32_t (*create)(const verbd_host* host, void** instance, char* error, size_t error_size);
  /* Required: ends an instance; no call on it follows. */
  void (*destroy)(void* instance);
  /* Required: answers one request. Called from any host thread, possibly
   * from several at once: an event loop's (VERBD_PLUGIN_NEVER_BLOCKS) or a
   * pool thread's. It may block (unless it declared it never does). Returns VERBD_OK, or VERBD_PLUGIN_FAILED
   * after logging why (the host then answers 500). */
  int32_t (*handle)(void* instance, const verbd_request* request, verbd_response* response);

  /* (1.1) VERBD_PLUGIN_* flags; absent (a 1.0 plugin): none. */
  uint32_t flags;
} verbd_plugin_descriptor;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* VERBD_PLUGIN_H */
