#include "support/bpf_datapath.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include "fwd_tc.skel.h"
#include "fwd_xdp.skel.h"
#include "support/packet_builder.h"
#include "support/prog_runner.h"

namespace fwd::test {
namespace {

int fd(const bpf_map* map) {
    return bpf_map__fd(map);
}

void clear_hash(int map_fd, size_t key_size) {
    std::vector<uint8_t> key(key_size);
    while (bpf_map_get_next_key(map_fd, nullptr, key.data()) == 0) {
        ASSERT_EQ(bpf_map_delete_elem(map_fd, key.data()), 0) << std::strerror(errno);
    }
}

// Gives every map of the (opened, not loaded) XDP object the descriptor of fwd_tc's map of the
// same name. maps.h declares each map once for both programs, so every one has a counterpart;
// internal maps (.rodata, .bss) stay the object's own.
std::string share_maps(bpf_object* xdp, const bpf_object* tc) {
    bpf_map* map = nullptr;
    bpf_object__for_each_map(map, xdp) {
        if (bpf_map__is_internal(map)) continue;
        const bpf_map* shared = bpf_object__find_map_by_name(tc, bpf_map__name(map));
        if (shared == nullptr) {
            return fmt::format("fwd_xdp map {} has no fwd_tc counterpart", bpf_map__name(map));
        }
        if (const int err = bpf_map__reuse_fd(map, bpf_map__fd(shared)); err != 0) {
            return fmt::format("reuse fwd_tc's {}: {}", bpf_map__name(map), std::strerror(-err));
        }
    }
    return {};
}

std::string address_string(__be32 addr) {
    return ipv4_string(addr);
}

std::string address_string(const __be32 (&addr)[4]) {
    return ipv6_string(addr);
}

// Every entry of a conntrack map of either family, with its readable form.
template <typename Record>
std::vector<Record> read_conntrack(int map_fd) {
    std::vector<Record> records;
    decltype(Record::key) current{};
    decltype(Record::key) key{};
    const void* prev = nullptr;
    while (bpf_map_get_next_key(map_fd, prev, &key) == 0) {
        current = key;
        prev = &current;
        Record record;
        record.key = key;
        if (bpf_map_lookup_elem(map_fd, &key, &record.value) == 0) {
            record.entry = ConntrackEntry{address_string(key.container_addr),
                                          port_host(key.container_port),
                                          address_string(key.client_addr),
                                          port_host(key.client_port),
                                          key.proto,
                                          address_string(record.value.host_addr),
                                          port_host(record.value.host_port),
                                          record.value.mapping_id,
                                          0,
                                          record.value.container_ifindex,
                                          record.value.flags};
            records.push_back(record);
        }
    }
    return records;
}

// Inserts a mapping's service entry and its --allow networks into the maps of its family.
template <typename Key, typename Value, typename AllowKey>
void insert_service(int svc_fd, int allow_fd, const Key& key, const Value& value,
                    const ServiceEntry& entry,
                    AllowKey (*make_allow)(uint32_t, const std::string&)) {
    ASSERT_EQ(bpf_map_update_elem(svc_fd, &key, &value, BPF_NOEXIST), 0)
        << "service insert: " << std::strerror(errno);
    for (const auto& cidr : entry.allow) {
        const auto allow_key = make_allow(entry.mapping_id, cidr);
        const uint32_t one = 1;
        ASSERT_EQ(bpf_map_update_elem(allow_fd, &allow_key, &one, BPF_NOEXIST), 0)
            << "allow-list insert " << cidr << ": " << std::strerror(errno);
    }
}

}  // namespace

uint64_t coarse_monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * kNsPerSec + static_cast<uint64_t>(ts.tv_nsec);
}

std::string ConntrackEntry::to_string() const {
    return fmt::format("{} {}:{} <- client {}:{} published {}:{} mapping {}",
                       proto == kIpProtoTcp ? "tcp" : "udp", container_addr, container_port,
                       client_addr, client_port, host_addr, host_port, mapping_id);
}

fwd_svc4_key make_svc_key(const ServiceEntry& entry) {
    fwd_svc4_key key{};
    key.host_addr = ipv4_be(entry.host_addr);
    key.host_port = port_be(entry.host_port);
    key.proto = entry.proto;
    return key;
}

fwd_svc4_value make_svc_value(const ServiceEntry& entry) {
    fwd_svc4_value value{};
    value.container_addr = ipv4_be(entry.container_addr);
    value.container_port = port_be(entry.container_port);
    value.mapping_id = entry.mapping_id;
    value.flags = entry.allow.empty() ? 0 : FWD_SVC_FLAG_ALLOW_LIST;
    return value;
}

