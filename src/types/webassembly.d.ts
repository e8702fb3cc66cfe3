// Node runs WebAssembly, but TypeScript declares it in lib.dom, which a Node project does not load: the part
// gear-seg uses (describers/dam/paeth-rows.ts), as the WebAssembly JavaScript Interface specifies it.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
}
