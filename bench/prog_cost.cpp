// prog_cost: what fwd's TC and XDP programs cost per packet, measured by the kernel with
// BPF_PROG_TEST_RUN, at 1, 10 000 and 1 000 000 mappings in fwd_svc4. Prints a markdown table.
//
// Runs like the bpf tests: root, inside a private network namespace it creates (the wildcard
// asks the FIB), with private unpinned maps; nothing outlives the process.
//
// BPF_PROG_TEST_RUN with repeat=N runs the program N times on the same skb, so each run sees the
// previous run's rewrite. A translating case must therefore be a fixed point: the ingress cases
// use two mappings that translate into each other (A -> B, B -> A), the egress case two
// conntrack entries that do the same. Every run is then a hit with a full rewrite, on a flow
// that is already tracked. A new flow cannot repeat (the first run creates it); that row uses one
// run per syscall with a fresh client each time, so it includes the kernel timer's overhead,
// which the "tracked, 1 run per call" row shows for comparison. Counter deltas confirm that every
// run took the path its row names.
//
// Fast-path rows: the namespace gets routes and permanent neighbours for the container and the
// client, so the FIB answers and the programs redirect. A redirect decrements the TTL, so those
// rows run 250 repeats per call on a TTL-255 packet (every repeat redirects) and average over
// many calls. The "fast path off" rows set FWD_CONFIG_NO_FAST_PATH, as `attach --fast-path off`.
// XDP rows load fwd_xdp on the same maps.
//
// Needs tests/support/{bpf_netns,prog_runner,packet_builder,checksum}.cpp, the fwd_tc and fwd_xdp
// skeletons, libbpf, fmt and `ip` (iproute2).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/pkt_cls.h>
#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fwd_abi.h"
#include "fwd_tc.skel.h"
#include "fwd_xdp.skel.h"
#include "support/bpf_netns.h"
#include "support/packet_builder.h"
#include "support/prog_runner.h"

namespace fwd::test {
namespace {

constexpr uint32_t kRepeat = 1000000;
constexpr uint32_t kNewFlowRuns = 100000;
// Redirecting rows: repeats per call (each redirect takes one from the TTL) and calls.
constexpr uint32_t kRedirectRepeat = 250;
constexpr uint32_t kRedirectCalls = 4000;
constexpr std::array<uint32_t, 3> kScales = {1, 10000, 1000000};
constexpr uint32_t kBatch = 10000;

constexpr const char* kClient = "10.0.0.9";
constexpr uint16_t kClientPort = 40000;
constexpr const char* kContainer = "172.17.0.2";
// The fast-path cycle runs between two routed (not local) addresses, from its own client port.
constexpr const char* kRoutedHost = "172.17.0.3";
constexpr uint16_t kFastClientPort = 40001;

struct SkelDeleter {
    void operator()(fwd_tc* skel) const { fwd_tc__destroy(skel); }
    void operator()(fwd_xdp* skel) const { fwd_xdp__destroy(skel); }
};
using Skeleton = std::unique_ptr<fwd_tc, SkelDeleter>;
using XdpSkeleton = std::unique_ptr<fwd_xdp, SkelDeleter>;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "prog_cost: %s\n", what.c_str());
    std::exit(1);
}

fwd_svc4_key svc_key(__be32 addr, uint16_t port) {
    fwd_svc4_key key{};
    key.host_addr = addr;
    key.host_port = port_be(port);
    key.proto = kIpProtoTcp;
    return key;
}

fwd_svc4_value svc_value(const char* addr, uint16_t port, uint32_t mapping_id) {
    fwd_svc4_value value{};
    value.container_addr = ipv4_be(addr);
    value.container_port = port_be(port);
    value.mapping_id = mapping_id;
    return value;
}

