// 29_extension.js
//
// The extension: the part of the Web layer most functions never touch
// (crypto.subtle, Blob/File/FormData, structuredClone, MessageChannel, byte
// streams (every body stream is one), WritableStream, TransformStream, pipes,
// queuing strategies, encoding and compression streams, URLPattern). Its files (js/ext) are compiled to
// bytecode of their own and loaded into an isolate the first time one of its
// interfaces is used, which keeps them out of every cold start and out of
// every idle tenant's memory.
//
// The extension sees the core's bindings through extensionScope() (generated
// by build.rs: a snapshot of every core name it uses, so the core's lazily
// assigned ones are assigned first); the core reaches the extension through
// the stubs below, and its globals are exposed here, lazily.

let extensionExports = null;

function extension() {
  if (extensionExports === null) {
    // Assign the core's lazily assigned bindings the extension uses: the
    // snapshot copies them.
    domExceptionClass(); // domExceptionInternals
    streamClasses(); // isReadableStream, readableStreamStateOf
    extensionExports = host.loadExtension()(extensionScope());
  }
  return extensionExports;
}

// Predicates about values only the extension makes answer without loading it.
function isWritableStream(value) {
  return extensionExports !== null && extensionExports.isWritableStream(value);
}

function isFormData(value) {
  return extensionExports !== null && extensionExports.isFormData(value);
}

function blobInternals(value) {
  return extensionExports === null ? null : extensionExports.blobInternals(value);
}

function writableStreamStateOf(value) {
  return extension().writableStreamStateOf(value);
}

function formDataEntriesOf(value) {
  return extension().formDataEntriesOf(value);
}

function createBlob(bytes, type) {
  return extension().createBlob(bytes, type);
}

const byteStreamOps = () => extension().byteStreamOps();
const pipeOps = () => extension().pipeOps();
const structuredCloneOps = () => extension().structuredCloneOps();
const blobClasses = () => extension().blobClasses();
const formDataOps = () => extension().formDataOps();
const subtleCrypto = () => extension().subtleCrypto();

// HTML §2.7.10 structuredClone(value, options): the extension's, with this
// function's name and length.
function structuredClone(value, options = undefined) {
  return ReflectApply(extension().structuredClone, undefined, arguments);
}
exposeOperation("structuredClone", structuredClone);

for (const [name, getValue] of [
  ["Blob", () => blobClasses().Blob],
  ["File", () => blobClasses().File],
  ["FormData", () => formDataOps().formDataClass()],
  ["ReadableByteStreamController", () => byteStreamOps().byteStreamClasses().ReadableByteStreamController],
  ["ReadableStreamBYOBRequest", () => byteStreamOps().byteStreamClasses().ReadableStreamBYOBRequest],
  ["ReadableStreamBYOBReader", () => byteStreamOps().byteStreamClasses().ReadableStreamBYOBReader],
  ["MessageChannel", () => extension().messagingOps().messagingClasses().MessageChannel],
  ["MessagePort", () => extension().messagingOps().messagingClasses().MessagePort],
  ["MessageEvent", () => extension().messagingOps().messageEventClass()],
  ["WritableStream", () => extension().writableStreamOps().writableStreamClasses().WritableStream],
  [
    "WritableStreamDefaultWriter",
    () => extension().writableStreamOps().writableStreamClasses().WritableStreamDefaultWriter,
  ],
  [
    "WritableStreamDefaultController",
    () => extension().writableStreamOps().writableStreamClasses().WritableStreamDefaultController,
  ],
  [
    "TransformStream",
    () => extension().transformStreamOps().transformStreamClasses().TransformStream,
  ],
  [
    "TransformStreamDefaultController",
    () =>
      extension().transformStreamOps().transformStreamClasses().TransformStreamDefaultController,
  ],
  [
    "ByteLengthQueuingStrategy",
    () => extension().queuingStrategyClasses().ByteLengthQueuingStrategy,
  ],
  ["CountQueuingStrategy", () => extension().queuingStrategyClasses().CountQueuingStrategy],
  ["TextEncoderStream", () => extension().encodingStreamClasses().TextEncoderStream],
  ["TextDecoderStream", () => extension().encodingStreamClasses().TextDecoderStream],
  ["URLPattern", () => extension().urlPatternClass()],
  ["CompressionStream", () => extension().compressionStreamClasses().CompressionStream],
  ["DecompressionStream", () => extension().compressionStreamClasses().DecompressionStream],
  ["CryptoKey", () => extension().cryptoKeyClass()],
  ["SubtleCrypto", () => extension().subtleCryptoClass()],
]) {
  exposeLazyInterface(name, getValue);
}