fwd_allow4_key make_allow_key(uint32_t mapping_id, const std::string& cidr) {
    const auto slash = cidr.find('/');
    fwd_allow4_key key{};
    key.prefixlen = FWD_ALLOW4_ID_BITS + static_cast<uint32_t>(std::stoul(cidr.substr(slash + 1)));
    key.mapping_id = mapping_id;
    key.addr = ipv4_be(cidr.substr(0, slash));
    return key;
}

fwd_ct4_key make_ct_key(const ConntrackEntry& entry) {
    fwd_ct4_key key{};
    key.container_addr = ipv4_be(entry.container_addr);
    key.client_addr = ipv4_be(entry.client_addr);
    key.container_port = port_be(entry.container_port);
    key.client_port = port_be(entry.client_port);
    key.proto = entry.proto;
    return key;
}

fwd_ct4_value make_ct_value(const ConntrackEntry& entry, uint64_t now_ns) {
    fwd_ct4_value value{};
    value.host_addr = ipv4_be(entry.host_addr);
    value.host_port = port_be(entry.host_port);
    value.mapping_id = entry.mapping_id;
    value.container_ifindex = entry.container_ifindex;
    value.flags = entry.flags;
    value.last_seen_ns = now_ns - entry.age_ns;
    return value;
}

fwd_svc6_key make_svc6_key(const ServiceEntry& entry) {
    fwd_svc6_key key{};
    const auto host = ipv6_be(entry.host_addr);
    std::copy(host.begin(), host.end(), key.host_addr);
    key.host_port = port_be(entry.host_port);
    key.proto = entry.proto;
    return key;
}

fwd_svc6_value make_svc6_value(const ServiceEntry& entry) {
    fwd_svc6_value value{};
    const auto container = ipv6_be(entry.container_addr);
    std::copy(container.begin(), container.end(), value.container_addr);
    value.container_port = port_be(entry.container_port);
    value.mapping_id = entry.mapping_id;
    value.flags = entry.allow.empty() ? 0 : FWD_SVC_FLAG_ALLOW_LIST;
    return value;
}

fwd_allow6_key make_allow6_key(uint32_t mapping_id, const std::string& cidr) {
    const auto slash = cidr.find('/');
    fwd_allow6_key key{};
    key.prefixlen = FWD_ALLOW4_ID_BITS + static_cast<uint32_t>(std::stoul(cidr.substr(slash + 1)));
    key.mapping_id = mapping_id;
    const auto addr = ipv6_be(cidr.substr(0, slash));
    std::copy(addr.begin(), addr.end(), key.addr);
    return key;
}

fwd_ct6_key make_ct6_key(const ConntrackEntry& entry) {
    fwd_ct6_key key{};
    const auto container = ipv6_be(entry.container_addr);
    const auto client = ipv6_be(entry.client_addr);
    std::copy(container.begin(), container.end(), key.container_addr);
    std::copy(client.begin(), client.end(), key.client_addr);
    key.container_port = port_be(entry.container_port);
    key.client_port = port_be(entry.client_port);
    key.proto = entry.proto;
    return key;
}

fwd_ct6_value make_ct6_value(const ConntrackEntry& entry, uint64_t now_ns) {
    fwd_ct6_value value{};
    const auto host = ipv6_be(entry.host_addr);
    std::copy(host.begin(), host.end(), value.host_addr);
    value.host_port = port_be(entry.host_port);
    value.mapping_id = entry.mapping_id;
    value.container_ifindex = entry.container_ifindex;
    value.flags = entry.flags;
    value.last_seen_ns = now_ns - entry.age_ns;
    return value;
}