fwd_ct4_key ct_key(const char* container, uint16_t container_port, uint16_t client_port) {
    fwd_ct4_key key{};
    key.container_addr = ipv4_be(container);
    key.client_addr = ipv4_be(kClient);
    key.container_port = port_be(container_port);
    key.client_port = port_be(client_port);
    key.proto = kIpProtoTcp;
    return key;
}

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// The loaded programs with private maps and room for `mappings` service entries.
class Datapath {
public:
    explicit Datapath(uint32_t mappings) {
        skel_.reset(fwd_tc__open());
        if (!skel_) die(fmt::format("fwd_tc__open: {}", std::strerror(errno)));
        if (unpin_all_maps(skel_->obj) != 0) die("clearing pin paths failed");
        const uint32_t max = std::max<uint32_t>(FWD_MAX_MAPPINGS, mappings + 16);
        if (bpf_map__set_max_entries(skel_->maps.fwd_svc4, max) != 0) die("set_max_entries");
        if (const int err = fwd_tc__load(skel_.get()); err != 0) {
            die(fmt::format("fwd_tc__load: {}", std::strerror(-err)));
        }
        load_xdp();
        ncpus_ = libbpf_num_possible_cpus();
    }

    [[nodiscard]] int ingress_fd() const { return bpf_program__fd(skel_->progs.fwd_tc_ingress); }
    [[nodiscard]] int egress_fd() const { return bpf_program__fd(skel_->progs.fwd_tc_egress); }
    [[nodiscard]] int xdp_fd() const { return bpf_program__fd(xdp_->progs.fwd_xdp_ingress); }

    // What `fwdctl attach --fast-path on|off` writes.
    void set_fast_path(bool on) const {
        const uint32_t key = 0;
        fwd_config config{};
        config.abi_version = FWD_ABI_VERSION;
        config.flags = on ? 0 : FWD_CONFIG_NO_FAST_PATH;
        if (bpf_map_update_elem(bpf_map__fd(skel_->maps.fwd_config), &key, &config, BPF_ANY)) {
            die(fmt::format("fwd_config update: {}", std::strerror(errno)));
        }
    }

    void add_service(__be32 host_addr, uint16_t host_port, const char* container,
                     uint16_t container_port, uint32_t mapping_id) const {
        const auto key = svc_key(host_addr, host_port);
        const auto value = svc_value(container, container_port, mapping_id);
        if (bpf_map_update_elem(bpf_map__fd(skel_->maps.fwd_svc4), &key, &value, BPF_NOEXIST)) {
            die(fmt::format("fwd_svc4 insert: {}", std::strerror(errno)));
        }
    }

    // `count` mappings on addresses 11.0.0.0 upwards that no measured packet addresses.
    void add_fillers(uint32_t count) const {
        std::vector<fwd_svc4_key> keys;
        std::vector<fwd_svc4_value> values;
        for (uint32_t done = 0; done < count;) {
            keys.clear();
            values.clear();
            for (; done < count && keys.size() < kBatch; ++done) {
                const uint32_t host_order = 0x0b000000U + done;
                const std::array<uint8_t, 4> bytes = {
                    static_cast<uint8_t>(host_order >> 24), static_cast<uint8_t>(host_order >> 16),
                    static_cast<uint8_t>(host_order >> 8), static_cast<uint8_t>(host_order)};
                keys.push_back(svc_key(
                    ipv4_be(fmt::format("{}.{}.{}.{}", bytes[0], bytes[1], bytes[2], bytes[3])),
                    1000));
                values.push_back(svc_value(kContainer, 1000, 1 + done % (FWD_MAX_MAPPINGS - 1)));
            }
            auto n = static_cast<__u32>(keys.size());
            LIBBPF_OPTS(bpf_map_batch_opts, opts);  // batch updates take no BPF_NOEXIST
            if (bpf_map_update_batch(bpf_map__fd(skel_->maps.fwd_svc4), keys.data(), values.data(),
                                     &n, &opts) != 0) {
                die(fmt::format("fwd_svc4 batch insert: {}", std::strerror(errno)));
            }
        }
    }

