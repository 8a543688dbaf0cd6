// ext/99_interfaces.js
//
// The extension's interface objects on the global object, by name: the
// core's 29_extension.js exposes each lazily and asks here on first access.

function interfaceNamed(name) {
  switch (name) {
    case "ReadableStream":
      return streamClasses().ReadableStream;
    case "ReadableStreamDefaultReader":
      return streamClasses().ReadableStreamDefaultReader;
    case "ReadableStreamDefaultController":
      return streamClasses().ReadableStreamDefaultController;
    case "Blob":
      return blobClasses().Blob;
    case "File":
      return blobClasses().File;
    case "FormData":
      return formDataOps().formDataClass();
    case "ReadableByteStreamController":
      return byteStreamOps().byteStreamClasses().ReadableByteStreamController;
    case "ReadableStreamBYOBRequest":
      return byteStreamOps().byteStreamClasses().ReadableStreamBYOBRequest;
    case "ReadableStreamBYOBReader":
      return byteStreamOps().byteStreamClasses().ReadableStreamBYOBReader;
    case "MessageChannel":
      return messagingOps().messagingClasses().MessageChannel;
    case "MessagePort":
      return messagingOps().messagingClasses().MessagePort;
    case "MessageEvent":
      return messagingOps().messageEventClass();
    case "WritableStream":
      return writableStreamOps().writableStreamClasses().WritableStream;
    case "WritableStreamDefaultWriter":
      return writableStreamOps().writableStreamClasses().WritableStreamDefaultWriter;
    case "WritableStreamDefaultController":
      return writableStreamOps().writableStreamClasses().WritableStreamDefaultController;
    case "TransformStream":
      return transformStreamOps().transformStreamClasses().TransformStream;
    case "TransformStreamDefaultController":
      return transformStreamOps().transformStreamClasses().TransformStreamDefaultController;
    case "ByteLengthQueuingStrategy":
      return queuingStrategyClasses().ByteLengthQueuingStrategy;
    case "CountQueuingStrategy":
      return queuingStrategyClasses().CountQueuingStrategy;
    case "TextEncoderStream":
      return encodingStreamClasses().TextEncoderStream;
    case "TextDecoderStream":
      return encodingStreamClasses().TextDecoderStream;
    case "CompressionStream":
      return compressionStreamClasses().CompressionStream;
    case "DecompressionStream":
      return compressionStreamClasses().DecompressionStream;
  }
  return undefined;
}
