// Output that must read exactly like Docker's: `docker port` and the
// environment `--link` gives a client container.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fwd/ctl/docker_spec.h"
#include "fwd/types.h"

namespace fwd::ctl {

// Lines of `docker port NAME`: "8080/tcp -> 0.0.0.0:49153" for every mapping, sorted in
// natural order (numbers compared by value), as the Docker CLI sorts them. Digits sort before
// '[', so a dual-stack port's "0.0.0.0:8080" line comes before its "[::]:8080" line.
[[nodiscard]] std::vector<std::string> port_lines(const std::vector<Mapping>& mappings);
// Lines of `docker port NAME PORT/PROTO`: "0.0.0.0:49153" for every mapping of that port.
[[nodiscard]] std::vector<std::string> port_lines_for(const std::vector<Mapping>& mappings,
                                                      const ContainerPort& port);

// Natural order: runs of digits compare by numeric value, everything else bytewise.
[[nodiscard]] bool natural_less(const std::string& a, const std::string& b);

// What `docker run --link SERVER:ALIAS` puts in CLIENT's environment, in Docker's order:
// ALIAS_PORT (first exposed port, tcp before udp), per port ALIAS_PORT_<p>_<PROTO> with
// _ADDR/_PORT/_PROTO, _START/_PORT_START/_END/_PORT_END for runs of consecutive ports,
// ALIAS_NAME=/CLIENT/ALIAS, then ALIAS_ENV_<K> for the server's env (HOME and PATH skipped).
// Docker's link env carries the server's IPv4 address only; a server without one (IPv6-only)
// gets empty addresses, as Docker gives them (its IPAddress field is empty then).
struct LinkServer {
    std::optional<Ipv4Addr> ip;
    std::vector<ContainerPort> exposed;
    std::vector<EnvVar> env;
};
[[nodiscard]] std::vector<std::string> link_env(const std::string& client, const std::string& alias,
                                                const LinkServer& server);

}  // namespace fwd::ctl