    void add_conntrack(const char* container, uint16_t container_port, const char* host,
                       uint16_t host_port, uint32_t mapping_id,
                       uint16_t client_port = kClientPort) const {
        const auto key = ct_key(container, container_port, client_port);
        fwd_ct4_value value{};
        value.host_addr = ipv4_be(host);
        value.host_port = port_be(host_port);
        value.mapping_id = mapping_id;
        // Replies are measured arriving on the host device: the fast path's device for them.
        value.container_ifindex = static_cast<uint32_t>(BpfNetns::status().host_ifindex);
        value.last_seen_ns = monotonic_ns();
        if (bpf_map_update_elem(bpf_map__fd(skel_->maps.fwd_ct4), &key, &value, BPF_ANY)) {
            die(fmt::format("fwd_ct4 insert: {}", std::strerror(errno)));
        }
    }

    [[nodiscard]] uint64_t counter(fwd_counter_id id) const {
        std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpus_));
        const auto key = static_cast<uint32_t>(id);
        if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.fwd_counters), &key, per_cpu.data())) {
            die("fwd_counters lookup");
        }
        uint64_t sum = 0;
        for (const auto value : per_cpu) sum += value;
        return sum;
    }

private:
    // fwd_xdp on the fwd_tc maps, as the loader shares them through their pins.
    void load_xdp() {
        xdp_.reset(fwd_xdp__open());
        if (!xdp_) die(fmt::format("fwd_xdp__open: {}", std::strerror(errno)));
        if (unpin_all_maps(xdp_->obj) != 0) die("clearing XDP pin paths failed");
        bpf_map* map = nullptr;
        bpf_object__for_each_map(map, xdp_->obj) {
            const bpf_map* shared = bpf_object__find_map_by_name(skel_->obj, bpf_map__name(map));
            if (shared == nullptr) continue;  // .rodata and the like
            if (bpf_map__reuse_fd(map, bpf_map__fd(shared)) != 0) die("reusing a map for XDP");
        }
        if (const int err = fwd_xdp__load(xdp_.get()); err != 0) {
            die(fmt::format("fwd_xdp__load: {}", std::strerror(-err)));
        }
    }

    Skeleton skel_;
    XdpSkeleton xdp_;
    int ncpus_ = 0;
};

// A two-instruction program (r0 = verdict; exit): the floor of BPF_PROG_TEST_RUN itself.
int load_empty_program(bpf_prog_type type, int verdict) {
    const bpf_insn insns[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, verdict},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    const int fd = bpf_prog_load(type, "fwd_empty", "GPL", insns, 2, nullptr);
    if (fd < 0) die(fmt::format("loading the empty program: {}", std::strerror(errno)));
    return fd;
}

// One BPF_PROG_TEST_RUN of an XDP program: {verdict, mean ns per repeat}.
std::pair<uint32_t, uint32_t> run_xdp(int prog_fd, const Bytes& packet, uint32_t repeat) {
    Bytes out(packet.size() + 256);
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.data_in = packet.data();
    opts.data_size_in = static_cast<__u32>(packet.size());
    opts.data_out = out.data();
    opts.data_size_out = static_cast<__u32>(out.size());
    opts.repeat = repeat;
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
        die(fmt::format("XDP test run: {}", std::strerror(errno)));
    }
    return {opts.retval, opts.duration};
}

// Runs `run` (which returns {verdict, ns}) and checks the verdict and that `counter` grew by
// one per repeat.
double checked(const Datapath& dp, std::optional<fwd_counter_id> counter, uint64_t repeats,
               uint32_t verdict, const char* what,
               const std::function<std::pair<uint32_t, double>()>& run) {
    const uint64_t before = counter ? dp.counter(*counter) : 0;
    const auto [retval, ns] = run();
    if (retval != verdict) die(fmt::format("{}: verdict {}, expected {}", what, retval, verdict));
    if (counter && dp.counter(*counter) - before != repeats) {
        die(fmt::format("{}: {} of {} runs took the measured path", what,
                        dp.counter(*counter) - before, repeats));
    }
    return ns;
}

// One repeated TC run.
double measure(const Datapath& dp, int prog_fd, const Bytes& packet,
               std::optional<fwd_counter_id> counter, const char* what,
               uint32_t verdict = TC_ACT_OK) {
    return checked(dp, counter, kRepeat, verdict, what, [&] {
        const auto run = ProgRunner(prog_fd).run(
            packet, ProgRunner::tc_ctx(BpfNetns::status().host_ifindex), kRepeat);
        if (!run.ok()) die(fmt::format("{}: {}", what, run.error_message()));
        return std::pair<uint32_t, double>{run.retval, run.duration_ns};
    });
}