std::string counter_name(uint32_t id) {
    static constexpr std::pair<uint32_t, const char*> kNames[] = {
        {FWD_CNT_PASS_NOT_IP, "FWD_CNT_PASS_NOT_IP"},
        {FWD_CNT_PASS_NOT_L4, "FWD_CNT_PASS_NOT_L4"},
        {FWD_CNT_PASS_NO_MATCH, "FWD_CNT_PASS_NO_MATCH"},
        {FWD_CNT_PASS_FRAGMENT, "FWD_CNT_PASS_FRAGMENT"},
        {FWD_CNT_PASS_TRUNCATED, "FWD_CNT_PASS_TRUNCATED"},
        {FWD_CNT_PASS_MALFORMED, "FWD_CNT_PASS_MALFORMED"},
        {FWD_CNT_PASS_NOT_LOCAL, "FWD_CNT_PASS_NOT_LOCAL"},
        {FWD_CNT_DROP_LOOPBACK, "FWD_CNT_DROP_LOOPBACK"},
        {FWD_CNT_ERR_REWRITE, "FWD_CNT_ERR_REWRITE"},
        {FWD_CNT_CT_CREATE_FAILED, "FWD_CNT_CT_CREATE_FAILED"},
        {FWD_CNT_NAT_IN, "FWD_CNT_NAT_IN"},
        {FWD_CNT_NAT_OUT, "FWD_CNT_NAT_OUT"},
        {FWD_CNT_CT_CREATED, "FWD_CNT_CT_CREATED"},
        {FWD_CNT_IP_OPTIONS, "FWD_CNT_IP_OPTIONS"},
        {FWD_CNT_PASS_HOST_SOCKET, "FWD_CNT_PASS_HOST_SOCKET"},
        {FWD_CNT_SOCK_XLATE, "FWD_CNT_SOCK_XLATE"},
        {FWD_CNT_SOCK_REVXLATE, "FWD_CNT_SOCK_REVXLATE"},
        {FWD_CNT_BIND_REFUSED, "FWD_CNT_BIND_REFUSED"},
        {FWD_CNT_REDIRECT, "FWD_CNT_REDIRECT"},
        {FWD_CNT_XDP_NAT_IN, "FWD_CNT_XDP_NAT_IN"},
        {FWD_CNT_XDP_TO_TC, "FWD_CNT_XDP_TO_TC"},
        {FWD_CNT_ICMP_ERROR_NAT, "FWD_CNT_ICMP_ERROR_NAT"},
        {FWD_CNT_DROP_NOT_ALLOWED, "FWD_CNT_DROP_NOT_ALLOWED"},
        {FWD_CNT_PASS_EXT_HEADERS, "FWD_CNT_PASS_EXT_HEADERS"},
        {FWD_CNT_NAT6_IN, "FWD_CNT_NAT6_IN"},
        {FWD_CNT_NAT6_OUT, "FWD_CNT_NAT6_OUT"},
    };
    for (const auto& [known, name] : kNames) {
        if (known == id) return name;
    }
    return fmt::format("counter id {}", id);
}

std::unique_ptr<BpfDatapath> BpfDatapath::load(std::string* error) {
    const int ncpus = libbpf_num_possible_cpus();
    if (ncpus <= 0) {
        *error = "libbpf_num_possible_cpus failed";
        return nullptr;
    }
    fwd_tc* tc = fwd_tc__open();
    if (tc == nullptr) {
        *error = fmt::format("fwd_tc__open: {}", std::strerror(errno));
        return nullptr;
    }
    std::unique_ptr<BpfDatapath> datapath(new BpfDatapath(tc, ncpus));
    if (const int err = unpin_all_maps(tc->obj); err != 0) {
        *error = fmt::format("fwd_tc: clear pin paths: {}", std::strerror(-err));
        return nullptr;
    }
    if (const int err = fwd_tc__load(tc); err != 0) {
        *error = fmt::format("fwd_tc__load: {}", std::strerror(-err));
        return nullptr;
    }
    datapath->xdp_ = fwd_xdp__open();
    if (datapath->xdp_ == nullptr) {
        *error = fmt::format("fwd_xdp__open: {}", std::strerror(errno));
        return nullptr;
    }
    if (const int err = unpin_all_maps(datapath->xdp_->obj); err != 0) {
        *error = fmt::format("fwd_xdp: clear pin paths: {}", std::strerror(-err));
        return nullptr;
    }
    if (auto shared = share_maps(datapath->xdp_->obj, tc->obj); !shared.empty()) {
        *error = std::move(shared);
        return nullptr;
    }
    if (const int err = fwd_xdp__load(datapath->xdp_); err != 0) {
        *error = fmt::format("fwd_xdp__load: {}", std::strerror(-err));
        return nullptr;
    }
    return datapath;
}

BpfDatapath::~BpfDatapath() {
    fwd_xdp__destroy(xdp_);  // both accept nullptr
    fwd_tc__destroy(tc_);
}

int BpfDatapath::prog_fd(Prog prog) const {
    switch (prog) {
        case Prog::TcIngress:
            return bpf_program__fd(tc_->progs.fwd_tc_ingress);
        case Prog::TcEgress:
            return bpf_program__fd(tc_->progs.fwd_tc_egress);
        case Prog::XdpIngress:
            return bpf_program__fd(xdp_->progs.fwd_xdp_ingress);
    }
    return -1;
}

