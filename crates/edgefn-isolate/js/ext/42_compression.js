// 42_compression.js
//
// CompressionStream and DecompressionStream (WHATWG Compression §5, §6): gzip, deflate and
// deflate-raw, transform streams over a host codec (flate2).

// Compression §5 "compress and enqueue a chunk" / §6 "decompress and enqueue a chunk".
function codecEnqueueChunk(codecId, controller, chunk, context) {
  const bytes = bufferSourceView(chunk);
  if (bytes === null) {
    throw new TypeErrorCtor(`${context}: the chunk is not an ArrayBuffer or ArrayBufferView`);
  }
  const output = host.codecWrite(codecId, bytes);
  if (typedArrayByteLength(output) > 0) transformStreamDefaultControllerEnqueue(controller, output);
}

// "compress flush and enqueue" / "decompress flush and enqueue"
function codecFlushAndEnqueue(codecId, controller) {
  const output = host.codecFinish(codecId);
  if (typedArrayByteLength(output) > 0) transformStreamDefaultControllerEnqueue(controller, output);
}

const compressionStreamClasses = once(() => {
  const define = (name, decompress) => {
    const Class = {
      [name]: class {
        #t; // transform stream state

        constructor(format) {
          requireArguments(arguments.length, 1, name);
          const codecId = host.codecCreate(toDOMString(format), decompress);
          this.#t = createTransformStreamState(
            (controller, chunk) => codecEnqueueChunk(codecId, controller, chunk, name),
            (controller) => codecFlushAndEnqueue(codecId, controller),
          );
        }

        get readable() {
          return readableStreamWrapper(this.#t.readable);
        }

        get writable() {
          return writableStreamWrapper(this.#t.writable);
        }
      },
    }[name];
    configureInterface(Class);
    return Class;
  };
  return {
    CompressionStream: define("CompressionStream", false),
    DecompressionStream: define("DecompressionStream", true),
  };
});
