// Noticing that the client of a non-streaming request went away while its answer is being generated, so the
// request can be cancelled and its KV blocks freed. cpp-httplib 0.11 (Debian 12) gives a handler no access
// to its connection (later versions have Request::is_connection_closed), so the handler finds its socket by
// the connection's addresses, once, and peeks at it while it waits.
#pragma once
#include <string>

namespace longcat::server {

// The descriptor of this process's TCP socket whose local port is `local_port` and whose peer is
// `remote_addr` (numeric, as httplib writes it):`remote_port`; -1 when none is found. The handler's thread
// owns that connection until it returns, so the descriptor cannot be closed or reused meanwhile.
int find_connection_socket(int local_port, const std::string& remote_addr, int remote_port);

// True once the peer has closed the connection (an orderly close or a reset), without consuming any bytes
// it sent (a pipelined next request stays readable).
bool peer_closed(int fd);

}  // namespace longcat::server
