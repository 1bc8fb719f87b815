// The kernel's guard against a cell that fills the JavaScript heap. V8 aborts the process when the
// heap reaches its limit; near it, V8 asks this callback first. The guard gives the heap a little more
// room and raises SIGINT, which stops a running cell the way an interrupt does (node's vm watchdog
// terminates the script), so the kernel can report "out of memory" and live on. Past twice the
// initial limit it gives no more room, and V8 reports out of memory as it would without the guard.
// The initial limit comes back once the heap falls below half of it.
#include "heap_guard.h"

#include <v8.h>

#include <atomic>
#include <csignal>

namespace {

std::atomic<int> hits{0};
std::atomic<double> initial_limit{0};
v8::Isolate* guarded = nullptr;

size_t NearHeapLimit(void*, size_t current_limit, size_t initial) {
  initial_limit = static_cast<double>(initial);
  if (current_limit >= 2 * initial) return current_limit;
  hits++;
  raise(SIGINT);
  return current_limit + initial / 4;
}

napi_value Install(napi_env env, napi_callback_info) {
  if (guarded == nullptr) {
    guarded = v8::Isolate::GetCurrent();
    guarded->AddNearHeapLimitCallback(NearHeapLimit, nullptr);
    guarded->AutomaticallyRestoreInitialHeapLimit(0.5);
  }
  napi_value out;
  napi_get_boolean(env, true, &out);
  return out;
}

napi_value Hits(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_int32(env, hits.load(), &out);
  return out;
}

}  // namespace

void AddHeapGuard(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "installHeapGuard", NAPI_AUTO_LENGTH, Install, nullptr, &fn);
  napi_set_named_property(env, exports, "installHeapGuard", fn);
  napi_create_function(env, "heapGuardHits", NAPI_AUTO_LENGTH, Hits, nullptr, &fn);
  napi_set_named_property(env, exports, "heapGuardHits", fn);
}