// A redirecting TC row: kRedirectCalls calls of kRedirectRepeat repeats on a TTL-255 packet.
double measure_redirects(const Datapath& dp, int prog_fd, const Bytes& packet,
                         fwd_counter_id counter, const char* what) {
    return checked(dp, counter, uint64_t{kRedirectCalls} * kRedirectRepeat, TC_ACT_REDIRECT, what,
                   [&] {
                       const ProgRunner runner(prog_fd);
                       const auto ctx = ProgRunner::tc_ctx(BpfNetns::status().host_ifindex);
                       double total = 0;
                       uint32_t retval = TC_ACT_REDIRECT;
                       for (uint32_t i = 0; i < kRedirectCalls; ++i) {
                           const auto run = runner.run(packet, ctx, kRedirectRepeat);
                           if (!run.ok()) die(fmt::format("{}: {}", what, run.error_message()));
                           if (run.retval != TC_ACT_REDIRECT) retval = run.retval;
                           total += run.duration_ns;
                       }
                       return std::pair<uint32_t, double>{retval, total / kRedirectCalls};
                   });
}

// One repeated XDP run.
double measure_xdp(const Datapath& dp, int prog_fd, const Bytes& packet,
                   std::optional<fwd_counter_id> counter, const char* what) {
    return checked(dp, counter, kRepeat, XDP_PASS, what, [&] {
        const auto [retval, ns] = run_xdp(prog_fd, packet, kRepeat);
        return std::pair<uint32_t, double>{retval, ns};
    });
}

// Routes and permanent neighbours for the container and the client, so the FIB can answer.
void add_fast_path_routes() {
    const std::string dev = kHostDevice;
    for (const std::string& command :
         {"ip route add 172.17.0.0/16 dev " + dev,
          "ip neigh replace 172.17.0.2 lladdr 02:00:00:00:01:02 nud permanent dev " + dev,
          "ip neigh replace 172.17.0.3 lladdr 02:00:00:00:01:03 nud permanent dev " + dev,
          "ip neigh replace " + std::string(kClient) + " lladdr 02:00:00:00:00:09 nud permanent dev " +
              dev}) {
        if (std::system(command.c_str()) != 0) die("failed: " + command);
    }
}

// Mean kernel-measured time of single runs, each on a packet from make(i).
double measure_single_runs(const Datapath& dp, int prog_fd,
                           const std::function<Bytes(uint32_t)>& make, fwd_counter_id counter,
                           const char* what) {
    const uint64_t before = dp.counter(counter);
    const ProgRunner runner(prog_fd);
    const auto ctx = ProgRunner::tc_ctx(BpfNetns::status().host_ifindex);
    uint64_t total = 0;
    for (uint32_t i = 0; i < kNewFlowRuns; ++i) {
        const auto run = runner.run(make(i), ctx);
        if (!run.ok() || run.retval != TC_ACT_OK) die(fmt::format("{}: run failed", what));
        total += run.duration_ns;
    }
    if (dp.counter(counter) - before != kNewFlowRuns) {
        die(fmt::format("{}: not every run took the measured path", what));
    }
    return static_cast<double>(total) / kNewFlowRuns;
}

Bytes client_packet(const char* client, uint16_t sport, const char* dst, uint16_t dport,
                    uint8_t ttl = 64) {
    return PacketBuilder()
        .eth()
        .ipv4(client, dst)
        .ttl(ttl)
        .tcp(sport, dport)
        .ack()
        .payload("x")
        .build();
}

struct Row {
    std::string name;
    std::vector<double> ns;  // one per scale
};

