// CHECK: aborts on programmer errors (never on user input; use Status for that).
#pragma once

#include <cstdio>
#include <cstdlib>

#define SEMANTIC_CHECK(cond)                                                          \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)
#define CHECK(cond) SEMANTIC_CHECK(cond)
