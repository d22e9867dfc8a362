{
  "variables": {
    "core_sources": [
      "native/core/clock.cc",
      "native/core/error.cc",
      "native/core/sock.cc",
      "native/core/control.cc",
      "native/core/probe_response.cc",
      "native/core/probe_throughput.cc",
      "native/core/probe_crr.cc",
      "native/core/probe_stream.cc",
      "native/core/endpoint.cc"
    ],
    "common_cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-fexceptions", "-std=c++17"]
  },
  "targets": [
    {
      "target_name": "umlperf",
      "sources": [
        "<@(core_sources)",
        "native/napi/registry.cc",
        "native/napi/job.cc",
        "native/napi/options.cc",
        "native/napi/probes.cc",
        "native/napi/endpoint_wrap.cc",
        "native/core/tap.cc",
        "native/core/unix_dgram.cc",
        "native/napi/net.cc",
        "native/napi/addon.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["<@(common_cflags)"]
    },
    {
      "target_name": "umlperf-endpoint",
      "type": "executable",
      "sources": ["<@(core_sources)", "native/endpoint_main.cc"],
      "defines": ["UMLPERF_NO_GETADDRINFO"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["<@(common_cflags)"],
      "ldflags": ["-static", "-pthread"]
    },
    {
      "target_name": "umlperf-fpu",
      "type": "shared_library",
      "product_extension": "so",
      "sources": ["native/preload/fpu_adapter.c"],
      "cflags_c": ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "libraries": ["-ldl"]
    },
    {
      "target_name": "umlperf-regset-check",
      "type": "executable",
      "sources": ["native/tools/regset_check.c"],
      "cflags_c": ["-O2", "-std=gnu11", "-Wall", "-Wextra"]
    },
    {
      "target_name": "umlperf-flood",
      "type": "executable",
      "sources": ["native/tools/flood.c"],
      "cflags_c": ["-O2", "-std=gnu11", "-Wall", "-Wextra"],
      "ldflags": ["-static"]
    },
    {
      "target_name": "umlperf-fpcheck",
      "type": "executable",
      "sources": ["native/tools/fpcheck.c"],
      "cflags_c": ["-O2", "-std=gnu11", "-Wall", "-Wextra"],
      "ldflags": ["-static", "-pthread"]
    }
  ]
}
