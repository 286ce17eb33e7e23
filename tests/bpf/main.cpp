// gtest main of fwd_bpf_tests: moves the process into its private network namespace first
// (see support/bpf_netns.h). Fixtures skip when not root and fail when the setup failed.
#include <gtest/gtest.h>

#include <cstdio>

#include "support/bpf_netns.h"

int main(int argc, char** argv) {
    testing::InitGoogleTest(&argc, argv);
    const auto& netns = fwd::test::BpfNetns::enter();
    if (netns.state != fwd::test::BpfNetns::State::Ready) {
        std::fprintf(stderr, "fwd_bpf_tests: no private network namespace: %s\n",
                     netns.detail.c_str());
    }
    return RUN_ALL_TESTS();
}
