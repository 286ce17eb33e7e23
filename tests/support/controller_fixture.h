// A Controller over an in-memory data plane and a temporary state dir.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "fwd/ctl/controller.h"
#include "fwd/ctl/spec.h"
#include "support/fake_datapath.h"

namespace fwd::ctl {

class ControllerTest : public ::testing::Test {
protected:
    static constexpr const char* kCgroup = "/sys/fs/cgroup/unified/test";

    void SetUp() override {
        char pattern[] = "/tmp/fwd-unit-XXXXXX";
        ASSERT_NE(mkdtemp(pattern), nullptr);
        dir_ = pattern;
        auto store = StateStore::open(dir_);
        ASSERT_TRUE(store) << store.error().message;
        store_.emplace(std::move(*store));
        controller_.emplace(datapath_, *store_, probe_, ControllerOptions{"/pins", {49000, 49002}});
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    static HostSpec host(const char* text) { return parse_host_spec(text).value(); }
    static ContainerSpec container(const char* text) { return parse_container_spec(text).value(); }

    Result<CommandOutput> add(const char* h, const char* c, const std::string& name = "",
                              const std::vector<std::string>& allow = {}) {
        AddOptions options;
        options.name = name;
        options.allow = parse_allow_list(allow).value();
        return controller_->add(host(h), container(c), options);
    }
    std::string list() { return controller_->list(false).value().text; }

    // What a crash between the map and the state updates leaves: the mapping on port 81 lost,
    // the first one retargeted, and a stray one on port 82 that the state never had.
    void drift_maps() {
        std::erase_if(datapath_.mappings, [](const Mapping& m) { return m.host_port == 81; });
        datapath_.mappings[0].container_port = 9999;
        Mapping stray;
        stray.host_port = 82;
        stray.container_addr = Ipv4Addr::from_octets(10, 0, 0, 9);
        stray.container_port = 1;
        stray.id = 77;
        datapath_.mappings.push_back(stray);
    }

    struct Publish {
        std::vector<std::string> specs;
        bool all = false;
        std::vector<std::string> expose;
        std::vector<std::string> env;
        bool dry_run = false;
        bool json = false;
        std::string ip6;  // the container's IPv6 address (--ip6); empty: none
        std::vector<std::string> allow;
    };
    // `ip` empty: an IPv6-only container (no --ip).
    Result<CommandOutput> publish(const std::string& name, const std::string& ip, const Publish& args) {
        PublishOptions options;
        options.name = name;
        if (!ip.empty()) options.ip = parse_ipv4(ip).value();
        if (!args.ip6.empty()) options.ip6 = parse_ipv6(args.ip6).value();
        options.allow = parse_allow_list(args.allow).value();
        for (const auto& spec : args.specs) {
            auto requests = parse_publish_spec(spec).value();
            options.publish.insert(options.publish.end(), requests.begin(), requests.end());
        }
        for (const auto& spec : args.expose) {
            auto ports = parse_expose_spec(spec).value();
            options.expose.insert(options.expose.end(), ports.begin(), ports.end());
        }
        for (const auto& text : args.env) options.env.push_back(parse_env(text).value());
        options.publish_all = args.all;
        options.dry_run = args.dry_run;
        options.json = args.json;
        return controller_->publish(options);
    }

    std::string dir_;
    test::FakeDatapath datapath_;
    test::FakeProbe probe_;
    std::optional<StateStore> store_;
    std::optional<Controller> controller_;
};

}  // namespace fwd::ctl
