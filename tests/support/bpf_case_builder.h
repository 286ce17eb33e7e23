// The part of a BPF table case's builder that the TC and the XDP packet tests share: the map
// contents a case starts from, its input, and the outcomes that name their counter, stats and
// conntrack consequences. Each test file derives its own builder (CRTP) for what only it has
// (devices, the fast-path switch, XDP marks).
//
// `Case` must have: name, services, conntrack, input, expected, counters, stats,
// conntrack_after (see NatCase in tests/bpf/tc_nat_test.cpp).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fwd_abi.h"
#include "support/bpf_case_check.h"
#include "support/bpf_datapath.h"
#include "support/checksum.h"
#include "support/packet_builder.h"

namespace fwd::test {

// The same flow: one reply tuple (what a conntrack key holds).
[[nodiscard]] inline bool same_flow(const ConntrackEntry& a, const ConntrackEntry& b) {
    return a.container_addr == b.container_addr && a.container_port == b.container_port &&
           a.client_addr == b.client_addr && a.client_port == b.client_port && a.proto == b.proto;
}

// A payload for `make` (a UDP frame of either family around a payload) whose UDP checksum
// computes to exactly 0, which RFC 768 sends as 0xffff. Its first 16-bit word is free: with that
// word 0 the sum folds to S and the checksum is ~S; a word of ~S makes the sum fold to 0xffff,
// whose complement is 0. (If ~S is 0 the word 0xffff does the same.) Aborts if that fails.
[[nodiscard]] inline Bytes payload_with_zero_udp_sum(
    const std::function<Bytes(const Bytes&)>& make) {
    Bytes payload = {0, 0, 'f', 'w', 'd'};
    const uint16_t word = udp_wire_checksum(computed_udp_checksum(make(payload)));
    payload[0] = static_cast<uint8_t>(word >> 8);
    payload[1] = static_cast<uint8_t>(word & 0xff);
    if (computed_udp_checksum(make(payload)) != 0) {
        std::fprintf(stderr, "payload_with_zero_udp_sum: search failed\n");
        std::abort();
    }
    return payload;
}

// Call input() before an outcome that keeps the packet (passes), and conntrack() before
// new_flow().
template <typename Derived, typename Case>
class CaseBuilderBase {
public:
    Derived& services(std::vector<ServiceEntry> services) {
        case_.services = std::move(services);
        return self();
    }
    Derived& conntrack(std::vector<ConntrackEntry> entries) {
        case_.conntrack = std::move(entries);
        return self();
    }
    Derived& input(Bytes input) {
        case_.input = std::move(input);
        return self();
    }
    // Handed on as `expected` (with the case's default verdict).
    Derived& output(Bytes expected) {
        case_.expected = std::move(expected);
        return self();
    }
    // Passes unchanged, counted in `counter`.
    Derived& passes(fwd_counter_id counter) {
        case_.expected = case_.input;
        return counts(counter);
    }
    // The first packet of a flow through mapping `mapping_id`, which tracks it as `flow`
    // (replacing an entry with the same reply tuple).
    Derived& new_flow(uint32_t mapping_id, const ConntrackEntry& flow) {
        std::vector<ConntrackEntry> after;
        for (const auto& entry : case_.conntrack) {
            if (!same_flow(entry, flow)) {
                after.push_back(entry);
            }
        }
        after.push_back(flow);
        case_.conntrack_after = std::move(after);
        case_.stats.push_back({mapping_id, 1, 0, 1});
        return counts(FWD_CNT_NAT_IN).counts(FWD_CNT_CT_CREATED);
    }
    // A later forward packet of a tracked flow through mapping `mapping_id`.
    Derived& tracked_in(uint32_t mapping_id) {
        case_.stats.push_back({mapping_id, 1, 0, 0});
        return counts(FWD_CNT_NAT_IN);
    }
    // A reply of a flow through mapping `mapping_id`.
    Derived& reply_out(uint32_t mapping_id) {
        case_.stats.push_back({mapping_id, 0, 1, 0});
        return counts(FWD_CNT_NAT_OUT);
    }
    // One more bump of `counter`.
    Derived& counts(fwd_counter_id counter) {
        case_.counters.push_back({counter, 1});
        return self();
    }

    [[nodiscard]] Case build() const { return case_; }

protected:
    explicit CaseBuilderBase(std::string name) { case_.name = std::move(name); }

    Derived& self() { return static_cast<Derived&>(*this); }

    Case case_;
};

}  // namespace fwd::test
