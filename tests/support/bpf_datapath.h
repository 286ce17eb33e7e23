// The data path as BPF tests load it: the fwd_tc skeleton with private (unpinned) maps, and the
// fwd_xdp skeleton reusing those very maps (bpf_map__reuse_fd before load), the way `attach
// --mode xdp` shares the pinned ones; so TC and XDP see one state. Map entries in readable form
// and typed access to the maps.
//
// The map-touching calls report failures through gtest assertions: wrap them in
// ASSERT_NO_FATAL_FAILURE where a failure must stop the test.
#pragma once

#include <linux/bpf.h>
#include <linux/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fwd_abi.h"

struct fwd_tc;
struct fwd_xdp;

namespace fwd::test {

// Tests use mapping ids below this; reset() zeroes their stats slots.
inline constexpr uint32_t kMaxTestMappingId = 16;

inline constexpr uint64_t kNsPerSec = 1000000000ULL;

// CLOCK_MONOTONIC_COARSE is the clock of bpf_ktime_get_coarse_ns(), the conntrack clock. The
// kernel's and the vDSO's coarse readings were seen up to ~2 ms apart (one tick), so times the
// programs stamp are compared with this much slack.
inline constexpr uint64_t kCoarseClockSlackNs = 20 * 1000 * 1000;

[[nodiscard]] uint64_t coarse_monotonic_ns();

// An IPv4 or IPv6 mapping, by its addresses' family (fwd_svc4 or fwd_svc6).
struct ServiceEntry {
    std::string host_addr;
    uint16_t host_port = 0;
    uint8_t proto = 0;
    std::string container_addr;
    uint16_t container_port = 0;
    uint32_t mapping_id = 0;
    // --allow networks ("10.0.0.0/8", "fd00::/64"): sets FWD_SVC_FLAG_ALLOW_LIST and fills
    // fwd_allow4 or fwd_allow6.
    std::vector<std::string> allow = {};
};

// An IPv4 or IPv6 flow, by its addresses' family (fwd_ct4 or fwd_ct6).
struct ConntrackEntry {
    std::string container_addr;
    uint16_t container_port = 0;
    std::string client_addr;
    uint16_t client_port = 0;
    uint8_t proto = 0;
    std::string host_addr;
    uint16_t host_port = 0;
    uint32_t mapping_id = 0;
    uint64_t age_ns = 0;  // last_seen_ns = now - age_ns when inserted; not compared
    // Where the flow's forward packets are redirected (0: the stack); replies take the fast path
    // only arriving there. Not in to_string: tests that care compare it themselves.
    uint32_t container_ifindex = 0;
    uint16_t flags = 0;  // FWD_CT_FLAG_*; not in to_string either

    // The entry without its age, device and flags, for comparing tables.
    [[nodiscard]] std::string to_string() const;
};

// The ABI structs, value-initialised (padding and reserved fields zero: hash keys compare raw
// bytes).
[[nodiscard]] fwd_svc4_key make_svc_key(const ServiceEntry& entry);
[[nodiscard]] fwd_svc4_value make_svc_value(const ServiceEntry& entry);
// "10.0.0.0/8" under `mapping_id`.
[[nodiscard]] fwd_allow4_key make_allow_key(uint32_t mapping_id, const std::string& cidr);
[[nodiscard]] fwd_ct4_key make_ct_key(const ConntrackEntry& entry);
[[nodiscard]] fwd_ct4_value make_ct_value(const ConntrackEntry& entry, uint64_t now_ns);
// The IPv6 twins.
[[nodiscard]] fwd_svc6_key make_svc6_key(const ServiceEntry& entry);
[[nodiscard]] fwd_svc6_value make_svc6_value(const ServiceEntry& entry);
[[nodiscard]] fwd_allow6_key make_allow6_key(uint32_t mapping_id, const std::string& cidr);
[[nodiscard]] fwd_ct6_key make_ct6_key(const ConntrackEntry& entry);
[[nodiscard]] fwd_ct6_value make_ct6_value(const ConntrackEntry& entry, uint64_t now_ns);

using Counters = std::array<uint64_t, FWD_CNT_MAX>;

// "FWD_CNT_NAT_IN", or "counter id N" for an id this list does not know yet.
[[nodiscard]] std::string counter_name(uint32_t id);

class BpfDatapath {
public:
    enum class Prog { TcIngress, TcEgress, XdpIngress };

    struct ConntrackRecord {
        ConntrackEntry entry;
        fwd_ct4_key key{};
        fwd_ct4_value value{};
    };
    struct ConntrackRecord6 {
        ConntrackEntry entry;
        fwd_ct6_key key{};
        fwd_ct6_value value{};
    };

    // Opens both skeletons, clears every pin path (nothing is written under /sys/fs/bpf), loads
    // fwd_tc, points fwd_xdp's maps at fwd_tc's and loads fwd_xdp. nullptr and *error on failure.
    static std::unique_ptr<BpfDatapath> load(std::string* error);

    BpfDatapath(const BpfDatapath&) = delete;
    BpfDatapath& operator=(const BpfDatapath&) = delete;
    ~BpfDatapath();

    [[nodiscard]] int prog_fd(Prog prog) const;

    // Empties fwd_svc4/6, fwd_allow4/6 and fwd_ct4/6, zeroes fwd_config (fast path on), the
    // counters and the stats slots of the test mapping ids.
    void reset() const;

    void add_service(const ServiceEntry& entry) const;
    // Inserts (or with BPF_EXIST overwrites) an entry last seen entry.age_ns before now_ns.
    void add_conntrack(const ConntrackEntry& entry, uint64_t now_ns,
                       __u64 flags = BPF_NOEXIST) const;
    // fwd_config.flags (FWD_CONFIG_*), as `attach --fast-path off` sets them.
    void set_config_flags(uint32_t flags) const;

    // Sums over all CPUs.
    [[nodiscard]] Counters counters() const;
    [[nodiscard]] fwd_mapping_stats stats(uint32_t mapping_id) const;
    // fwd_ct4's and fwd_ct6's entries.
    [[nodiscard]] std::vector<ConntrackRecord> conntrack() const;
    [[nodiscard]] std::vector<ConntrackRecord6> conntrack6() const;

private:
    BpfDatapath(fwd_tc* tc, int ncpus) : tc_(tc), ncpus_(ncpus) {}

    fwd_tc* tc_;
    fwd_xdp* xdp_ = nullptr;
    int ncpus_;
};

}  // namespace fwd::test
