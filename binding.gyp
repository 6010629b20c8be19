{
  # SPIKECUT_DNNL=1 (set by scripts/build-native.mjs when oneDNN is found) selects the oneDNN dense kernels;
  # otherwise the addon compiles its own GEMM/conv with runtime ISA dispatch.
  "variables": {
    "dnnl%": "<!(node -p \"process.env.SPIKECUT_DNNL === '1' ? 1 : 0\")",
    "src%": "<!(node -p \"process.env.SPIKECUT_SRC_DIR || 'native'\")"
  },
  "targets": [
    {
      "target_name": "spikecut",
      "sources": [
        "<(src)/addon.cc",
        "<(src)/kernels.cc",
        "<(src)/layout.cc",
        "<(src)/measure.cc",
        "<(src)/winograd.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=fast", "-Wno-psabi"],
      "ldflags": ["-fopenmp"],
      "conditions": [
        ["dnnl==1", {
          "sources": ["<(src)/dense_dnnl.cc"],
          "defines": ["SPIKECUT_DNNL=1"],
          "libraries": ["-ldnnl"]
        }, {
          "sources": ["<(src)/dense_fallback.cc"]
        }]
      ]
    }
  ]
}
