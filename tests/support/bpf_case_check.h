// The checks a BPF table case makes after its run, shared by the TC and XDP packet tests: the
// output frame (byte for byte and with the checksum oracle), the exact counter and stats bumps,
// and the whole conntrack table.
//
// Failures are reported through gtest (EXPECT_*), so one run shows every wrong field.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fwd_abi.h"
#include "support/bpf_datapath.h"
#include "support/packet_builder.h"
#include "support/prog_runner.h"

namespace fwd::test {

struct CounterBump {
    fwd_counter_id id;
    uint64_t count = 1;
};

// Per-mapping stats a case expects; bytes are the packet counts times the input frame size.
struct StatsBump {
    uint32_t mapping_id = 0;
    uint64_t packets_in = 0;
    uint64_t packets_out = 0;
    uint64_t new_flows = 0;
};

// Whole-frame equality that reports a decoded field diff instead of two byte dumps.
[[nodiscard]] testing::AssertionResult same_frame(const Bytes& expected, const Bytes& actual);

// `output` is `expected` byte for byte. An expected output that differs from the input must
// carry valid checksums (else the table is wrong), and so must the output of a valid input.
void check_output(const Bytes& input, const Bytes& expected, const Bytes& output);

// Every counter is the sum of its bumps: a counter without one must be 0.
void check_counters(const Counters& actual, const std::vector<CounterBump>& bumps);

// Every test stats slot (ids below kMaxTestMappingId) holds its bump, or zeroes without one.
void check_stats(const BpfDatapath& datapath, const std::vector<StatsBump>& bumps,
                 size_t frame_size);

// The conntrack tables (fwd_ct4 and fwd_ct6 together) hold exactly `want` (compared without
// last_seen and device). Every entry has zero key padding and flags and a concrete host address;
// its container_ifindex is 0 (the stack) or `redirect_ifindex` (pass 0 where no flow may take the
// fast path); its last_seen is either what the case inserted (`before`, inserted at
// `inserted_at`) or a time during the run [`started`, `finished`], give or take
// kCoarseClockSlackNs.
void check_conntrack(const BpfDatapath& datapath, const std::vector<ConntrackEntry>& want,
                     const std::vector<ConntrackEntry>& before, uint64_t inserted_at,
                     uint64_t started, uint64_t finished, uint32_t redirect_ifindex);

// What the TC table tests share: the data path loaded once per suite on private maps and emptied
// before each test (skipped without root; a failed namespace or load fails the test), running the
// TC programs, and a case's map contents and checks.
class TcProgramFixture : public testing::Test {
protected:
    static void SetUpTestSuite();
    static void TearDownTestSuite() { datapath_.reset(); }
    void SetUp() override;

    // Runs fwd_tc_ingress (`ingress`) or fwd_tc_egress once on `packet` arriving on `ifindex`.
    [[nodiscard]] static ProgRun run_tc(bool ingress, const Bytes& packet, int ifindex,
                                        SkbChecksum csum = SkbChecksum::None);

    // Inserts a case's services and its conntrack entries, each last seen its age before `now`.
    // (On a machine up for less than an entry's age, now - age wraps below zero; the data path's
    // unsigned `now - last_seen` wraps back, so the age it sees is still exact.)
    static void insert(const std::vector<ServiceEntry>& services,
                       const std::vector<ConntrackEntry>& conntrack, uint64_t now);

    // Fails the test unless the run happened (EBADMSG: CHECKSUM_COMPLETE left inconsistent).
    static void expect_ran(const ProgRun& result);

    inline static std::unique_ptr<BpfDatapath> datapath_;
    inline static std::string load_error_;
    // Kernels before 6.11 refuse BPF_F_TEST_SKB_CHECKSUM_COMPLETE with EINVAL.
    inline static bool checksum_complete_supported_ = false;
};

// A whole table case's outcome after its run: the output frame, the counters, the stats and the
// conntrack tables (`after`; `before` as inserted at `inserted_at`, the run in [`started`,
// `finished`]).
template <typename Case>
void check_case_outcome(const BpfDatapath& datapath, const Case& c, const Bytes& output,
                        const std::vector<ConntrackEntry>& after,
                        const std::vector<ConntrackEntry>& before, uint64_t inserted_at,
                        uint64_t started, uint64_t finished, uint32_t redirect_ifindex) {
    check_output(c.input, c.expected, output);
    check_counters(datapath.counters(), c.counters);
    check_stats(datapath, c.stats, c.input.size());
    check_conntrack(datapath, after, before, inserted_at, started, finished, redirect_ifindex);
}

}  // namespace fwd::test
