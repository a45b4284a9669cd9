// bench_load: a small HTTPS load generator for tools/bench, like `wrk -tT -cC --latency` but
// able to present a TLS client certificate (wrk cannot), so that an mTLS client and an API-key
// client are measured by the same tool and differ only in how they authenticate.
//
// T threads each drive C/T keep-alive connections with libcurl's multi interface: every
// connection has one request in flight at a time, and the next request goes out on it as soon
// as the answer is in (closed loop, as wrk does). Latency is measured per request from the
// moment it is queued to the moment its answer is complete. A measurement, not a test.
//
// With --rate R the load is an open loop instead, as wrk2 makes it: requests are due at a fixed
// pace, R per second in all, whatever the server does. A due request goes out on the first idle
// connection, and waits for one when all C are busy. Its latency is measured from when it was
// due, not from when it went out, so a server that falls behind shows it in the percentiles
// (a closed loop would send less and hide it). This answers "what latency at this rate?", which
// a closed loop cannot: its rate is whatever the latency allows. Before the pace starts, each
// connection makes one request that is not counted: opening 32 TLS connections takes long
// enough for the first due requests to pile up behind them, which is not the steady state
// being measured.
//
// Usage: bench_load --url URL [--cacert FILE] [--cert FILE --key FILE] [--header 'Name: value']...
//                   [--data BODY] [--threads T] [--connections C] [--duration SECONDS] [--requests N]
//                   [--rate R]
// With --data the request is a POST of BODY, otherwise a GET. The run ends at the deadline
// (--duration; 8 s when neither option is given) or once N requests have been sent in all
// threads together and have finished (--requests; no deadline unless --duration is given too),
// whichever comes first. A request counts towards N when it is sent, answered or not, so that
// a server that fails every request cannot keep a run going; a slot is taken from one shared
// counter before each request, so exactly N go out however the threads interleave. This is
// what tools/bench --soak drives its chunks with. Prints one line:
//   requests=N rps=R p50=X p99=Y non2xx=N errors=N connects=N seconds=S cpu_us=U
// where requests counts the HTTP answers (2xx or not), errors are transport failures (no HTTP
// answer), connects is how many connections were opened in all (C when keep-alive held) and
// cpu_us is the CPU time bench_load itself spent per answer (user and system, all threads):
// on a machine whose cores it shares with the server, what the load takes from the server.
// Exit 0 when at least one request completed.
#include <curl/curl.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string url, cacert, cert, key, data;
  std::vector<std::string> headers;
  bool post = false;
  int threads = 2;
  int connections = 32;
  double seconds = 0;  // 0: no deadline (--requests alone); parse() sets 8 s when neither is given
  long requests = 0;   // 0: no limit
  double rate = 0;     // requests per second in all threads; 0: closed loop
};

struct ThreadResult {
  std::vector<double> latencies_us;
  long non2xx = 0;
  long errors = 0;
  long connects = 0;
};

// The first transport error, printed once so that a failing run says why.
std::once_flag first_error;

// Requests sent so far by all threads, against --requests.
std::atomic<long> sent{0};

// Whether one more request may go out: always without --requests, else while the shared count
// is below it.
bool take_slot(const Options& o) { return o.requests == 0 || sent.fetch_add(1) < o.requests; }

std::size_t discard(char*, std::size_t size, std::size_t count, void*) { return size * count; }

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "bench_load: %s\n", why);
  std::fprintf(stderr,
               "usage: bench_load --url URL [--cacert FILE] [--cert FILE --key FILE] [--header 'N: v']...\n"
               "                  [--data BODY] [--threads T] [--connections C] [--duration SECONDS] [--requests N]\n"
               "                  [--rate R]\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
    const char* value = argv[++i];
    if (arg == "--url") o.url = value;
    else if (arg == "--cacert") o.cacert = value;
    else if (arg == "--cert") o.cert = value;
    else if (arg == "--key") o.key = value;
    else if (arg == "--header") o.headers.emplace_back(value);
    else if (arg == "--data") o.data = value, o.post = true;
    else if (arg == "--threads") o.threads = std::atoi(value);
    else if (arg == "--connections") o.connections = std::atoi(value);
    else if (arg == "--duration") {
      o.seconds = std::atof(value);
      if (o.seconds <= 0) usage("bad --duration");
    } else if (arg == "--requests") {
      o.requests = std::atol(value);
      if (o.requests <= 0) usage("bad --requests");
    } else if (arg == "--rate") {
      o.rate = std::atof(value);
      if (o.rate <= 0) usage("bad --rate");
    } else usage(("unknown option " + arg).c_str());
  }
  if (o.url.empty()) usage("--url is required");
  if (o.cert.empty() != o.key.empty()) usage("--cert and --key go together");
  if (o.threads < 1 || o.connections < o.threads) usage("bad --threads or --connections");
  if (o.seconds == 0 && o.requests == 0) o.seconds = 8;
  return o;
}

