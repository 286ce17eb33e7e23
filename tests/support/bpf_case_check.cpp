#include "support/bpf_case_check.h"

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <string>

#include "support/bpf_netns.h"
#include "support/checksum.h"

namespace fwd::test {

testing::AssertionResult same_frame(const Bytes& expected, const Bytes& actual) {
    if (expected == actual) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "output frame differs from the expected one\n"
                                       << describe_diff(expected, actual);
}

void check_output(const Bytes& input, const Bytes& expected, const Bytes& output) {
    EXPECT_TRUE(same_frame(expected, output)) << "input:\n" << decode(input).to_string();
    if (expected != input) {
        const auto expected_sums = verify_checksums(expected);
        EXPECT_TRUE(expected_sums.ok) << "table bug: expected output " << expected_sums.detail;
    }
    if (verify_checksums(input).ok) {
        const auto sums = verify_checksums(output);
        EXPECT_TRUE(sums.ok) << "output checksums: " << sums.detail;
    }
}

void TcProgramFixture::SetUpTestSuite() {
    if (BpfNetns::status().state == BpfNetns::State::Ready) {
        datapath_ = BpfDatapath::load(&load_error_);
    }
    if (datapath_) {
        const Bytes arp = PacketBuilder().eth().arp_request("10.0.0.9", kHostAddr).build();
        checksum_complete_supported_ =
            run_tc(true, arp, BpfNetns::status().host_ifindex, SkbChecksum::Complete).err != EINVAL;
    }
}

void TcProgramFixture::SetUp() {
    const auto& netns = BpfNetns::status();
    if (netns.state == BpfNetns::State::NotRoot) {
        GTEST_SKIP() << netns.detail;
    }
    ASSERT_EQ(netns.state, BpfNetns::State::Ready) << "private network namespace: " << netns.detail;
    ASSERT_NE(datapath_, nullptr) << "loading fwd_tc: " << load_error_;
    ASSERT_NO_FATAL_FAILURE(datapath_->reset());
}

ProgRun TcProgramFixture::run_tc(bool ingress, const Bytes& packet, int ifindex, SkbChecksum csum) {
    const ProgRunner runner(
        datapath_->prog_fd(ingress ? BpfDatapath::Prog::TcIngress : BpfDatapath::Prog::TcEgress));
    return runner.run(packet, ProgRunner::tc_ctx(ifindex), 1, csum);
}

void TcProgramFixture::insert(const std::vector<ServiceEntry>& services,
                              const std::vector<ConntrackEntry>& conntrack, uint64_t now) {
    for (const auto& service : services) {
        ASSERT_NO_FATAL_FAILURE(datapath_->add_service(service));
    }
    for (const auto& entry : conntrack) {
        ASSERT_NO_FATAL_FAILURE(datapath_->add_conntrack(entry, now));
    }
}

void TcProgramFixture::expect_ran(const ProgRun& result) {
    ASSERT_TRUE(result.ok()) << result.error_message()
                             << (result.err == EBADMSG
                                     ? ": the program left skb->csum (CHECKSUM_COMPLETE) "
                                       "inconsistent with the packet"
                                     : "");
}

void check_counters(const Counters& actual, const std::vector<CounterBump>& bumps) {
    Counters expected{};
    for (const auto& bump : bumps) {
        expected[bump.id] += bump.count;
    }
    for (uint32_t id = 0; id < FWD_CNT_MAX; ++id) {
        EXPECT_EQ(actual[id], expected[id]) << "counter " << counter_name(id);
    }
}

void check_stats(const BpfDatapath& datapath, const std::vector<StatsBump>& bumps,
                 size_t frame_size) {
    for (uint32_t id = 0; id < kMaxTestMappingId; ++id) {
        StatsBump want{id, 0, 0, 0};
        for (const auto& bump : bumps) {
            if (bump.mapping_id == id) want = bump;
        }
        const auto got = datapath.stats(id);
        EXPECT_EQ(got.packets_in, want.packets_in) << "fwd_stats[" << id << "].packets_in";
        EXPECT_EQ(got.bytes_in, want.packets_in * frame_size) << "fwd_stats[" << id << "].bytes_in";
        EXPECT_EQ(got.packets_out, want.packets_out) << "fwd_stats[" << id << "].packets_out";
        EXPECT_EQ(got.bytes_out, want.packets_out * frame_size)
            << "fwd_stats[" << id << "].bytes_out";
        EXPECT_EQ(got.new_flows, want.new_flows) << "fwd_stats[" << id << "].new_flows";
    }
}

namespace {

bool host_addr_is_concrete(__be32 addr) {
    return addr != 0;
}

bool host_addr_is_concrete(const __be32 (&addr)[4]) {
    return std::any_of(std::begin(addr), std::end(addr), [](__be32 word) { return word != 0; });
}

// The checks every record of fwd_ct4 or fwd_ct6 must pass; adds its name to `actual`.
template <typename Record>
void check_records(const std::vector<Record>& records, std::vector<std::string>& actual,
                   const std::vector<ConntrackEntry>& before, uint64_t inserted_at,
                   uint64_t started, uint64_t finished, uint32_t redirect_ifindex) {
    for (const auto& record : records) {
        const auto name = record.entry.to_string();
        actual.push_back(name);
        EXPECT_TRUE(std::all_of(std::begin(record.key.pad), std::end(record.key.pad),
                                [](auto byte) { return byte == 0; }))
            << name << ": key padding";
        EXPECT_EQ(record.value.flags & ~FWD_CT_FLAG_CLOSING, 0) << name << ": unknown flags";
        const auto via = record.value.container_ifindex;
        EXPECT_TRUE(via == 0 || via == redirect_ifindex) << name << ": container_ifindex " << via;
        EXPECT_TRUE(host_addr_is_concrete(record.value.host_addr))
            << name << ": host address must be concrete";
        const uint64_t seen = record.value.last_seen_ns;
        const bool during_run =
            seen + kCoarseClockSlackNs >= started && seen <= finished + kCoarseClockSlackNs;
        const bool as_inserted = std::any_of(before.begin(), before.end(), [&](const auto& e) {
            return e.to_string() == name && seen == inserted_at - e.age_ns;
        });
        EXPECT_TRUE(during_run || as_inserted)
            << name << ": last_seen_ns " << seen << " is neither the inserted time nor "
            << "within the run [" << started << ", " << finished << "]";
    }
}

}  // namespace

void check_conntrack(const BpfDatapath& datapath, const std::vector<ConntrackEntry>& want,
                     const std::vector<ConntrackEntry>& before, uint64_t inserted_at,
                     uint64_t started, uint64_t finished, uint32_t redirect_ifindex) {
    std::vector<std::string> expected;
    expected.reserve(want.size());
    for (const auto& entry : want) {
        expected.push_back(entry.to_string());
    }
    std::vector<std::string> actual;
    check_records(datapath.conntrack(), actual, before, inserted_at, started, finished,
                  redirect_ifindex);
    check_records(datapath.conntrack6(), actual, before, inserted_at, started, finished,
                  redirect_ifindex);
    std::sort(expected.begin(), expected.end());
    std::sort(actual.begin(), actual.end());
    EXPECT_EQ(actual, expected) << "fwd_ct4 and fwd_ct6 contents";
}

}  // namespace fwd::test
