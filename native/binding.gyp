{
  "targets": [
    {
      "target_name": "featurelab_native",
      "sources": ["addon.cc", "sae_steps.cc", "optimiser.cc", "heap_guard.cc", "lapack.cc", "spd_gates.cc"],
      "cflags_cc": ["-O3", "-march=native", "-fopenmp", "-std=c++17", "-fno-math-errno"],
      "cflags_cc!": ["-fno-exceptions"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-lopenblas", "-ldl"]
    }
  ]
}