// One thread: its `connections` keep-alive connections, each with at most one request in
// flight, until the deadline or until --requests have been sent. In a closed loop a request
// goes out whenever a connection is idle. With --rate, each connection first makes one request
// that is not counted (its TLS handshake, and the server's first use of it, are not the rate
// being measured), then requests fall due every `interval` from `offset` after the threads
// all arrived at `ready`.
void drive(const Options& o, curl_slist* headers, int connections, Clock::duration offset, Clock::duration interval,
           std::latch& ready, ThreadResult& out) {
  CURLM* multi = curl_multi_init();
  // At most one connection per easy handle: the pool does not grow beyond what was asked.
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(connections));
  curl_multi_setopt(multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_NOTHING));
  // The idle connections stay open however few requests are in flight (by default curl keeps
  // four per handle added at the moment, and a paced load may have few added).
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(connections));
  std::vector<CURL*> easies(connections);
  std::vector<Clock::time_point> started(connections);
  std::vector<char> error_text(CURL_ERROR_SIZE * connections);
  std::vector<int> idle;  // the connections with no request in flight
  for (int i = 0; i < connections; ++i) {
    CURL* e = easies[i] = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, o.url.c_str());
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_PRIVATE, reinterpret_cast<void*>(static_cast<std::intptr_t>(i)));
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, &error_text[CURL_ERROR_SIZE * i]);
    if (o.post) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, o.data.c_str());  // o outlives every transfer
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(o.data.size()));
    }
    if (!o.cacert.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, o.cacert.c_str());
    if (!o.cert.empty()) {
      curl_easy_setopt(e, CURLOPT_SSLCERT, o.cert.c_str());
      curl_easy_setopt(e, CURLOPT_SSLKEY, o.key.c_str());
    }
    idle.push_back(connections - 1 - i);
  }

  const bool paced = o.rate > 0;
  std::deque<Clock::time_point> due;  // paced: requests due and not sent yet, oldest first
  bool more = true;  // whether more requests may become due
  int in_flight = 0;
  // Sends a request on the idle connection last freed; its latency counts from `since`.
  auto send = [&](Clock::time_point since) {
    const int i = idle.back();
    idle.pop_back();
    error_text[CURL_ERROR_SIZE * i] = 0;
    started[i] = since;
    // A handle removed after its transfer left its connection open in the multi's pool; adding
    // it again picks that idle connection up: keep-alive, one request per connection at a time.
    curl_multi_add_handle(multi, easies[i]);
    ++in_flight;
  };
  // Reads the finished transfers, counted in `out` or not, and frees their connections.
  auto collect = [&](bool counted) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* e = msg->easy_handle;
      void* p = nullptr;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, &p);
      const auto i = static_cast<int>(reinterpret_cast<std::intptr_t>(p));
      if (!counted) {
        // a warm-up request: it only opened its connection
      } else if (msg->data.result != CURLE_OK) {
        ++out.errors;
        const char* text = error_text[CURL_ERROR_SIZE * i] ? &error_text[CURL_ERROR_SIZE * i]
                                                           : curl_easy_strerror(msg->data.result);
        std::call_once(first_error, [&] { std::fprintf(stderr, "bench_load: first transport error: %s\n", text); });
      } else {
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299) ++out.non2xx;
        out.latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - started[i]).count());
      }
      long connects = 0;
      curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
      out.connects += connects;
      curl_multi_remove_handle(multi, e);
      idle.push_back(i);
      --in_flight;
    }
  };
  if (paced) {
    while (!idle.empty()) send(Clock::now());
    for (collect(false); in_flight > 0; collect(false)) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  ready.arrive_and_wait();
  const auto begin = Clock::now();
  const auto deadline = o.seconds > 0 ? begin + std::chrono::duration_cast<Clock::duration>(
                                                     std::chrono::duration<double>(o.seconds))
                                      : Clock::time_point::max();
  Clock::time_point next_due = begin + offset;
  for (;;) {
    const auto now = Clock::now();
    if (paced) {
      for (; more && next_due <= now; next_due += interval) {
        if (next_due >= deadline || !take_slot(o)) more = false;
        else due.push_back(next_due);
      }
      while (!due.empty() && !idle.empty()) {
        send(due.front());
        due.pop_front();
      }
    } else {
      while (more && !idle.empty()) {
        if (now >= deadline || !take_slot(o)) more = false;
        else send(Clock::now());
      }
    }
    if (in_flight == 0 && due.empty() && !more) break;

    collect(true);
    // Wake for the network, or when the next paced request is due (at most 100 ms on).
    int wait_ms = 100;
    if (paced && more && due.empty()) {
      const auto until = std::chrono::ceil<std::chrono::milliseconds>(next_due - Clock::now()).count();
      wait_ms = static_cast<int>(std::clamp<long long>(until, 0, 100));
    }
    if (in_flight > 0 || wait_ms > 0) curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
  }
  for (CURL* e : easies) curl_easy_cleanup(e);
  curl_multi_cleanup(multi);
}

