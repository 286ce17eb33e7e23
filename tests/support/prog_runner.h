// Runs a loaded TC or XDP program on one packet with BPF_PROG_TEST_RUN and returns its verdict
// and the packet as the program left it. The skb gets the device of ctx.ifindex (> 1) or
// loopback, the XDP frame the receive queue of ctx.ingress_ifindex (or loopback's), in the
// calling process's network namespace (see bpf_netns.h).
#pragma once

#include <linux/bpf.h>

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <vector>

struct bpf_object;

namespace fwd::test {

struct ProgRun {
    int err = 0;          // 0, or the errno of a failed BPF_PROG_TEST_RUN (the program did not run)
    uint32_t retval = 0;  // the program's return value: TC_ACT_*
    std::vector<uint8_t> data;  // the packet after the program
    __sk_buff ctx{};            // the context after the program
    uint32_t duration_ns = 0;   // kernel-measured mean time per repetition

    [[nodiscard]] bool ok() const { return err == 0; }
    [[nodiscard]] std::string error_message() const;
};

// One run of an XDP program. BPF_PROG_TEST_RUN hands back the metadata area (what the program
// put in front of the frame with bpf_xdp_adjust_meta) together with the frame; they are split.
struct XdpRun {
    int err = 0;          // 0, or the errno of a failed BPF_PROG_TEST_RUN (the program did not run)
    uint32_t retval = 0;  // the program's return value: XDP_*
    std::vector<uint8_t> meta;  // the XDP metadata in front of the frame, empty if none
    std::vector<uint8_t> data;  // the frame after the program
    xdp_md ctx{};               // the context after the program (offsets into meta + data)

    [[nodiscard]] bool ok() const { return err == 0; }
    [[nodiscard]] std::string error_message() const;
};

// The checksum state of the skb a run builds.
enum class SkbChecksum {
    None,  // CHECKSUM_NONE, the BPF_PROG_TEST_RUN default
    // CHECKSUM_COMPLETE over the input, as from a NIC; the kernel fails the run with EBADMSG if
    // the program leaves skb->csum inconsistent with the packet
    // (BPF_F_TEST_SKB_CHECKSUM_COMPLETE, Linux 6.11+; older kernels refuse it with EINVAL).
    Complete,
};

// For gtest messages: "CHECKSUM_NONE" / "CHECKSUM_COMPLETE".
void PrintTo(SkbChecksum csum, std::ostream* os);

class ProgRunner {
public:
    explicit ProgRunner(int prog_fd) : prog_fd_(prog_fd) {}

    // A value-initialised TC context whose skb arrives on device `ifindex`.
    [[nodiscard]] static __sk_buff tc_ctx(int ifindex);

    // Runs the program `repeat` times on the same skb (later runs see earlier runs' writes).
    [[nodiscard]] ProgRun run(std::span<const uint8_t> packet, const __sk_buff& ctx,
                              uint32_t repeat = 1, SkbChecksum csum = SkbChecksum::None) const;

    // An XDP context for a frame of `frame_size` bytes without metadata, received on device
    // `ingress_ifindex` (its receive queue 0).
    [[nodiscard]] static xdp_md xdp_ctx(int ingress_ifindex, size_t frame_size);

    // Runs an XDP program once on `frame` and returns the frame and metadata it left.
    [[nodiscard]] XdpRun run_xdp(std::span<const uint8_t> frame, const xdp_md& ctx) const;

    // Runs an XDP program once on `frame` in live-frame mode (BPF_F_TEST_XDP_LIVE_FRAMES, Linux
    // 5.18+): a frame it passes is built into an skb, metadata included, and received by the
    // device of ctx.ingress_ifindex for real (TC ingress, then the stack); nothing is returned.
    // Returns 0 or the errno of the failed run.
    [[nodiscard]] int run_xdp_live(std::span<const uint8_t> frame, const xdp_md& ctx) const;

private:
    int prog_fd_;
};

// Attaches a TC program at the ingress of a device of this namespace while it lives, so frames
// the device receives run through it for real. Removes exactly what it added: the filter, and
// the clsact qdisc only if it created it.
class TcIngressHook {
public:
    static std::unique_ptr<TcIngressHook> attach(int ifindex, int prog_fd, std::string* error);

    TcIngressHook(const TcIngressHook&) = delete;
    TcIngressHook& operator=(const TcIngressHook&) = delete;
    ~TcIngressHook();

private:
    TcIngressHook(int ifindex, bool created_qdisc)
        : ifindex_(ifindex), created_qdisc_(created_qdisc) {}

    int ifindex_;
    bool created_qdisc_;
};

// Clears the pin path of every map of an opened, not yet loaded object, so that loading it
// creates private maps and writes nothing under /sys/fs/bpf (the maps are LIBBPF_PIN_BY_NAME).
// Returns 0 or a negative errno.
[[nodiscard]] int unpin_all_maps(bpf_object* obj);

}  // namespace fwd::test
