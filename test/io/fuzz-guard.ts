// Installed on import, before anything else the fuzz child imports (fuzz-child.ts imports it first), so
// libraries that keep their own reference to a constructor (fflate's `u8 = Uint8Array`) get the guarded one:
// while armed, an allocation of more than 64 MB is refused and remembered. The files fuzzed are a few KB,
// so such a size was a lie the reader trusted.
const ALLOCATION_LIMIT = 64 * 2 ** 20;

let allocation: string | undefined;
let call = "";
/** Allocations are checked only while a case runs (featurelab's start-up may legitimately allocate more). */
let armed = false;

/** Arms the guard for one call of a case (its name goes in the report). */
export function arm(name: string): void {
  armed = true;
  call = name;
}

/** Disarms it; returns the refused allocation, if there was one since the last reset. */
export function disarm(): string | undefined {
  armed = false;
  return allocation;
}

export function resetGuard(): void {
  allocation = undefined;
}

function guardAllocations(): void {
  const refuse = (what: string, bytes: number) => {
    if (!armed || !(bytes > ALLOCATION_LIMIT)) return;
    allocation ??= `${call}: ${what} of ${bytes} bytes`;
    throw new RangeError(`fuzz: refused ${what} of ${bytes} bytes`);
  };
  const ctors = [ArrayBuffer, SharedArrayBuffer, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];
  for (const C of ctors) {
    const size = "BYTES_PER_ELEMENT" in C ? (C as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT : 1;
    const guarded: any = new Proxy(C, {
      construct(target, args, newTarget) {
        if (typeof args[0] === "number") refuse(`new ${C.name}(${args[0]})`, args[0] * size);
        return Reflect.construct(target, args, newTarget === guarded ? target : newTarget);
      },
    });
    Object.defineProperty(C.prototype, "constructor", { value: guarded, writable: true, configurable: true });
    (globalThis as any)[C.name] = guarded;
  }
  for (const name of ["alloc", "allocUnsafe", "allocUnsafeSlow"] as const) {
    const original = Buffer[name] as (...a: any[]) => Buffer;
    (Buffer as any)[name] = (n: number, ...rest: unknown[]) => (refuse(`Buffer.${name}(${n})`, n), original.call(Buffer, n, ...rest));
  }
  const grow = WebAssembly.Memory.prototype.grow;
  WebAssembly.Memory.prototype.grow = function (pages: number) {
    refuse(`WebAssembly memory grow by ${pages} pages`, pages * 65536);
    return grow.call(this, pages);
  };
}


guardAllocations();