std::string format_latency(double us) {
  // The units wrk prints, so that both tools' rows read alike.
  char buffer[32];
  if (us < 1000) std::snprintf(buffer, sizeof buffer, "%.2fus", us);
  else if (us < 1e6) std::snprintf(buffer, sizeof buffer, "%.2fms", us / 1e3);
  else std::snprintf(buffer, sizeof buffer, "%.2fs", us / 1e6);
  return buffer;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) usage("curl_global_init failed");
  curl_slist* headers = nullptr;
  for (const auto& h : o.headers) headers = curl_slist_append(headers, h.c_str());
  // curl would otherwise send "Expect: 100-continue" for some bodies and wait for the server.
  headers = curl_slist_append(headers, "Expect:");

  std::vector<ThreadResult> results(o.threads);
  std::vector<std::thread> threads;
  std::latch ready(o.threads + 1);  // the measurement starts once every thread is ready
  for (int t = 0; t < o.threads; ++t) {
    // Connections spread over the threads as evenly as they divide.
    const int share = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    // Paced, each thread takes the share of the rate its connections have, its first request
    // offset so that the threads' requests interleave.
    const double per_second = o.rate * share / o.connections;
    const auto interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(per_second > 0 ? 1 / per_second : 0));
    threads.emplace_back(drive, std::cref(o), headers, share, interval * t / o.threads, interval, std::ref(ready),
                         std::ref(results[t]));
  }
  ready.arrive_and_wait();
  const auto start = Clock::now();
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  curl_slist_free_all(headers);
  curl_global_cleanup();

  std::vector<double> all;
  long non2xx = 0, errors = 0, connects = 0;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
    non2xx += r.non2xx;
    errors += r.errors;
    connects += r.connects;
  }
  if (all.empty()) {
    std::fprintf(stderr, "bench_load: no request completed (%ld transport errors)\n", errors);
    return 1;
  }
  std::sort(all.begin(), all.end());
  // Nearest-rank percentiles.
  auto percentile = [&](double q) {
    const auto rank = static_cast<std::size_t>(q * static_cast<double>(all.size()) + 0.999999);
    return all[std::min(all.size(), std::max<std::size_t>(rank, 1)) - 1];
  };
  rusage used{};
  getrusage(RUSAGE_SELF, &used);
  const double cpu_us = 1e6 * static_cast<double>(used.ru_utime.tv_sec + used.ru_stime.tv_sec) +
                        static_cast<double>(used.ru_utime.tv_usec + used.ru_stime.tv_usec);
  std::printf("requests=%zu rps=%.0f p50=%s p99=%s non2xx=%ld errors=%ld connects=%ld seconds=%.2f cpu_us=%.0f\n",
              all.size(), static_cast<double>(all.size()) / elapsed, format_latency(percentile(0.50)).c_str(),
              format_latency(percentile(0.99)).c_str(), non2xx, errors, connects, elapsed,
              cpu_us / static_cast<double>(all.size()));
  return 0;
}
