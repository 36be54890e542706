// What the layer and attention kernels' loops share: glibc's vector expf, and compilation for the
// baseline, AVX2 and AVX-512, chosen when the library loads.
#pragma once

#include <cmath>

// glibc's vector expf (libmvec), declared so that the loops vectorise it; glibc's own declarations
// appear only under -ffast-math, whose finite-math assumptions we do not want.
extern "C" __attribute__((simd("notinbranch"), const, nothrow)) float expf(float);

#define MUP2_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
