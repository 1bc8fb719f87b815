// installHeapGuard() / heapGuardHits() on the addon's exports (heap_guard.cc).
#pragma once
#include <node_api.h>

void AddHeapGuard(napi_env env, napi_value exports);