int run_bench() {
    const auto& netns = BpfNetns::enter();
    if (netns.state != BpfNetns::State::Ready) die(netns.detail);
    const char* host = kHostAddr;

    add_fast_path_routes();
    std::vector<Row> rows = {
        {"empty TC program (baseline)", {}},
        {"TC ingress miss (no mapping, no tracked reply)", {}},
        {"TC ingress hit, exact, tracked flow, fast path off", {}},
        {"TC ingress hit, wildcard (+FIB local check), tracked, fast path off", {}},
        {"TC egress reply, tracked flow (stack path)", {}},
        {"TC egress miss (no conntrack entry)", {}},
        {"TC ingress hit, exact, tracked, fast path (+FIB lookup, redirect)", {}},
        {"TC ingress reply on the container side, fast path (+FIB lookup, redirect)", {}},
        {"empty XDP program (baseline)", {}},
        {"XDP hit, exact, tracked flow", {}},
        {"TC ingress hit, exact, tracked flow, fast path off (1 run per call)", {}},
        {"TC ingress hit, exact, new flow, fast path off (1 run per call)", {}},
    };
    const int empty_fd = load_empty_program(BPF_PROG_TYPE_SCHED_CLS, TC_ACT_OK);
    const int empty_xdp_fd = load_empty_program(BPF_PROG_TYPE_XDP, XDP_PASS);

    for (const uint32_t scale : kScales) {
        std::fprintf(stderr, "prog_cost: %u mappings...\n", scale);
        const Datapath dp(scale);
        // Exact cycle host:80 <-> container:8080 (mappings 1, 2), wildcard cycle *:81 <-> *:82
        // (mappings 3, 4; to the host address itself, so both sides are local). Then fillers.
        dp.add_service(ipv4_be(host), 80, kContainer, 8080, 1);
        dp.add_service(ipv4_be(kContainer), 8080, host, 80, 2);
        dp.add_service(0, 81, host, 82, 3);
        dp.add_service(0, 82, host, 81, 4);
        // Fast-path cycle routed:80 <-> container:9090 (mappings 5, 6), tracked.
        dp.add_service(ipv4_be(kRoutedHost), 80, kContainer, 9090, 5);
        dp.add_service(ipv4_be(kContainer), 9090, kRoutedHost, 80, 6);
        dp.add_conntrack(kContainer, 9090, kRoutedHost, 80, 5, kFastClientPort);
        dp.add_conntrack(kRoutedHost, 80, kContainer, 9090, 6, kFastClientPort);
        dp.add_fillers(scale > 6 ? scale - 6 : 0);
        // Conntrack cycle for the egress case: container:8080 -> host:80 -> container:8080.
        dp.add_conntrack(kContainer, 8080, host, 80, 1);
        dp.add_conntrack(host, 80, kContainer, 8080, 2);

        const Bytes to_host = client_packet(kClient, kClientPort, host, 80);
        const Bytes to_wildcard = client_packet(kClient, kClientPort, host, 81);
        const Bytes to_nothing = client_packet(kClient, kClientPort, host, 9);
        const Bytes reply = PacketBuilder()
                                .eth()
                                .ipv4(kContainer, kClient)
                                .tcp(8080, kClientPort)
                                .ack()
                                .payload("x")
                                .build();
        const Bytes stray_reply =
            PacketBuilder().eth().ipv4(kContainer, kClient).tcp(9, kClientPort).ack().build();
        const Bytes reply_ttl255 = PacketBuilder()
                                       .eth()
                                       .ipv4(kContainer, kClient)
                                       .ttl(255)
                                       .tcp(8080, kClientPort)
                                       .ack()
                                       .payload("x")
                                       .build();
        // PacketBuilder writes full checksums (as from a wire), which XDP translates.
        const Bytes to_host_full_csum = to_host;

        const ProgRunner empty(empty_fd);
        const auto base =
            empty.run(to_host, ProgRunner::tc_ctx(netns.host_ifindex), kRepeat).duration_ns;
        rows[0].ns.push_back(base);
        // A miss with the fast path on (the default) also looks for a tracked reply.
        rows[1].ns.push_back(
            measure(dp, dp.ingress_fd(), to_nothing, FWD_CNT_PASS_NO_MATCH, "ingress miss"));
        dp.set_fast_path(false);
        // One run first so both flows of each cycle are tracked before timing.
        (void)measure(dp, dp.ingress_fd(), to_host, FWD_CNT_NAT_IN, "warm-up exact");
        rows[2].ns.push_back(measure(dp, dp.ingress_fd(), to_host, FWD_CNT_NAT_IN, "exact hit"));
        (void)measure(dp, dp.ingress_fd(), to_wildcard, FWD_CNT_NAT_IN, "warm-up wildcard");
        rows[3].ns.push_back(
            measure(dp, dp.ingress_fd(), to_wildcard, FWD_CNT_NAT_IN, "wildcard hit"));
        rows[4].ns.push_back(measure(dp, dp.egress_fd(), reply, FWD_CNT_NAT_OUT, "egress hit"));
        rows[5].ns.push_back(
            measure(dp, dp.egress_fd(), stray_reply, FWD_CNT_PASS_NO_MATCH, "egress miss"));
        dp.set_fast_path(true);
        rows[6].ns.push_back(measure_redirects(
            dp, dp.ingress_fd(), client_packet(kClient, kFastClientPort, kRoutedHost, 80, 255),
            FWD_CNT_REDIRECT, "exact hit, fast path"));
        // The stack-path rows recorded "no fast-path device" in these entries: record it again.
        dp.add_conntrack(kContainer, 8080, host, 80, 1);
        dp.add_conntrack(host, 80, kContainer, 8080, 2);
        rows[7].ns.push_back(measure_redirects(dp, dp.ingress_fd(), reply_ttl255,
                                               FWD_CNT_REDIRECT, "reply on ingress, fast path"));
        rows[8].ns.push_back(checked(dp, std::nullopt, kRepeat, XDP_PASS, "empty XDP", [&] {
            const auto [retval, ns] = run_xdp(empty_xdp_fd, to_host, kRepeat);
            return std::pair<uint32_t, double>{retval, ns};
        }));
        rows[9].ns.push_back(
            measure_xdp(dp, dp.xdp_fd(), to_host_full_csum, FWD_CNT_XDP_NAT_IN, "XDP exact hit"));
        dp.set_fast_path(false);
        rows[10].ns.push_back(measure_single_runs(
            dp, dp.ingress_fd(), [&](uint32_t) { return to_host; }, FWD_CNT_NAT_IN,
            "tracked single runs"));
        // A new client (address and port) per run: every run inserts a conntrack entry.
        rows[11].ns.push_back(measure_single_runs(
            dp, dp.ingress_fd(),
            [&](uint32_t i) {
                const auto client = fmt::format("10.1.{}.{}", (i >> 8) & 0xff, i & 0xff);
                return client_packet(client.c_str(), static_cast<uint16_t>(1024 + (i >> 16)), host,
                                     80);
            },
            FWD_CNT_CT_CREATED, "new flows"));
    }

    utsname uts{};
    uname(&uts);
    std::printf(
        "fwd per-packet cost in ns (BPF_PROG_TEST_RUN, kernel %s %s, %d CPUs; "
        "repeat=%u per cell; fast-path rows %u calls of %u repeats; \"1 run per call\" rows the "
        "mean of %u calls)\n\n",
        uts.release, uts.machine, libbpf_num_possible_cpus(), kRepeat, kRedirectCalls,
        kRedirectRepeat, kNewFlowRuns);
    std::printf("| case |");
    for (const auto scale : kScales) std::printf(" %u mapping%s |", scale, scale == 1 ? "" : "s");
    std::printf("\n|---|");
    for (size_t i = 0; i < kScales.size(); ++i) std::printf("---:|");
    std::printf("\n");
    for (const auto& row : rows) {
        std::printf("| %s |", row.name.c_str());
        for (const double ns : row.ns) std::printf(" %.0f |", ns);
        std::printf("\n");
    }
    std::printf(
        "\nfwd_svc4 also holds the 6 cycle mappings, so the \"1 mapping\" column has 6 "
        "entries; fillers make up the rest.\n");
    std::fflush(stdout);
    return 0;
}

}  // namespace
}  // namespace fwd::test

int main() {
    return fwd::test::run_bench();
}
