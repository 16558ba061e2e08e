// Requests, the single-node client, and the replication wait shared by both clients.
#include "redis/client.h"

namespace surge::redis {

namespace {

bool is_noscript(const Reply& r) {
  return r.is_error() && std::string_view(r.str).starts_with("NOSCRIPT");
}

}  // namespace

Request Request::script_call(const Script& script, std::vector<std::string> keys,
                             std::vector<std::string> args) {
  Request r;
  r.args.reserve(3 + keys.size() + args.size());
  r.args.push_back("EVALSHA");
  r.args.push_back(script.sha());
  r.args.push_back(std::to_string(keys.size()));
  for (auto& k : keys) r.args.push_back(std::move(k));
  for (auto& a : args) r.args.push_back(std::move(a));
  r.key_index = keys.empty() ? kNoKey : 3;
  r.script = &script;
  return r;
}

Command Request::command() const {
  Command c;
  size_t bytes = 16;                                  // the array header
  for (const auto& a : args) bytes += a.size() + 16;  // each with its header and line ends
  c.reserve(bytes);
  c.begin(args.size());
  for (const auto& a : args) c.arg(a);
  return c;
}

Request Request::as_eval() const {
  Request eval = *this;
  eval.args[0] = "EVAL";
  eval.args[1] = script->body();
  return eval;
}

asio::awaitable<Result<Reply>> Client::exec(Request request) {
  std::vector<Request> one;
  one.push_back(std::move(request));
  auto replies = co_await exec_all(std::move(one));
  if (!replies) co_return replies.error();
  co_return std::move(replies->front());
}

asio::awaitable<Result<Reply>> Client::run(const Script& script, std::vector<std::string> keys,
                                           std::vector<std::string> args) {
  co_return co_await exec(Request::script_call(script, std::move(keys), std::move(args)));
}

asio::awaitable<Result<int64_t>> replicated(const Written& w, int replicas,
                                            std::chrono::milliseconds timeout) {
  if (!w.node) co_return make_error_code(Errc::kUnavailable);
  co_return co_await w.node->wait_replicas(w.generation, replicas, timeout);
}

asio::awaitable<Result<void>> scan_node(Connection& c, std::string match,
                                        std::vector<std::string>& out) {
  std::string cursor = "0";
  do {
    auto page = co_await c.exec(Command::make("SCAN", cursor, "MATCH", match, "COUNT", 1000));
    if (!page) co_return page.error();
    if (!page->is_array() || page->elements.size() != 2 || !page->elements[0].is_string() ||
        !page->elements[1].is_array()) {
      co_return make_error_code(Errc::kProtocol);
    }
    cursor = page->elements[0].str;
    for (const auto& k : page->elements[1].elements) out.push_back(k.str);
  } while (cursor != "0");
  co_return Result<void>();
}

std::shared_ptr<NodeClient> NodeClient::create(asio::any_io_executor ex, Options options) {
  auto conn = Connection::create(std::move(ex), std::move(options));
  return std::make_shared<NodeClient>(*conn);
}

asio::awaitable<Result<std::vector<Reply>>> NodeClient::exec_all(std::vector<Request> requests) {
  if (requests.empty()) co_return std::vector<Reply>();
  Command cmd;
  for (const auto& r : requests) cmd.append(r.command());
  auto replies = co_await conn_->exec_all(std::move(cmd));
  if (!replies) co_return replies.error();
  if (replies->size() != requests.size()) co_return make_error_code(Errc::kProtocol);
  // A script the server does not know yet: EVAL loads it, for this and every later EVALSHA.
  for (size_t i = 0; i < requests.size(); ++i) {
    if (!requests[i].script || !is_noscript((*replies)[i])) continue;
    auto again = co_await conn_->exec(requests[i].as_eval().command());
    if (!again) co_return again.error();
    (*replies)[i] = std::move(*again);
  }
  co_return replies;
}

asio::awaitable<Result<Reply>> NodeClient::exec(Request request) {
  auto reply = co_await conn_->exec(request.command());
  if (reply && request.script && is_noscript(*reply)) {
    reply = co_await conn_->exec(request.as_eval().command());
  }
  co_return reply;
}

asio::awaitable<Result<Written>> NodeClient::exec_at(Request request) {
  auto reply = co_await exec(std::move(request));
  if (!reply) co_return reply.error();
  co_return Written{std::move(*reply), conn_, conn_->generation()};
}

asio::awaitable<Result<std::vector<std::string>>> NodeClient::scan(std::string match) {
  std::vector<std::string> keys;
  auto done = co_await scan_node(*conn_, std::move(match), keys);
  if (!done) co_return done.error();
  co_return keys;
}

}  // namespace surge::redis
