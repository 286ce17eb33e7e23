#include "fwd/loader/datapath.h"

namespace fwd::loader {

const char* to_string(AttachMode mode) {
    return mode == AttachMode::Xdp ? "xdp" : "tc";
}

const char* to_string(XdpMode mode) {
    switch (mode) {
        case XdpMode::Native:
            return "native";
        case XdpMode::Generic:
            return "generic";
        case XdpMode::None:
            break;
    }
    return "none";
}

}  // namespace fwd::loader
