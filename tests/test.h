/*
 * test.h - the smallest test harness that does what we need: named cases,
 * checks that report file:line and keep going, and a runner that runs one
 * case alone when given its name (`test_codec varint_round_trip`).
 *
 *   TEST(varint_round_trip) { CHECK(x == 1); CHECK_EQ_U64(a, b); }
 *   TEST_MAIN(TEST_CASE(varint_round_trip), ...)
 */
#ifndef LODE_TEST_H
#define LODE_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct test_case {
    const char *name;
    void (*fn)(void);
} test_case;

static int test_failures;

#define TEST(name) static void test_##name(void)
#define TEST_CASE(name) {#name, test_##name}

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            test_failures++;                                                           \
        }                                                                              \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                             \
    do {                                                                               \
        uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                   \
        if (check_a_ != check_b_) {                                                    \
            fprintf(stderr, "%s:%d: %s == %s failed: %llu != %llu\n", __FILE__,        \
                    __LINE__, #a, #b, (unsigned long long)check_a_,                    \
                    (unsigned long long)check_b_);                                     \
            test_failures++;                                                           \
        }                                                                              \
    } while (0)

#define CHECK_STR(a, b)                                                                \
    do {                                                                               \
        const char *check_a_ = (a), *check_b_ = (b);                                   \
        if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {               \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__,    \
                    __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",                 \
                    check_b_ ? check_b_ : "(null)");                                   \
            test_failures++;                                                           \
        }                                                                              \
    } while (0)

/* Stop the current case: its later checks would only repeat the failure. */
#define REQUIRE(cond)                                                                  \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: requirement failed: %s\n", __FILE__, __LINE__,     \
                    #cond);                                                            \
            test_failures++;                                                           \
            return;                                                                    \
        }                                                                              \
    } while (0)

static inline int test_run(const test_case *cases, size_t n, int argc, char **argv) {
    size_t ran = 0;
    for (size_t i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0) continue;
        int before = test_failures;
        cases[i].fn();
        ran++;
        fprintf(stderr, "%s %s\n", test_failures == before ? "ok  " : "FAIL", cases[i].name);
    }
    if (ran == 0) {
        fprintf(stderr, "no test case named %s\n", argc > 1 ? argv[1] : "(none)");
        return 2;
    }
    return test_failures ? 1 : 0;
}

#define TEST_MAIN(...)                                                                 \
    int main(int argc, char **argv) {                                                  \
        static const test_case cases_[] = {__VA_ARGS__};                               \
        return test_run(cases_, sizeof cases_ / sizeof cases_[0], argc, argv);         \
    }

/* A deterministic generator for randomized tests (xorshift64*): the same seed
 * gives the same cases on every machine. */
static inline uint64_t test_rand(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

#endif /* LODE_TEST_H */
