// streams/99_interfaces.js
//
// The stream interface objects on the global object, by name: the core's
// 29_extension.js exposes each lazily and asks here on first access.

function interfaceNamed(name) {
  switch (name) {
    case "ReadableStream":
      return streamClasses().ReadableStream;
    case "ReadableStreamDefaultReader":
      return streamClasses().ReadableStreamDefaultReader;
    case "ReadableStreamDefaultController":
      return streamClasses().ReadableStreamDefaultController;
    case "ReadableByteStreamController":
      return byteStreamOps().byteStreamClasses().ReadableByteStreamController;
    case "ReadableStreamBYOBRequest":
      return byteStreamOps().byteStreamClasses().ReadableStreamBYOBRequest;
    case "ReadableStreamBYOBReader":
      return byteStreamOps().byteStreamClasses().ReadableStreamBYOBReader;
    case "WritableStream":
      return writableStreamOps().writableStreamClasses().WritableStream;
    case "WritableStreamDefaultWriter":
      return writableStreamOps().writableStreamClasses().WritableStreamDefaultWriter;
    case "WritableStreamDefaultController":
      return writableStreamOps().writableStreamClasses().WritableStreamDefaultController;
    case "ByteLengthQueuingStrategy":
      return queuingStrategyClasses().ByteLengthQueuingStrategy;
    case "CountQueuingStrategy":
      return queuingStrategyClasses().CountQueuingStrategy;
  }
  return undefined;
}