void BpfDatapath::reset() const {
    ASSERT_NO_FATAL_FAILURE(clear_hash(fd(tc_->maps.fwd_svc4), sizeof(fwd_svc4_key)));
    ASSERT_NO_FATAL_FAILURE(clear_hash(fd(tc_->maps.fwd_ct4), sizeof(fwd_ct4_key)));
    ASSERT_NO_FATAL_FAILURE(clear_hash(fd(tc_->maps.fwd_allow4), sizeof(fwd_allow4_key)));
    ASSERT_NO_FATAL_FAILURE(clear_hash(fd(tc_->maps.fwd_svc6), sizeof(fwd_svc6_key)));
    ASSERT_NO_FATAL_FAILURE(clear_hash(fd(tc_->maps.fwd_ct6), sizeof(fwd_ct6_key)));
    ASSERT_NO_FATAL_FAILURE(clear_hash(fd(tc_->maps.fwd_allow6), sizeof(fwd_allow6_key)));
    const std::vector<uint64_t> zero_counter(static_cast<size_t>(ncpus_), 0);
    for (uint32_t id = 0; id < FWD_CNT_MAX; ++id) {
        ASSERT_EQ(
            bpf_map_update_elem(fd(tc_->maps.fwd_counters), &id, zero_counter.data(), BPF_ANY), 0)
            << std::strerror(errno);
    }
    const std::vector<fwd_mapping_stats> zero_stats(static_cast<size_t>(ncpus_),
                                                    fwd_mapping_stats{});
    for (uint32_t id = 0; id < kMaxTestMappingId; ++id) {
        ASSERT_EQ(bpf_map_update_elem(fd(tc_->maps.fwd_stats), &id, zero_stats.data(), BPF_ANY), 0)
            << std::strerror(errno);
    }
    ASSERT_NO_FATAL_FAILURE(set_config_flags(0));
}

void BpfDatapath::add_service(const ServiceEntry& entry) const {
    if (is_ipv6(entry.host_addr)) {
        insert_service(fd(tc_->maps.fwd_svc6), fd(tc_->maps.fwd_allow6), make_svc6_key(entry),
                       make_svc6_value(entry), entry, make_allow6_key);
    } else {
        insert_service(fd(tc_->maps.fwd_svc4), fd(tc_->maps.fwd_allow4), make_svc_key(entry),
                       make_svc_value(entry), entry, make_allow_key);
    }
}

void BpfDatapath::add_conntrack(const ConntrackEntry& entry, uint64_t now_ns, __u64 flags) const {
    if (is_ipv6(entry.container_addr)) {
        const auto key = make_ct6_key(entry);
        const auto value = make_ct6_value(entry, now_ns);
        ASSERT_EQ(bpf_map_update_elem(fd(tc_->maps.fwd_ct6), &key, &value, flags), 0)
            << "fwd_ct6 insert: " << std::strerror(errno);
        return;
    }
    const auto key = make_ct_key(entry);
    const auto value = make_ct_value(entry, now_ns);
    ASSERT_EQ(bpf_map_update_elem(fd(tc_->maps.fwd_ct4), &key, &value, flags), 0)
        << "fwd_ct4 insert: " << std::strerror(errno);
}

void BpfDatapath::set_config_flags(uint32_t flags) const {
    const __u32 key = 0;
    fwd_config config{};
    config.flags = flags;
    ASSERT_EQ(bpf_map_update_elem(fd(tc_->maps.fwd_config), &key, &config, BPF_ANY), 0)
        << "fwd_config update: " << std::strerror(errno);
}

Counters BpfDatapath::counters() const {
    Counters sums{};
    std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpus_));
    for (uint32_t id = 0; id < FWD_CNT_MAX; ++id) {
        EXPECT_EQ(bpf_map_lookup_elem(fd(tc_->maps.fwd_counters), &id, per_cpu.data()), 0);
        for (const auto value : per_cpu) {
            sums[id] += value;
        }
    }
    return sums;
}

fwd_mapping_stats BpfDatapath::stats(uint32_t mapping_id) const {
    fwd_mapping_stats sum{};
    std::vector<fwd_mapping_stats> per_cpu(static_cast<size_t>(ncpus_));
    EXPECT_EQ(bpf_map_lookup_elem(fd(tc_->maps.fwd_stats), &mapping_id, per_cpu.data()), 0);
    for (const auto& cpu : per_cpu) {
        sum.packets_in += cpu.packets_in;
        sum.bytes_in += cpu.bytes_in;
        sum.packets_out += cpu.packets_out;
        sum.bytes_out += cpu.bytes_out;
        sum.new_flows += cpu.new_flows;
    }
    return sum;
}

std::vector<BpfDatapath::ConntrackRecord> BpfDatapath::conntrack() const {
    return read_conntrack<ConntrackRecord>(fd(tc_->maps.fwd_ct4));
}

std::vector<BpfDatapath::ConntrackRecord6> BpfDatapath::conntrack6() const {
    return read_conntrack<ConntrackRecord6>(fd(tc_->maps.fwd_ct6));
}

}  // namespace fwd::test
