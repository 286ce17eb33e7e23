// `fwdctl stats --format prometheus`: the text exposition format, checked line by line.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "fwd/ctl/output.h"
#include "fwd/ctl/spec.h"

namespace fwd::ctl {
namespace {

StatsReport sample_report() {
    Mapping web;
    web.host_addr = Ipv4Addr{};
    web.host_port = 80;
    web.proto = Proto::Tcp;
    web.container_addr = Ipv4Addr::from_octets(172, 17, 0, 2);
    web.container_port = 8080;
    web.id = 1;
    web.name = "web";
    Mapping dns = web;
    dns.host_port = 53;
    dns.proto = Proto::Udp;
    dns.container_port = 53;
    dns.id = 2;
    dns.name = "";
    Mapping web6 = web;
    web6.host_addr = Ipv6Addr{};
    web6.container_addr = parse_ipv6("fd00::2").value();
    web6.id = 3;
    StatsReport report;
    report.rows = {{web, {10, 1000, 8, 4000, 2}}, {dns, {1, 60, 1, 90, 1}}, {web6, {7, 700, 6, 600, 5}}};
    report.counters = {{"pass_fragment", 3}, {"drop_not_allowed", 4}, {"err_rewrite", 0},
                       {"nat_in", 11}, {"drop_loopback", 5}};
    report.maps = {{"fwd_svc4", 2, 65536}, {"fwd_ct4", 3, 262144}};
    return report;
}

TEST(PrometheusStats, PrintsEveryFamilyWithItsSamples) {
    const std::string text = format_stats(sample_report(), StatsFormat::Prometheus);
    const std::vector<std::string> expected = {
        R"(fwd_mapping_packets_total{host_ip="0.0.0.0",host_port="80",proto="tcp",container_ip="172.17.0.2",container_port="8080",name="web",direction="in"} 10)",
        R"(fwd_mapping_packets_total{host_ip="0.0.0.0",host_port="80",proto="tcp",container_ip="172.17.0.2",container_port="8080",name="web",direction="out"} 8)",
        R"(fwd_mapping_bytes_total{host_ip="0.0.0.0",host_port="80",proto="tcp",container_ip="172.17.0.2",container_port="8080",name="web",direction="out"} 4000)",
        R"(fwd_mapping_new_flows_total{host_ip="0.0.0.0",host_port="53",proto="udp",container_ip="172.17.0.2",container_port="53",name=""} 1)",
        // IPv6 addresses bare in label values, as `list --json` writes them.
        R"(fwd_mapping_packets_total{host_ip="::",host_port="80",proto="tcp",container_ip="fd00::2",container_port="8080",name="web",direction="in"} 7)",
        R"(fwd_mapping_new_flows_total{host_ip="::",host_port="80",proto="tcp",container_ip="fd00::2",container_port="8080",name="web"} 5)",
        R"(fwd_packets_passed_total{reason="fragment"} 3)",
        R"(fwd_packets_dropped_total{reason="not_allowed"} 4)",
        R"(fwd_packets_dropped_total{reason="loopback"} 5)",
        R"(fwd_errors_total{kind="rewrite"} 0)",
        R"(fwd_events_total{event="nat_in"} 11)",
        R"(fwd_map_entries{map="fwd_ct4"} 3)",
        R"(fwd_map_max_entries{map="fwd_svc4"} 65536)",
    };
    for (const auto& line : expected) {
        EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\nin:\n" << text;
    }
}

// Each family has one HELP and one TYPE line before all of its samples, and every sample
// line is `name{labels} value`.
TEST(PrometheusStats, FollowsTheExpositionFormat) {
    const std::string text = format_stats(sample_report(), StatsFormat::Prometheus);
    const std::regex sample(R"(([a-z_]+)\{([a-z_]+="[^"\\\n]*")(,[a-z_]+="[^"\\\n]*")*\} [0-9]+)");
    const std::regex type(R"(# TYPE ([a-z_]+) (counter|gauge))");
    std::set<std::string> typed;
    std::set<std::string> finished;  // families whose samples have ended
    std::string current;
    size_t samples = 0;
    size_t start = 0;
    while (start < text.size()) {
        const size_t end = text.find('\n', start);
        ASSERT_NE(end, std::string::npos) << "the last line must end in a newline";
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        std::smatch match;
        if (line.rfind("# HELP ", 0) == 0) continue;
        if (std::regex_match(line, match, type)) {
            EXPECT_TRUE(typed.insert(match[1]).second) << "second TYPE line for " << match[1];
            if (!current.empty()) finished.insert(current);
            current = match[1];
            continue;
        }
        ASSERT_TRUE(std::regex_match(line, match, sample)) << "not a sample: " << line;
        EXPECT_EQ(match[1], current) << "sample outside its family: " << line;
        EXPECT_EQ(finished.count(match[1]), 0U) << line;
        ++samples;
    }
    EXPECT_EQ(samples, 3U * 2 + 3U * 2 + 3 + 5 + 2 + 2);
}

TEST(StatsText, PrintsIpv6MappingsBracketedAndJsonBare) {
    const std::string text = format_stats(sample_report(), StatsFormat::Text);
    EXPECT_NE(text.find("[::]:80/tcp -> [fd00::2]:8080"), std::string::npos) << text;
    const std::string json = format_stats(sample_report(), StatsFormat::Json);
    EXPECT_NE(json.find(R"("host_ip": "::")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("container_ip": "fd00::2")"), std::string::npos) << json;
}

}  // namespace
}  // namespace fwd::ctl
