// 29_extension.js
//
// The extension: the part of the Web layer a plain request and response never
// touch (ReadableStream and byte streams, WritableStream, TransformStream,
// pipes, queuing strategies, encoding and compression streams, Blob/File/
// FormData, structuredClone, MessageChannel, crypto.subtle, URLPattern). Its
// files (js/ext) are compiled to bytecode of their own and loaded into an
// isolate the first time one of its interfaces is used, which keeps them out
// of every cold start and out of every idle tenant's memory that does not use
// them.
//
// The extension sees the core's bindings through extensionScope() (generated
// by build.rs: every core name it uses, the `let`s among them through
// getters); the core reaches the extension through the stubs below, and its
// globals are exposed here, lazily.

let extensionExports = null;

function extension() {
  if (extensionExports === null) {
    extensionExports = host.loadExtension()(extensionScope());
  }
  return extensionExports;
}

// A core name for a function of the extension: the first call loads it.
function forwardToExtension(name) {
  return (...args) => ReflectApply(extension()[name], undefined, args);
}

// Predicates about values only the extension makes answer without loading it.
function isReadableStream(value) {
  return extensionExports !== null && extensionExports.isReadableStream(value);
}

function isWritableStream(value) {
  return extensionExports !== null && extensionExports.isWritableStream(value);
}

function isFormData(value) {
  return extensionExports !== null && extensionExports.isFormData(value);
}

function blobInternals(value) {
  return extensionExports === null ? null : extensionExports.blobInternals(value);
}

const acquireReadableStreamDefaultReader = forwardToExtension("acquireReadableStreamDefaultReader");
const readableStreamCancel = forwardToExtension("readableStreamCancel");
const readableStreamClose = forwardToExtension("readableStreamClose");
const readableStreamDefaultReaderRead = forwardToExtension("readableStreamDefaultReaderRead");
const readableStreamDefaultReaderRelease = forwardToExtension("readableStreamDefaultReaderRelease");
const readableStreamReadAllBytes = forwardToExtension("readableStreamReadAllBytes");
const readableStreamSourceClose = forwardToExtension("readableStreamSourceClose");
const readableStreamSourceEnqueue = forwardToExtension("readableStreamSourceEnqueue");
const readableStreamSourceError = forwardToExtension("readableStreamSourceError");
const readableStreamStateOf = forwardToExtension("readableStreamStateOf");
const readableStreamTee = forwardToExtension("readableStreamTee");
const readableStreamWrapper = forwardToExtension("readableStreamWrapper");
const resolvedUndefined = forwardToExtension("resolvedUndefined");
const writableStreamStateOf = forwardToExtension("writableStreamStateOf");
const formDataEntriesOf = forwardToExtension("formDataEntriesOf");
const createBlob = forwardToExtension("createBlob");
const byteStreamOps = forwardToExtension("byteStreamOps");
const pipeOps = forwardToExtension("pipeOps");
const structuredCloneOps = forwardToExtension("structuredCloneOps");
const blobClasses = forwardToExtension("blobClasses");
const formDataOps = forwardToExtension("formDataOps");
const subtleCrypto = forwardToExtension("subtleCrypto");

// HTML §2.7.10 structuredClone(value, options): the extension's, with this
// function's name and length.
function structuredClone(value, options = undefined) {
  return ReflectApply(extension().structuredClone, undefined, arguments);
}
exposeOperation("structuredClone", structuredClone);

const streamClasses = forwardToExtension("streamClasses");

for (const [name, getValue] of [
  ["ReadableStream", () => streamClasses().ReadableStream],
  ["ReadableStreamDefaultReader", () => streamClasses().ReadableStreamDefaultReader],
  ["ReadableStreamDefaultController", () => streamClasses().ReadableStreamDefaultController],
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
