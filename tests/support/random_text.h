// Deterministic pseudo-random text for the bounded fuzz smoke tests of the spec parsers: a fixed
// seed gives the same inputs on every run. Each test's generator picks among these pieces and
// adds the grammar-shaped input of its own parsers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace fwd::test {

// What one parser family's random text is made of.
struct TextAlphabet {
    std::vector<std::string> fragments;  // pieces that hit the grammar's edges
    std::string bytes;                   // random_bytes() draws from these, NUL included
    std::string long_fill;               // very_long() repeats one of these
};

class RandomText {
public:
    RandomText(std::uint32_t seed, TextAlphabet alphabet)
        : rng_(seed), alphabet_(std::move(alphabet)) {}

    // A number in [0, bound).
    std::size_t pick(std::size_t bound) {
        return std::uniform_int_distribution<std::size_t>(0, bound - 1)(rng_);
    }

    // A decimal number in [0, bound].
    std::string number(std::uint32_t bound) {
        return std::to_string(std::uniform_int_distribution<std::uint32_t>(0, bound)(rng_));
    }

    std::string random_bytes(std::size_t length) {
        std::string out;
        for (std::size_t i = 0; i < length; ++i) {
            out += alphabet_.bytes[pick(alphabet_.bytes.size())];
        }
        return out;
    }

    // Rare, so the whole test stays fast; long enough to catch quadratic or unbounded work.
    std::string very_long() {
        if (pick(100) != 0) {
            return fragment_soup();
        }
        std::string out(1000 + pick(10000), alphabet_.long_fill[pick(alphabet_.long_fill.size())]);
        out[pick(out.size())] = ':';
        return out;
    }

    std::string fragment_soup() {
        std::string out;
        const auto count = 1 + pick(6);
        for (std::size_t i = 0; i < count; ++i) {
            out += fragment();
        }
        return out;
    }

    // One time in eight, one byte of `text` replaced by the first byte of a fragment.
    std::string maybe_mutate(std::string text) {
        if (!text.empty() && pick(8) == 0) {
            text[pick(text.size())] = fragment().front();
        }
        return text;
    }

private:
    const std::string& fragment() { return alphabet_.fragments[pick(alphabet_.fragments.size())]; }

    std::mt19937 rng_;
    TextAlphabet alphabet_;
};

}  // namespace fwd::test
