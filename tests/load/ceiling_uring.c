/* compare.sh's raw-epoll ceiling (../shared/bench/ceiling.c) on io_uring,
 * for client_share.sh: the same fixed answer to every request head it sees,
 * with no parsing, no store and no plugin, but with the fewest system calls
 * Linux allows. Connections are accepted and read by multishot requests
 * (one request serves every arrival), reads land in a ring of buffers shared
 * by all connections (none is held per connection), and the answers are
 * queued and handed to the kernel together with the wait for what comes
 * next: one io_uring_enter per turn of the loop, for all connections.
 * Usage: ceiling_uring PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

static const char reply[] =
    "HTTP/1.1 200 OK\r\nServer: ceiling\r\nContent-Type: text/html\r\n"
    "Content-Length: 26\r\n\r\nHTTP GET Method (Success)\n";

enum { buffer_count = 4096, buffer_size = 4096, buffer_group = 1 };
enum kind { accepted = 1, received, sent, closed };

static struct io_uring ring;
static struct io_uring_buf_ring *buffer_ring;
static char *buffers;

/* A free entry of the submission queue, handing the full queue to the kernel first if need be. */
static struct io_uring_sqe *next_request(enum kind kind, int fd) {
    struct io_uring_sqe *request = io_uring_get_sqe(&ring);
    if (request == NULL) {
        io_uring_submit(&ring);
        request = io_uring_get_sqe(&ring);
    }
    io_uring_sqe_set_data64(request, ((unsigned long long)fd << 8) | kind);
    return request;
}

static void accept_all(int listener) {
    io_uring_prep_multishot_accept(next_request(accepted, listener), listener, NULL, NULL, 0);
}

static void receive_all(int fd) {
    struct io_uring_sqe *request = next_request(received, fd);
    io_uring_prep_recv_multishot(request, fd, NULL, 0, 0);
    request->flags |= IOSQE_BUFFER_SELECT;
    request->buf_group = buffer_group;
}

static int set_up_buffers(void) {
    if (posix_memalign((void **)&buffer_ring, 4096, buffer_count * sizeof(struct io_uring_buf)) != 0) return -1;
    buffers = malloc((size_t)buffer_count * buffer_size);
    if (buffers == NULL) return -1;
    io_uring_buf_ring_init(buffer_ring);
    struct io_uring_buf_reg registration = {
        .ring_addr = (unsigned long)buffer_ring, .ring_entries = buffer_count, .bgid = buffer_group};
    if (io_uring_register_buf_ring(&ring, &registration, 0) != 0) return -1;
    for (int i = 0; i < buffer_count; i++)
        io_uring_buf_ring_add(buffer_ring, buffers + (size_t)i * buffer_size, buffer_size, i,
                              io_uring_buf_ring_mask(buffer_count), i);
    io_uring_buf_ring_advance(buffer_ring, buffer_count);
    return 0;
}

/* Answers the request heads in `bytes`, as ceiling.c does; a head that
 * asks to close gets its answers, then the connection is shut down (the
 * receive then ends, and the connection is closed). */
static void answer(int fd, const char *bytes, int length) {
    int heads = 0, closing = 0;
    for (int j = 3; j < length; j++)
        if (bytes[j] == '\n' && bytes[j - 1] == '\r' && bytes[j - 2] == '\n' && bytes[j - 3] == '\r') heads++;
    for (int j = 0; j + 17 < length; j++)
        if (bytes[j] == 'C' && bytes[j + 10] == ':' && bytes[j + 12] == 'c' && bytes[j + 13] == 'l') closing = 1;
    for (int k = 0; k < heads; k++) {
        struct io_uring_sqe *request = next_request(sent, fd);
        io_uring_prep_send(request, fd, reply, sizeof reply - 1, MSG_NOSIGNAL);
        if (closing) request->flags |= IOSQE_IO_LINK; /* the shutdown after the answers */
    }
    if (closing) io_uring_prep_shutdown(next_request(closed, -1), fd, SHUT_RDWR);
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    struct io_uring_params params = {
        .flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE,
        .cq_entries = 65536};
    if (io_uring_queue_init_params(4096, &ring, &params) != 0 || set_up_buffers() != 0) {
        perror("ceiling_uring: io_uring");
        return 1;
    }
    int one = 1, listener = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 4096) != 0) return 1;
    accept_all(listener);

    for (;;) {
        io_uring_submit_and_wait(&ring, 1);
        struct io_uring_cqe *done;
        unsigned head, seen = 0, buffers_back = 0;
        io_uring_for_each_cqe(&ring, head, done) {
            seen++;
            enum kind kind = done->user_data & 0xff;
            int fd = (int)(done->user_data >> 8);
            int more = done->flags & IORING_CQE_F_MORE; /* the multishot request goes on */
            if (kind == accepted) {
                if (done->res >= 0) {
                    setsockopt(done->res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    receive_all(done->res);
                }
                if (!more) accept_all(listener);
            } else if (kind == received) {
                if (done->res == -ENOBUFS) {
                    receive_all(fd); /* every buffer was in use: read again once some are back */
                } else if (done->res <= 0) {
                    io_uring_prep_close(next_request(closed, fd), fd);
                } else {
                    int id = done->flags >> IORING_CQE_BUFFER_SHIFT;
                    char *bytes = buffers + (size_t)id * buffer_size;
                    answer(fd, bytes, done->res);
                    io_uring_buf_ring_add(buffer_ring, bytes, buffer_size, id, io_uring_buf_ring_mask(buffer_count),
                                          buffers_back++);
                    if (!more) receive_all(fd);
                }
            }
        }
        io_uring_buf_ring_advance(buffer_ring, buffers_back);
        io_uring_cq_advance(&ring, seen);
    }
}
